package discordtest

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// Interaction types.
const (
	interactionPing          = 1
	interactionCommand       = 2
	interactionComponent     = 3
	interactionAutocomplete  = 4
	interactionModalSubmit   = 5
	contextGuild             = 0
	contextBotDM             = 1
	componentButton          = 2
	componentStringSelect    = 3
	optionSubcommand         = 1
	optionSubcommandGroup    = 2
	optionString             = 3
	optionInteger            = 4
	optionBoolean            = 5
	optionUser               = 6
	optionNumber             = 10
	attachmentSizeLimitBytes = 10 << 20
)

// interaction is an interaction the fake sent and its response state.
type interaction struct {
	id, token          string
	typ                int
	guildID, channelID string
	user               User
	messageID          string // the message a component sat on
	acked              bool
	ackType            int
	originalID         string // the @original message
	deferred           bool   // type 5 response not filled yet
}

// newInteractionLocked builds an INTERACTION_CREATE payload (API v10 shape)
// and remembers the interaction. msg is the "message" field, if any.
func (s *Server) newInteractionLocked(typ int, guildID, channelID string, u User, roles []string, data map[string]any, locale string, msg map[string]any) (*interaction, map[string]any) {
	s.knowUserLocked(u)
	if locale == "" {
		locale = "en-US"
	}
	id := s.snowflakeLocked()
	token := "aW50ZXJhY3Rpb246" + id + ":" + randomHex(32)
	p := map[string]any{
		"id": id, "application_id": s.opts.AppID, "type": typ, "data": data, "token": token,
		"version": 1, "locale": locale, "app_permissions": defaultAppPermissions, "entitlements": []any{},
		"attachment_size_limit": attachmentSizeLimitBytes,
	}
	if guildID != "" {
		if channelID == "" {
			s.problemLocked("interaction in guild %s without a channel id", guildID)
		}
		s.guildChannelLocked(guildID, channelID)
		s.setMemberLocked(guildID, u, roles)
		p["guild_id"] = guildID
		p["guild_locale"] = "en-US"
		p["guild"] = map[string]any{"id": guildID, "locale": "en-US", "features": []any{}}
		member := memberJSON(u, roles)
		member["permissions"] = strconv.FormatInt(s.perms[guildID+"/"+u.ID], 10)
		p["member"] = member
		p["channel"] = map[string]any{"id": channelID, "type": 0, "guild_id": guildID, "name": "general",
			"nsfw": false, "flags": 0, "permissions": defaultAppPermissions}
		p["context"] = contextGuild
		p["authorizing_integration_owners"] = map[string]any{"0": guildID}
	} else {
		if channelID == "" {
			channelID = s.dmChannelLocked(u.ID)
		}
		p["user"] = userJSON(u)
		p["channel"] = map[string]any{"id": channelID, "type": 1, "flags": 0, "last_message_id": nil,
			"recipients": []any{userJSON(u)}}
		p["context"] = contextBotDM
		p["authorizing_integration_owners"] = map[string]any{"0": "0"}
	}
	p["channel_id"] = channelID
	if msg != nil {
		p["message"] = msg
	}
	it := &interaction{id: id, token: token, typ: typ, guildID: guildID, channelID: channelID, user: u}
	s.interactions[id] = it
	s.byToken[token] = it
	return it, p
}

