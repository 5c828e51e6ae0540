package slack

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
)

// followUpTimeout bounds the work done after an acknowledgement (posting the reply,
// opening a modal).
const followUpTimeout = 30 * time.Second

// answer is how the adapter answers one delivery from Slack: the acknowledgement's
// payload (nil for an empty one) and the work that follows it.
type answer struct {
	body  any
	after func(ctx context.Context)
}

// commandResponse is the ephemeral answer to a slash command.
type commandResponse struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

// maxAckBytes keeps an acknowledgement well under Socket Mode's 20 KB limit; a bigger
// answer is posted instead.
const maxAckBytes = 15000

// event starts a bot event.
func event(id, team, user, userName, channel string) bot.Event {
	return bot.Event{ID: id, Platform: Platform, Workspace: team, UserID: user, UserName: userName,
		ChannelID: channel, InDM: private(channel), ReceivedAt: time.Now()}
}

// personEvent starts a bot event by a person Slack has told about: their name and
// whether they administer the workspace come from users.info.
func (a *Adapter) personEvent(ctx context.Context, id, team, user, handle, channel string) bot.Event {
	name, admin := a.person(ctx, user, handle)
	ev := event(id, team, user, name, channel)
	ev.PlatformAdmin = admin
	return ev
}

// private reports whether a channel is a direct conversation (or no channel at all:
// the App Home), where answers go to the person's DM with the bot.
func private(channel string) bool { return channel == "" || strings.HasPrefix(channel, "D") }

// handle calls the bot and logs a failure by ids only; the reply is used either way (on
// failure it is the calm message to show).
func (a *Adapter) handle(ctx context.Context, h bot.Handler, ev bot.Event) bot.Reply {
	r, err := h.Handle(ctx, ev)
	if err != nil {
		a.log.Error("slack: handling an event failed", "event", ev.ID, "kind", string(ev.Kind), "workspace", ev.Workspace, "err", err)
	}
	return r
}

// --- Events API ---

// eventsPayload is the part of an Events API request the adapter reads.
type eventsPayload struct {
	Type      string `json:"type"`
	TeamID    string `json:"team_id"`
	EventID   string `json:"event_id"`
	Challenge string `json:"challenge"`
	Event     struct {
		Type        string `json:"type"`
		Subtype     string `json:"subtype"`
		User        string `json:"user"`
		BotID       string `json:"bot_id"`
		Channel     string `json:"channel"`
		ChannelType string `json:"channel_type"`
		Text        string `json:"text"`
		Tab         string `json:"tab"`
		Hidden      bool   `json:"hidden"`
		View        *struct {
			PrivateMetadata string `json:"private_metadata"`
			CallbackID      string `json:"callback_id"`
		} `json:"view"`
	} `json:"event"`
}

// onEvents handles an event_callback: a person's message in the bot's DM becomes a text
// event; opening the App Home publishes it. Everything else is acknowledged and left.
func (a *Adapter) onEvents(ctx context.Context, h bot.Handler, raw []byte) answer {
	var p eventsPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		a.log.Warn("slack: unreadable Events API payload", "err", err)
		return answer{}
	}
	if p.Type != "event_callback" {
		return answer{}
	}
	e := p.Event
	switch {
	case e.Type == "message" && (e.ChannelType == "im" || (e.ChannelType == "" && strings.HasPrefix(e.Channel, "D"))):
		if e.Subtype != "" || e.BotID != "" || e.User == "" || e.Hidden || p.EventID == "" {
			return answer{} // edits, joins, the bot's own messages
		}
		a.dms.Remember(e.User, e.Channel)
		ev := a.personEvent(ctx, p.EventID, p.TeamID, e.User, "", e.Channel)
		ev.InDM = true
		ev.Kind, ev.Text = bot.EventText, unescape(e.Text)
		r := a.handle(ctx, h, ev)
		return answer{after: func(ctx context.Context) {
			a.replyTo(ctx, ev, r, "")
			if r.Form != nil {
				a.noTrigger(ctx, ev)
			}
		}}
	case e.Type == "app_home_opened" && e.Tab == "home" && e.User != "":
		lang := a.lang("")
		if e.View != nil && e.View.CallbackID == homeCallbackID && e.View.PrivateMetadata == homeMeta(lang) {
			return answer{} // already shows this version
		}
		return answer{after: func(ctx context.Context) { a.publishHome(ctx, e.User, lang) }}
	}
	return answer{}
}

func (a *Adapter) publishHome(ctx context.Context, user, lang string) {
	_, err := a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: a.homeView(lang)})
	if err != nil {
		a.log.Warn("slack: publishing the App Home failed", "user", user, "err", apiError("views.publish", err))
	}
}

// --- slash commands ---

