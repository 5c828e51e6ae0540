package mattermost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
)

// Event id prefixes: a slash command and a button press come with a trigger id, which
// opens a dialog (CanOpenFormFor); a submitted dialog and a post do not.
const (
	idCommand = "cmd:"
	idAction  = "act:"
	idDialog  = "dlg:"
)

// followUpTimeout bounds the work on one request after the bot has handled it.
const followUpTimeout = 30 * time.Second

// triggerID turns a trigger id (one per command or press, signed by the server) into an
// event id; without one, the event is new each time.
func triggerID(prefix, trigger string) string {
	if trigger == "" {
		return prefix + "x" + randomHex(16)
	}
	sum := sha256.Sum256([]byte(trigger))
	return prefix + hex.EncodeToString(sum[:16])
}

// direct reports whether a channel name is a direct channel's ("<id>__<id>").
func direct(channelName string) bool { return strings.Contains(channelName, "__") }

// handle calls the bot and logs a failure by ids only; the reply is used either way (on
// failure it is the calm message to show).
func (a *Adapter) handle(ctx context.Context, h bot.Handler, ev bot.Event) bot.Reply {
	a.busy.Add(1)
	defer a.busy.Add(-1)
	r, err := h.Handle(ctx, ev)
	if err != nil {
		a.log.Error("mattermost: handling an event failed", "event", ev.ID, "kind", string(ev.Kind), "workspace", ev.Workspace, "err", err)
	}
	return r
}

// onCommand turns "/tend ask now" into the command "ask" with args ["now"] ("/tend"
// alone is "help"), handles it, opens its form as a dialog and posts its answers.
func (a *Adapter) onCommand(ctx context.Context, h bot.Handler, form url.Values) {
	trigger := form.Get("trigger_id")
	if trigger == "" {
		a.log.Warn("mattermost: slash command without a trigger id", "team", form.Get("team_id"))
	}
	ev := a.event(ctx, triggerID(idCommand, trigger), form.Get("team_id"), form.Get("user_id"), form.Get("user_name"),
		form.Get("channel_id"), direct(form.Get("channel_name")))
	ev.Kind = bot.EventCommand
	ev.Command, ev.Args = words(form.Get("text"))
	r := a.handle(ctx, h, ev)
	a.answer(ctx, ev, r, trigger)
}

// words splits a command's text: the first word is the command ("help" when none).
func words(text string) (string, []string) {
	w := strings.Fields(text)
	if len(w) == 0 {
		return "help", nil
	}
	return w[0], w[1:]
}

// onAction handles a verified button press or menu pick.
func (a *Adapter) onAction(ctx context.Context, h bot.Handler, req model.PostActionIntegrationRequest, x action) {
	team := x.workspace
	if team == "" {
		team = req.TeamId
	}
	ev := a.event(ctx, triggerID(idAction, req.TriggerId), team, req.UserId, req.UserName, req.ChannelId, direct(req.ChannelName))
	ev.MessageID = req.PostId
	if x.kind == kindForm {
		// tend's own "open the form" button: the form it carries opens with this
		// press's trigger; the bot has nothing to do.
		var f bot.RenderedForm
		if err := json.Unmarshal([]byte(x.payload), &f); err != nil {
			a.log.Warn("mattermost: a form button carried no form", "post", req.PostId)
			return
		}
		a.openDialog(ctx, ev, f, req.TriggerId)
		return
	}
	ev.Kind, ev.Action, ev.Payload = bot.EventButton, x.action, x.payload
	if x.kind == kindSelect {
		ev.Payload = ""
		ev.Value, _ = req.Context[ctxSelected].(string)
	}
	r := a.handle(ctx, h, ev)
	a.answer(ctx, ev, r, req.TriggerId)
}