// Command sends an APPLICATION_COMMAND interaction for the chat input command
// name (registered through PUT .../commands; an unregistered one is a
// Problem), with subcommand sub ("" for none) and options. An option value's
// Go type gives its option type: string 3, integer kinds 4, bool 5,
// UserOption 6, float kinds 10. Options follow the registered command's
// order and are checked against it. guildID "" means the bot's DM with member
// (channelID "" then means that DM channel).
func (s *Server) Command(guildID, channelID string, member User, roles []string, name string, sub string, options map[string]any, locale string) (id, token string) {
	s.mu.Lock()
	cmd := s.findCommandLocked(guildID, name)
	data := map[string]any{"name": name, "type": 1}
	var schema []any
	if cmd == nil {
		s.problemLocked("command /%s: not registered (global or in guild %q)", name, guildID)
		data["id"] = s.snowflakeLocked()
	} else {
		data["id"] = cmd["id"]
		schema = arrOf(cmd["options"])
		if g := strOf(cmd["guild_id"]); g != "" {
			data["guild_id"] = g
		}
		if guildID == "" && !allowsDM(cmd) {
			s.problemLocked("command /%s: used in a DM but registered without the BOT_DM context", name)
		}
	}
	opts, resolved := s.commandOptionsLocked(guildID, name, sub, options, schema, cmd != nil)
	if len(opts) > 0 {
		data["options"] = opts
	}
	if len(resolved) > 0 {
		data["resolved"] = resolved
	}
	it, p := s.newInteractionLocked(interactionCommand, guildID, channelID, member, roles, data, locale, nil)
	s.mu.Unlock()
	s.Dispatch("INTERACTION_CREATE", p)
	return it.id, it.token
}

func allowsDM(cmd map[string]any) bool {
	if cmd["dm_permission"] == false {
		return false
	}
	ctxs, set := cmd["contexts"]
	if !set || ctxs == nil {
		return true
	}
	for _, c := range arrOf(ctxs) {
		if n, _ := num(c); n == contextBotDM {
			return true
		}
	}
	return false
}

func findOption(schema []any, name string) map[string]any {
	for _, o := range schema {
		if om := objOf(o); strOf(om["name"]) == name {
			return om
		}
	}
	return nil
}