// onCommand turns "/tend ask now" into the command "ask" with args ["now"] ("/tend"
// alone is "help") and answers with the reply as an ephemeral message; a form opens as a
// modal after the acknowledgement.
func (a *Adapter) onCommand(ctx context.Context, h bot.Handler, c slack.SlashCommand) answer {
	ev := a.personEvent(ctx, "cmd:"+c.TriggerID, c.TeamID, c.UserID, c.UserName, c.ChannelID)
	ev.Kind = bot.EventCommand
	words := strings.Fields(unescape(c.Text))
	if len(words) == 0 {
		ev.Command = "help"
	} else {
		ev.Command, ev.Args = words[0], words[1:]
	}
	if c.TriggerID == "" {
		a.log.Warn("slack: slash command without a trigger id", "workspace", c.TeamID)
		ev.ID = "cmd:" + c.TeamID + ":" + c.UserID + ":" + time.Now().UTC().Format(time.RFC3339Nano)
	}
	r := a.handle(ctx, h, ev)
	body, inline := ephemeralBody(r.Messages)
	return answer{body: body, after: func(ctx context.Context) {
		if !inline {
			a.replyTo(ctx, ev, r, c.ResponseURL)
		}
		a.openForm(ctx, c.TriggerID, ev, r.Form, nil)
	}}
}

// ephemeralBody is the ephemeral answer carrying messages, when they fit in one; inline
// is false when they must be posted instead.
func ephemeralBody(msgs []bot.Rendered) (body any, inline bool) {
	if len(msgs) == 0 {
		return nil, true
	}
	resp := commandResponse{ResponseType: "ephemeral"}
	for i, m := range msgs {
		rm := render(m)
		if i == 0 {
			resp.Text = rm.Text
		} else {
			resp.Blocks = append(resp.Blocks, slack.NewDividerBlock())
		}
		resp.Blocks = append(resp.Blocks, rm.Blocks...)
	}
	if len(resp.Blocks) > maxBlocks {
		return nil, false
	}
	if b, err := json.Marshal(resp); err != nil || len(b) > maxAckBytes {
		return nil, false
	}
	return resp, true
}

// --- interactivity ---

// onInteraction handles button presses and menu picks (block_actions), submitted modals
// (view_submission) and the message shortcut (message_action).
func (a *Adapter) onInteraction(ctx context.Context, h bot.Handler, ic *slack.InteractionCallback) answer {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		return a.onBlockActions(ctx, h, ic)
	case slack.InteractionTypeViewSubmission:
		return a.onViewSubmission(ctx, h, ic)
	case slack.InteractionTypeMessageAction:
		if ic.CallbackID == ShortcutAsk {
			return a.onAskShortcut(ctx, h, ic)
		}
	}
	return answer{}
}

func team(ic *slack.InteractionCallback) string {
	if ic.Team.ID != "" {
		return ic.Team.ID
	}
	if ic.User.TeamID != "" {
		return ic.User.TeamID
	}
	return ic.View.TeamID
}

// userEvent starts a bot event from an interaction payload, which carries the person's
// handle only.
func (a *Adapter) userEvent(ctx context.Context, id, team string, u slack.User, channel string) bot.Event {
	handle := u.Name
	if handle == "" {
		handle = u.Profile.DisplayName
	}
	return a.personEvent(ctx, id, team, u.ID, handle, channel)
}

func (a *Adapter) onBlockActions(ctx context.Context, h bot.Handler, ic *slack.InteractionCallback) answer {
	if len(ic.ActionCallback.BlockActions) == 0 {
		return answer{}
	}
	act := ic.ActionCallback.BlockActions[0]
	if ic.View.Type == slack.VTModal {
		return answer{} // an element inside a modal: its value arrives with the submission
	}
	channel := ic.Container.ChannelID
	if channel == "" {
		channel = ic.Channel.ID
	}
	ts := act.ActionTs
	if ts == "" {
		ts = ic.ActionTs
	}
	ev := a.userEvent(ctx, "act:"+ic.TriggerID+":"+ts, team(ic), ic.User, channel)
	ev.Locale = ic.User.Locale
	ev.Kind, ev.Action = bot.EventButton, baseAction(act.ActionID)
	if act.Type == "static_select" {
		ev.Value = act.SelectedOption.Value
	} else {
		ev.Payload = act.Value
	}
	ev.MessageID = ic.Container.MessageTs
	if ev.MessageID == "" {
		ev.MessageID = ic.Message.Timestamp
	}
	r := a.handle(ctx, h, ev)
	return answer{after: func(ctx context.Context) {
		a.openForm(ctx, ic.TriggerID, ev, r.Form, nil)
		a.replyTo(ctx, ev, r, ic.ResponseURL)
	}}
}

// viewErrors is the answer that shows field errors in a modal.
type viewErrors struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

// viewUpdate replaces a submitted modal with another.
type viewUpdate struct {
	ResponseAction string                 `json:"response_action"`
	View           slack.ModalViewRequest `json:"view"`
}