// onDialog handles a submitted dialog whose state was verified: field errors go back to
// the dialog, which stays open; otherwise it closes and the answers are posted.
func (a *Adapter) onDialog(ctx context.Context, h bot.Handler, req model.SubmitDialogRequest, st dialogState) model.SubmitDialogResponse {
	values := map[string]string{}
	for k, v := range req.Submission {
		values[k] = submitted(v)
	}
	for _, name := range st.DateTimes {
		if v := values[name]; v != "" {
			values[name] = a.localTime(v)
		}
	}
	team := st.Workspace
	if team == "" {
		team = req.TeamId
	}
	channel := st.Channel
	if channel == "" {
		channel = req.ChannelId
	}
	ev := a.event(ctx, idDialog+st.Nonce+":"+a.valuesDigest(values), team, req.UserId, "", channel, st.DM)
	ev.Kind, ev.FormID, ev.FormPayload, ev.Values = bot.EventForm, st.Form, st.Payload, values
	r := a.handle(ctx, h, ev)
	if len(r.FieldErrors) > 0 {
		errs := make(map[string]string, len(r.FieldErrors))
		for field, msg := range r.FieldErrors {
			errs[field] = cut(oneLine(Neutralize(msg)), 300)
		}
		return model.SubmitDialogResponse{Errors: errs}
	}
	if r.Form != nil {
		a.log.Warn("mattermost: a form asked for after a dialog cannot open without a trigger", "event", ev.ID, "form", r.Form.ID)
	}
	a.answer(ctx, ev, bot.Reply{Messages: r.Messages, InDM: r.InDM}, "")
	return model.SubmitDialogResponse{}
}

// submitted is a dialog answer as text: selects and text fields send strings; a
// checkbox, a boolean; a number field may come as a number.
func submitted(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// localTime reads a date picker's answer (RFC 3339, or a date and time without a zone)
// and gives it in the community's zone as the bot reads dates: "2026-11-26 14:00".
// What it cannot read is passed on as given, for the bot to refuse kindly.
func (a *Adapter) localTime(v string) string {
	for _, layout := range []string{time.RFC3339, model.ISODateTimeNoTimezoneFormat, model.ISODateTimeNoSecondsFormat} {
		loc := a.zone
		t, err := time.ParseInLocation(layout, v, loc)
		if err == nil {
			return t.In(loc).Format("2006-01-02 15:04")
		}
	}
	return v
}

// valuesDigest is a keyed digest of a submission's answers: a repeated delivery of one
// submission is recognised while a corrected one is new, and it reveals nothing.
func (a *Adapter) valuesDigest(values map[string]string) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{"values"}
	for _, k := range keys {
		parts = append(parts, k, values[k])
	}
	return a.sign.digest(24, parts...)
}

// answer opens the reply's form as a dialog with the trigger, then shows the reply's
// messages to the person who acted: in their direct channel with the bot, or ephemerally
// in the channel where they acted. Each answer's post id (or pending id) comes from the
// event, so a replica answering the same event again replaces it rather than adding one.
func (a *Adapter) answer(ctx context.Context, ev bot.Event, r bot.Reply, trigger string) {
	if r.Form != nil {
		a.openDialog(ctx, ev, *r.Form, trigger)
	}
	for i, m := range r.Messages {
		a.replyOne(ctx, ev, r.InDM, m, fmt.Sprintf("%s:%d", ev.ID, i))
	}
}

// replyOne shows one answer to the person who acted; an ephemeral post that cannot be
// made (the channel is gone, the bot left it) goes to their direct channel instead.
func (a *Adapter) replyOne(ctx context.Context, ev bot.Event, inDM bool, m bot.Rendered, key string) {
	var err error
	if !inDM && !ev.InDM && ev.ChannelID != "" {
		if _, err = a.ephemeral(ctx, ev.Workspace, ev.ChannelID, ev.UserID, m, ephemeralID(key)); err == nil {
			return
		}
		a.log.Warn("mattermost: an ephemeral answer failed; sending it as a direct message", "event", ev.ID, "err", err)
	}
	ch := ev.ChannelID
	if !ev.InDM || ch == "" {
		if ch, err = a.dmChannel(ctx, ev.UserID); err != nil {
			a.log.Warn("mattermost: an answer could not be sent", "event", ev.ID, "err", err)
			return
		}
	}
	if _, err = a.post(ctx, ev.Workspace, ch, m, key); err != nil {
		a.log.Warn("mattermost: an answer could not be sent", "event", ev.ID, "err", err)
	}
}