func (s *Server) commandOptionsLocked(guildID, name, sub string, options map[string]any, schema []any, known bool) ([]any, map[string]any) {
	leaf := schema
	hasSubs := false
	for _, o := range schema {
		if t, _ := num(objOf(o)["type"]); t == optionSubcommand || t == optionSubcommandGroup {
			hasSubs = true
		}
	}
	if sub != "" {
		so := findOption(schema, sub)
		if t, _ := num(so["type"]); known && (so == nil || t != optionSubcommand) {
			s.problemLocked("command /%s: no subcommand %q", name, sub)
		}
		leaf = arrOf(so["options"])
	} else if hasSubs {
		s.problemLocked("command /%s: invoked without one of its subcommands", name)
	}

	// Schema order first, then the rest by name.
	var names []string
	for _, o := range leaf {
		if n := strOf(objOf(o)["name"]); options[n] != nil {
			names = append(names, n)
		}
	}
	var rest []string
	for n := range options {
		if !slices.Contains(names, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)

	out := []any{}
	users, members := map[string]any{}, map[string]any{}
	for _, n := range names {
		typ, value := optionValue(options[n])
		if typ == 0 {
			s.problemLocked("command /%s: option %q has unsupported Go type %T", name, n, options[n])
			typ, value = optionString, fmt.Sprint(options[n])
		}
		if known {
			so := findOption(leaf, n)
			st, _ := num(so["type"])
			switch {
			case so == nil:
				s.problemLocked("command /%s %s: no option %q registered", name, sub, n)
			case int(st) != typ:
				s.problemLocked("command /%s %s: option %q registered with type %d, sent as %d", name, sub, n, st, typ)
			}
		}
		out = append(out, map[string]any{"name": n, "type": typ, "value": value})
		if typ == optionUser {
			uid := value.(string)
			users[uid] = userJSON(s.userLocked(uid))
			if roles, found := s.members[guildID][uid]; found && guildID != "" {
				m := memberJSON(s.userLocked(uid), roles)
				delete(m, "user")
				members[uid] = m
			}
		}
	}
	for _, o := range leaf {
		om := objOf(o)
		if om["required"] == true && options[strOf(om["name"])] == nil {
			s.problemLocked("command /%s %s: required option %q missing", name, sub, strOf(om["name"]))
		}
	}
	resolved := map[string]any{}
	if len(users) > 0 {
		resolved["users"] = users
	}
	if len(members) > 0 {
		resolved["members"] = members
	}
	if sub != "" {
		return []any{map[string]any{"name": sub, "type": optionSubcommand, "options": out}}, resolved
	}
	return out, resolved
}

// optionValue maps a Go value to an option type and JSON value; type 0 when
// unsupported.
func optionValue(v any) (int, any) {
	switch x := v.(type) {
	case UserOption:
		return optionUser, x.ID
	case *UserOption:
		return optionUser, x.ID
	case string:
		return optionString, x
	case bool:
		return optionBoolean, x
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return optionInteger, x
	case float32, float64:
		return optionNumber, x
	}
	return 0, nil
}

// Press sends a MESSAGE_COMPONENT interaction: a click on the button
// customID of the stored message messageID, or (values != nil) a choice in
// its string select. The interaction carries the message as the fake stores
// it. Pressing a missing or disabled component, or choosing values the select
// does not offer, is a Problem. channelID "" means the message's channel.
func (s *Server) Press(guildID, channelID string, member User, roles []string, messageID, customID string, values []string, locale string) (id, token string) {
	s.mu.Lock()
	m := s.store[messageID]
	var msg map[string]any
	if m == nil || m.deleted {
		s.problemLocked("press %q: no message %s", customID, messageID)
		msg = map[string]any{"id": messageID, "channel_id": channelID}
	} else {
		msg = clone(m.obj).(map[string]any)
		if channelID == "" {
			channelID = m.channelID
		}
		if m.ephemeralTo != "" && m.ephemeralTo != member.ID {
			s.problemLocked("press %q: message %s is ephemeral to user %s, not %s", customID, messageID, m.ephemeralTo, member.ID)
		}
	}
	data := map[string]any{"custom_id": customID, "component_type": componentButton}
	if values != nil {
		data["component_type"] = componentStringSelect
		data["values"] = slices.Clone(values)
	}
	if m != nil {
		s.checkPressLocked(m, customID, values, data)
	}
	it, p := s.newInteractionLocked(interactionComponent, guildID, channelID, member, roles, data, locale, msg)
	it.messageID = messageID
	s.mu.Unlock()
	s.Dispatch("INTERACTION_CREATE", p)
	return it.id, it.token
}

func (s *Server) checkPressLocked(m *storedMsg, customID string, values []string, data map[string]any) {
	var comp map[string]any
	walkComponents(m.obj["components"], func(c map[string]any) {
		if comp == nil && strOf(c["custom_id"]) == customID {
			comp = c
		}
	})
	if comp == nil {
		s.problemLocked("press %q: message %s has no component with that custom_id", customID, m.id)
		return
	}
	t, _ := num(comp["type"])
	switch {
	case comp["disabled"] == true:
		s.problemLocked("press %q on message %s: the component is disabled", customID, m.id)
	case values == nil && t != componentButton:
		s.problemLocked("press %q on message %s: component type %d is not a button", customID, m.id, t)
	case values != nil && !isSelect(t):
		s.problemLocked("choice in %q on message %s: component type %d is not a select", customID, m.id, t)
	}
	if values == nil || !isSelect(t) {
		return
	}
	data["component_type"] = t
	sel := decodeSelect(comp)
	if len(values) < sel.MinValues || len(values) > sel.MaxValues {
		s.problemLocked("choice in %q: %d values, the select takes %d to %d", customID, len(values), sel.MinValues, sel.MaxValues)
	}
	if t != componentStringSelect {
		return
	}
	for _, v := range values {
		if !slices.ContainsFunc(sel.Options, func(o SelectOption) bool { return o.Value == v }) {
			s.problemLocked("choice in %q: the select offers no value %q", customID, v)
		}
	}
}

// SubmitModal sends a MODAL_SUBMIT interaction for the modal customID the
// bot opened last (a type 9 response), with the values of its text inputs
// by custom_id, in the modal's field order (unset fields are sent as "").
// Submitting a modal that was not opened (or was already submitted), unknown
// field names, missing required values and values breaking the length limits
// are Problems. When the modal was opened from a component, the interaction
// carries that message, as Discord's does.
func (s *Server) SubmitModal(guildID, channelID string, member User, roles []string, customID string, values map[string]string, locale string) (id, token string) {
	s.mu.Lock()
	var rec *modalRec
	for i := len(s.modalLog) - 1; i >= 0 && rec == nil; i-- {
		if s.modalLog[i].modal.CustomID == customID && !s.modalLog[i].used {
			rec = &s.modalLog[i]
		}
	}
	var fields []ModalField
	if rec == nil {
		s.problemLocked("submit modal %q: no such modal is open", customID)
		for _, k := range sortedKeys(values) {
			fields = append(fields, ModalField{CustomID: k})
		}
	} else {
		rec.used = true
		fields = rec.modal.Fields
		for _, k := range sortedKeys(values) {
			if !slices.ContainsFunc(fields, func(f ModalField) bool { return f.CustomID == k }) {
				s.problemLocked("submit modal %q: it has no field %q", customID, k)
			}
		}
	}
	rows := []any{}
	for _, f := range fields {
		v := values[f.CustomID]
		n := len([]rune(v))
		switch {
		case rec == nil:
		case f.Required && v == "":
			s.problemLocked("submit modal %q: required field %q left empty", customID, f.CustomID)
		case v != "" && f.MaxLength > 0 && n > f.MaxLength, v != "" && n < f.MinLength, n > 4000:
			s.problemLocked("submit modal %q: field %q has %d characters, outside %d..%d", customID, f.CustomID, n, f.MinLength, f.MaxLength)
		}
		rows = append(rows, map[string]any{"type": 1, "components": []any{
			map[string]any{"type": 4, "custom_id": f.CustomID, "value": v}}})
	}
	data := map[string]any{"custom_id": customID, "components": rows}
	var msg map[string]any
	msgID := ""
	if rec != nil {
		if opener := s.interactions[rec.interactionID]; opener != nil && opener.messageID != "" {
			msgID = opener.messageID
			if m := s.store[msgID]; m != nil {
				msg = clone(m.obj).(map[string]any)
			}
		}
	}
	it, p := s.newInteractionLocked(interactionModalSubmit, guildID, channelID, member, roles, data, locale, msg)
	it.messageID = msgID
	s.mu.Unlock()
	s.Dispatch("INTERACTION_CREATE", p)
	return it.id, it.token
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DMText sends a MESSAGE_CREATE for a message the user writes in their DM
// channel with the bot (created if needed): no guild_id, author = user. The
// event is delivered even when the session's intents lack DIRECT_MESSAGES,
// but that is a Problem (Discord would not deliver it).
func (s *Server) DMText(user User, content string) (messageID string) {
	s.mu.Lock()
	s.knowUserLocked(user)
	cid := s.dmChannelLocked(user.ID)
	id := s.snowflakeLocked()
	obj := map[string]any{
		"id": id, "type": 0, "channel_id": cid, "author": userJSON(user), "content": content,
		"timestamp": timestamp(), "edited_timestamp": nil, "tts": false, "mention_everyone": false,
		"mentions": []any{}, "mention_roles": []any{}, "attachments": []any{}, "embeds": []any{},
		"components": []any{}, "pinned": false, "flags": 0,
	}
	s.store[id] = &storedMsg{obj: obj, id: id, channelID: cid, dmUser: user.ID, author: user.ID}
	payload := clone(obj)
	s.mu.Unlock()
	s.dispatch("MESSAGE_CREATE", payload, intentDirectMessages)
	return id
}
