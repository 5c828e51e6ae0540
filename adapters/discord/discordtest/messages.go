package discordtest

import (
	"encoding/json"
	"strconv"
)

const (
	flagSuppressEmbeds = 1 << 2
	flagEphemeral      = 1 << 6
	flagLoading        = 1 << 7
)

// newMessageLocked builds a message by the bot in a channel from a create
// body (not stored yet).
func (s *Server) newMessageLocked(channelID string, b map[string]any) *storedMsg {
	id := s.snowflakeLocked()
	obj := map[string]any{
		"id": id, "type": 0, "channel_id": channelID, "content": "", "embeds": []any{},
		"components": []any{}, "attachments": []any{}, "mentions": []any{}, "mention_roles": []any{},
		"mention_everyone": false, "pinned": false, "tts": false, "author": s.botUserJSON(),
		"timestamp": timestamp(), "edited_timestamp": nil, "flags": int64(0),
	}
	for _, k := range []string{"content", "embeds", "components", "tts", "message_reference", "poll"} {
		if v, ok := b[k]; ok && v != nil {
			obj[k] = clone(v)
		}
	}
	if b["message_reference"] != nil {
		obj["type"] = 19
	}
	flags, _ := num(b["flags"])
	obj["flags"] = flags & (flagSuppressEmbeds | flagEphemeral | 1<<12 | flagComponentsV2)
	m := &storedMsg{obj: obj, id: id, channelID: channelID}
	if n := strOf(b["nonce"]); n != "" {
		obj["nonce"] = b["nonce"]
		m.nonce = n
	}
	if am, ok := b["allowed_mentions"]; ok {
		m.allowedMentions, _ = json.Marshal(am)
	}
	if ch := s.channels[channelID]; ch != nil {
		m.guildID, m.dmUser = ch.guildID, ch.dmUser
	}
	return m
}

// applyEdit applies an edit body to a message: fields present replace the
// old ones (null resets them), absent fields are kept.
func applyEdit(m *storedMsg, b map[string]any) {
	defaults := map[string]func() any{
		"content":     func() any { return "" },
		"embeds":      func() any { return []any{} },
		"components":  func() any { return []any{} },
		"attachments": func() any { return []any{} },
	}
	for k, def := range defaults {
		if v, ok := b[k]; ok {
			if v == nil {
				m.obj[k] = def()
			} else {
				m.obj[k] = clone(v)
			}
		}
	}
	if v, ok := b["flags"]; ok {
		n, _ := num(v)
		old, _ := num(m.obj["flags"])
		m.obj["flags"] = (old &^ flagSuppressEmbeds) | (n & flagSuppressEmbeds)
	}
	if am, ok := b["allowed_mentions"]; ok {
		m.allowedMentions, _ = json.Marshal(am)
	}
	m.obj["edited_timestamp"] = timestamp()
}

func (s *Server) invalidBody(route string, e *apiError) resp {
	s.problemLocked("%s: %s", route, e.describe())
	return e.resp()
}

func bodyObject(payload any) (map[string]any, *apiError) {
	b := objOf(payload)
	if b == nil {
		var f formErrors
		f.add("_root", "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
		return nil, f.err()
	}
	return b, nil
}

func (s *Server) createChannelMessage(cid string, payload any) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	route := "POST /channels/" + cid + "/messages"
	b, e := bodyObject(payload)
	if e != nil {
		return s.invalidBody(route, e)
	}
	if ch := s.channels[cid]; ch != nil && ch.dmUser != "" && s.closedDMs[ch.dmUser] {
		return errResp(403, 50007, "Cannot send messages to this user")
	}
	if e := validateMessage(b, true); e != nil {
		return s.invalidBody(route, e)
	}
	nonce := strOf(b["nonce"])
	key := cid + "\x00" + nonce
	if nonce != "" && b["enforce_nonce"] == true {
		if id, seen := s.nonces[key]; seen {
			return ok(clone(s.store[id].obj))
		}
	}
	m := s.newMessageLocked(cid, b)
	if flags, _ := num(m.obj["flags"]); flags&flagEphemeral != 0 {
		s.problemLocked("%s: flag 64 (EPHEMERAL) only applies to interaction responses and follow-ups", route)
		m.obj["flags"] = flags &^ flagEphemeral
	}
	if nonce != "" {
		s.nonces[key] = m.id
	}
	s.store[m.id] = m
	s.recordLocked(m, "channel", false)
	return ok(clone(m.obj))
}