// openDialog opens a form as a dialog with a trigger id. Without a trigger, or when the
// server refuses it (a trigger lasts three seconds), the person gets a button that
// opens the form: pressing it brings a fresh trigger.
func (a *Adapter) openDialog(ctx context.Context, ev bot.Event, f bot.RenderedForm, trigger string) {
	lang := a.lang(ev.Locale)
	st := dialogState{Form: f.ID, Payload: f.Payload, Workspace: ev.Workspace, Channel: ev.ChannelID, User: ev.UserID,
		DM: ev.InDM, Nonce: randomHex(8)}
	if a.cfg.DateTimeElements {
		for _, fl := range f.Fields {
			if fl.Kind == "datetime" {
				st.DateTimes = append(st.DateTimes, fl.Name)
			}
		}
	}
	if trigger != "" {
		req := model.OpenDialogRequest{TriggerId: trigger, URL: a.callback(PathDialog), Dialog: a.dialog(f, a.sign.encodeState(st), lang)}
		resp, err := a.api.OpenInteractiveDialog(ctx, req)
		if err == nil {
			return
		}
		a.log.Warn("mattermost: opening a dialog failed", "event", ev.ID, "form", f.ID, "err", apiError("POST /actions/dialogs/open", resp, err))
	}
	a.formButton(ctx, ev, f)
}

// formButton shows a button that opens a form: to the person only, in the channel where
// they acted, or in their direct channel with the bot. The form travels in the button's
// signed context, so any replica can open it.
func (a *Adapter) formButton(ctx context.Context, ev bot.Event, f bot.RenderedForm) {
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	m := bot.Rendered{Body: []string{a.text(ev.Locale, "mattermost.form.ready", map[string]any{"Title": f.Title})}}
	key := ev.ID + ":form"
	build := func(ref string) *model.Post {
		x := action{kind: kindForm, workspace: ev.Workspace, payload: string(b), ref: ref}
		props := a.props(ev.Workspace, m, ref)
		props[model.PostPropsAttachments] = []*model.MessageAttachment{{Fallback: cut(oneLine(Neutralize(f.Title)), 300), Actions: []*model.PostAction{{
			Id: a.actionID(x, 0), Type: model.PostActionTypeButton, Name: label(a.text(ev.Locale, "mattermost.form.open", nil)), Style: "primary",
			Integration: &model.PostActionIntegration{URL: a.callback(PathAction), Context: a.sign.actionContext(x)},
		}}}}
		p := &model.Post{Message: content(m)}
		p.SetProps(props)
		return p
	}
	if !ev.InDM && ev.ChannelID != "" {
		id := ephemeralID(key)
		p := build(postRef(id))
		p.Id, p.ChannelId = id, ev.ChannelID
		if _, resp, err := a.api.CreatePostEphemeral(ctx, &model.PostEphemeral{UserID: ev.UserID, Post: p}); err != nil {
			a.log.Warn("mattermost: the form button could not be shown", "event", ev.ID, "err", apiError("POST /posts/ephemeral", resp, err))
		}
		return
	}
	ch := ev.ChannelID
	if ch == "" {
		if ch, err = a.dmChannel(ctx, ev.UserID); err != nil {
			a.log.Warn("mattermost: the form button could not be sent", "event", ev.ID, "err", err)
			return
		}
	}
	ref := keyRef(key)
	p := build(ref)
	p.ChannelId, p.PendingPostId = ch, pendingID(key)
	out, resp, err := a.api.CreatePost(ctx, p)
	if err != nil {
		a.log.Warn("mattermost: the form button could not be sent", "event", ev.ID, "err", apiError("POST /posts", resp, err))
		return
	}
	a.bind(ref, out.Id)
}

// later runs work after the request that caused it was answered, detached from it.
func (a *Adapter) later(ctx context.Context, f func(context.Context)) {
	a.bg.Add(1)
	a.busy.Add(1)
	go func() {
		defer a.bg.Done()
		defer a.busy.Add(-1)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
		defer cancel()
		f(ctx)
	}()
}
