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

// followUpTimeout bounds the work on one event after the bot has handled it.
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
// alone is "help"), handles it, opens its form as a dialog and shows its answers; it
// returns those that go in the command's response.
func (a *Adapter) onCommand(ctx context.Context, h bot.Handler, form url.Values) []inlined {
	trigger := form.Get("trigger_id")
	if trigger == "" {
		a.log.Warn("mattermost: slash command without a trigger id", "team", form.Get("team_id"))
	}
	ev := a.event(ctx, triggerID(idCommand, trigger), form.Get("team_id"), form.Get("user_id"), form.Get("user_name"),
		form.Get("channel_id"), direct(form.Get("channel_name")))
	ev.Kind = bot.EventCommand
	ev.Command, ev.Args = words(form.Get("text"))
	r := a.handle(ctx, h, ev)
	return a.answer(ctx, ev, r, trigger, carryCommand)
}

// words splits a command's text: the first word is the command ("help" when none).
func words(text string) (string, []string) {
	w := strings.Fields(text)
	if len(w) == 0 {
		return "help", nil
	}
	return w[0], w[1:]
}

// onAction handles a verified button press or menu pick; it returns the answers that go
// in the press's response.
func (a *Adapter) onAction(ctx context.Context, h bot.Handler, req model.PostActionIntegrationRequest, x action) []inlined {
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
			return nil
		}
		return a.answer(ctx, ev, bot.Reply{Form: &f}, req.TriggerId, carryText)
	}
	ev.Kind, ev.Action, ev.Payload = bot.EventButton, x.action, x.payload
	if x.kind == kindSelect {
		ev.Payload = ""
		ev.Value, _ = req.Context[ctxSelected].(string)
	}
	r := a.handle(ctx, h, ev)
	return a.answer(ctx, ev, r, req.TriggerId, carryText)
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
	a.answer(ctx, ev, bot.Reply{Messages: r.Messages, InDM: r.InDM}, "", carryNothing)
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