func (a *Adapter) onViewSubmission(ctx context.Context, h bot.Handler, ic *slack.InteractionCallback) answer {
	meta := decodeMeta(ic.View.PrivateMetadata)
	values := formValues(ic.View)
	ev := a.userEvent(ctx, a.viewEventID(ic.View, values), team(ic), ic.User, meta.Channel)
	ev.Locale = ic.User.Locale
	ev.Kind, ev.FormID, ev.FormPayload, ev.Values = bot.EventForm, ic.View.CallbackID, meta.Payload, values
	r := a.handle(ctx, h, ev)
	if len(r.FieldErrors) > 0 {
		errs := make(map[string]string, len(r.FieldErrors))
		for field, msg := range r.FieldErrors {
			errs[field] = plain(msg, maxErrorText)
		}
		return answer{body: viewErrors{ResponseAction: "errors", Errors: errs}}
	}
	var body any
	if r.Form != nil {
		body = viewUpdate{ResponseAction: "update", View: a.modal(*r.Form, meta.Channel, a.lang(ev.Locale), nil)}
	}
	// The modal closes; what the bot says about the submission goes to the person's DM.
	r.InDM = true
	return answer{body: body, after: func(ctx context.Context) { a.replyTo(ctx, ev, r, "") }}
}

// onAskShortcut is "Ask for help with this" on a message: the ask command, with the
// message's text offered as the summary in the modal, which only the person sees. The
// text goes nowhere else.
func (a *Adapter) onAskShortcut(ctx context.Context, h bot.Handler, ic *slack.InteractionCallback) answer {
	ev := a.userEvent(ctx, "shortcut:"+ic.TriggerID, team(ic), ic.User, ic.Channel.ID)
	ev.Locale = ic.User.Locale
	ev.Kind, ev.Command = bot.EventCommand, "ask"
	r := a.handle(ctx, h, ev)
	var prefill map[string]string
	if t := strings.TrimSpace(bot.Sanitize(unescape(ic.Message.Text))); t != "" {
		prefill = map[string]string{"summary": t}
	}
	return answer{after: func(ctx context.Context) {
		a.openForm(ctx, ic.TriggerID, ev, r.Form, prefill)
		a.replyTo(ctx, ev, r, ic.ResponseURL)
	}}
}

// --- answering after the acknowledgement ---

// replyTo shows the reply's messages to the person who acted: in their DM with the bot,
// or ephemerally in the channel (through the interaction's response_url when the bot
// cannot post there, and in the DM as the last resort). Nothing is dropped silently.
func (a *Adapter) replyTo(ctx context.Context, ev bot.Event, r bot.Reply, responseURL string) {
	for _, m := range r.Messages {
		rm := render(m)
		if r.InDM || ev.InDM {
			if err := a.replyDM(ctx, ev, rm); err != nil {
				a.log.Warn("slack: reply in DM failed", "event", ev.ID, "err", err)
			}
			continue
		}
		_, err := a.api.PostEphemeralContext(ctx, ev.ChannelID, ev.UserID, msgOptions(rm, false)...)
		if err == nil {
			continue
		}
		if responseURL != "" {
			_, _, _, uerr := a.api.SendMessageContext(ctx, "", append(msgOptions(rm, false),
				slack.MsgOptionResponseURL(responseURL, slack.ResponseTypeEphemeral))...)
			if uerr == nil {
				continue
			}
		}
		if derr := a.replyDM(ctx, ev, rm); derr != nil {
			a.log.Warn("slack: reply failed", "event", ev.ID, "err", apiError("chat.postEphemeral", err), "dm_err", derr)
		}
	}
}

// replyDM posts in the person's DM with the bot: the channel of their message when they
// wrote there, else the conversation conversations.open gives.
func (a *Adapter) replyDM(ctx context.Context, ev bot.Event, m message) error {
	ch := ""
	if ev.Kind == bot.EventText && strings.HasPrefix(ev.ChannelID, "D") {
		ch = ev.ChannelID
	} else {
		var err error
		if ch, err = a.dmChannel(ctx, bot.Destination{Kind: bot.DestDM, UserID: ev.UserID}); err != nil {
			return err
		}
	}
	_, err := a.post(ctx, ch, m)
	return err
}

// openForm opens the reply's form as a modal with the interaction's trigger id.
func (a *Adapter) openForm(ctx context.Context, trigger string, ev bot.Event, f *bot.RenderedForm, prefill map[string]string) {
	if f == nil {
		return
	}
	if trigger == "" {
		a.noTrigger(ctx, ev)
		return
	}
	channel := ev.ChannelID
	_, err := a.api.OpenViewContext(ctx, trigger, a.modal(*f, channel, a.lang(ev.Locale), prefill))
	if err != nil {
		a.log.Warn("slack: opening a modal failed", "event", ev.ID, "form", f.ID, "err", apiError("views.open", err))
	}
}

// noTrigger tells the person how to open a form the bot asked for where Slack gives no
// trigger to open it with (a message in the DM).
func (a *Adapter) noTrigger(ctx context.Context, ev bot.Event) {
	loc := a.localizer(a.lang(ev.Locale))
	m := render(bot.Rendered{Body: []string{loc("slack.form.no_trigger")}})
	if err := a.replyDM(ctx, ev, m); err != nil {
		a.log.Warn("slack: reply in DM failed", "event", ev.ID, "err", err)
	}
}

// later runs work after an acknowledgement, detached from the request that caused it.
func (a *Adapter) later(ctx context.Context, f func(context.Context)) {
	if f == nil {
		return
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
		defer cancel()
		f(ctx)
	}()
}

var errNoEnvelope = errors.New("slack: socket message without an envelope id")