// channelMessageLocked finds a message the channel endpoints can see.
func (s *Server) channelMessageLocked(cid, mid string) *storedMsg {
	m := s.store[mid]
	if m == nil || m.deleted || m.channelID != cid || m.ephemeralTo != "" {
		return nil
	}
	return m
}

func (s *Server) getChannelMessage(cid, mid string) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.channelMessageLocked(cid, mid)
	if m == nil {
		return errUnknownMsg.resp()
	}
	return ok(clone(m.obj))
}

func (s *Server) editChannelMessage(cid, mid string, payload any) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	route := "PATCH /channels/" + cid + "/messages/" + mid
	if m := s.store[mid]; m != nil && m.ephemeralTo != "" {
		s.problemLocked("%s: ephemeral messages can only be edited through the interaction webhook", route)
	}
	m := s.channelMessageLocked(cid, mid)
	if m == nil {
		return errUnknownMsg.resp()
	}
	if m.author != "" {
		s.problemLocked("%s: the message was written by user %s, not the bot", route, m.author)
		return errResp(403, 50005, "Cannot edit a message authored by another user")
	}
	b, e := bodyObject(payload)
	if e == nil {
		e = validateMessage(b, false)
	}
	if e != nil {
		return s.invalidBody(route, e)
	}
	applyEdit(m, b)
	s.recordLocked(m, "channel", true)
	return ok(clone(m.obj))
}

func (s *Server) deleteChannelMessage(cid, mid string) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.channelMessageLocked(cid, mid)
	if m == nil {
		return errUnknownMsg.resp()
	}
	m.deleted = true
	if m.author == "" {
		s.recordLocked(m, "channel", true)
	}
	return noContent()
}

func (s *Server) createDM(payload any) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := bodyObject(payload)
	if e == nil {
		var f formErrors
		f.str("recipient_id", b["recipient_id"], 1, 20, true)
		e = f.err()
	}
	if e != nil {
		return s.invalidBody("POST /users/@me/channels", e)
	}
	uid := strOf(b["recipient_id"])
	id := s.dmChannelLocked(uid)
	return ok(map[string]any{
		"id": id, "type": 1, "last_message_id": nil, "flags": 0,
		"recipients": []any{userJSON(s.userLocked(uid))},
	})
}

func (s *Server) getMember(gid, uid string) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	roles, found := s.members[gid][uid]
	if !found {
		return errResp(404, 10007, "Unknown Member")
	}
	m := memberJSON(s.userLocked(uid), roles)
	delete(m, "permissions") // only interaction members carry permissions
	return ok(m)
}

func (s *Server) getCommands(guild string) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, c := range s.commands[guild] {
		out = append(out, clone(c))
	}
	return ok(out)
}

func (s *Server) putCommands(guild string, payload any) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	route := "PUT /applications/" + s.opts.AppID + "/commands"
	if guild != "" {
		route = "PUT /applications/" + s.opts.AppID + "/guilds/" + guild + "/commands"
	}
	list, isArr := payload.([]any)
	if !isArr {
		var f formErrors
		f.add("_root", "BASE_TYPE_ARRAY", "Must be an array.")
		return s.invalidBody(route, f.err())
	}
	if e := validateCommands(list); e != nil {
		return s.invalidBody(route, e)
	}
	stored := make([]map[string]any, 0, len(list))
	out := make([]any, 0, len(list))
	for _, c := range list {
		cm := clone(c).(map[string]any)
		t := int64(1)
		if n, found := num(cm["type"]); found {
			t = n
		}
		key := guild + "\x00" + strconv.FormatInt(t, 10) + "/" + strOf(cm["name"])
		id := s.commandIDs[key]
		if id == "" {
			id = s.snowflakeLocked()
			s.commandIDs[key] = id
		}
		cm["id"], cm["application_id"], cm["version"], cm["type"] = id, s.opts.AppID, s.snowflakeLocked(), t
		if guild != "" {
			cm["guild_id"] = guild
		}
		for k, def := range map[string]any{"description": "", "default_member_permissions": nil, "nsfw": false} {
			if _, has := cm[k]; !has {
				cm[k] = def
			}
		}
		stored = append(stored, cm)
		out = append(out, clone(cm))
	}
	s.commands[guild] = stored
	return ok(out)
}

// findCommandLocked finds a registered chat input command by name, in the
// guild first, then globally.
func (s *Server) findCommandLocked(guildID, name string) map[string]any {
	scopes := []string{""}
	if guildID != "" {
		scopes = []string{guildID, ""}
	}
	for _, scope := range scopes {
		for _, c := range s.commands[scope] {
			if t, _ := num(c["type"]); t == 1 && strOf(c["name"]) == name {
				return c
			}
		}
	}
	return nil
}
