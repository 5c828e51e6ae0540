package mattermost

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
)

// Private answers. An answer to the person who acted, in a channel, is shown to them
// alone, the first way that works:
//
//  1. POST /posts/ephemeral, when the bot may (the create_post_ephemeral permission,
//     which Mattermost gives only to System Admins unless a permission scheme grants
//     it); a refusal is remembered and logged once;
//  2. in the request's own response: a slash command's ephemeral response (text and
//     buttons), or a press's ephemeral text (text only);
//  3. in the person's direct channel with the bot.
//
// Buttons on a post shown to one person in one channel are bound to that person and
// channel (the "u:" reference): only they see it, so only they may press them.

// carrier says what a request's own response can carry.
type carrier int

const (
	carryNothing carrier = iota // a dialog submission, a post: nothing
	carryCommand                // a slash command's ephemeral response: text and buttons
	carryText                   // a press's ephemeral text: text only
)

// private is one answer for the person who acted.
type private struct {
	// key names the answer from the event, so every replica gives it the same ids.
	key string
	// build is its text and props, with its buttons signed for ref.
	build func(ref string) (string, model.StringInterface)
	// plain is an answer without buttons or menu.
	plain bool
}

// inlined is an answer that goes back in the request's response.
type inlined struct {
	message string
	props   model.StringInterface
}

// userRef binds buttons to the one person who sees them, in one channel.
func userRef(user, channel string) string { return "u:" + user + ":" + channel }

// cardAnswer is a card as a private answer.
func (a *Adapter) cardAnswer(workspace string, m bot.Rendered, key string) private {
	return private{key: key, plain: len(m.Buttons) == 0 && m.Choice == nil,
		build: func(ref string) (string, model.StringInterface) { return content(m), a.props(workspace, m, ref) }}
}

// deliver shows an answer to the person who acted (see above); what belongs in the
// request's response is returned.
func (a *Adapter) deliver(ctx context.Context, ev bot.Event, inDM bool, p private, carry carrier) (inlined, bool) {
	if !inDM && !ev.InDM && ev.ChannelID != "" {
		ref := userRef(ev.UserID, ev.ChannelID)
		msg, props := p.build(ref)
		if !a.noEphemeral.Load() {
			err := a.postEphemeral(ctx, ev.ChannelID, ev.UserID, ephemeralID(p.key), msg, props)
			if err == nil {
				return inlined{}, false
			}
			a.ephemeralRefused(err)
		}
		switch {
		case carry == carryCommand, carry == carryText && p.plain:
			return inlined{message: msg, props: props}, true
		}
	}
	ch := ev.ChannelID
	if !ev.InDM || ch == "" {
		var err error
		if ch, err = a.dmChannel(ctx, ev.UserID); err != nil {
			a.log.Warn("mattermost: an answer could not be sent", "event", ev.ID, "err", err)
			return inlined{}, false
		}
	}
	ref := keyRef(p.key)
	msg, props := p.build(ref)
	post := &model.Post{ChannelId: ch, Message: msg, PendingPostId: pendingID(p.key)}
	post.SetProps(props)
	out, resp, err := a.api.CreatePost(ctx, post)
	if err != nil {
		a.log.Warn("mattermost: an answer could not be sent", "event", ev.ID, "err", apiError("POST /posts", resp, err))
		return inlined{}, false
	}
	a.bind(ref, out.Id)
	return inlined{}, false
}

// postEphemeral makes an ephemeral post with an id tend chose.
func (a *Adapter) postEphemeral(ctx context.Context, channel, user, id, msg string, props model.StringInterface) error {
	p := &model.Post{Id: id, ChannelId: channel, Message: msg}
	p.SetProps(props)
	_, resp, err := a.api.CreatePostEphemeral(ctx, &model.PostEphemeral{UserID: user, Post: p})
	return apiError("POST /posts/ephemeral", resp, err)
}

// ephemeralRefused remembers that the server will not let the bot post ephemeral
// messages (403), and says so once; other failures are logged.
func (a *Adapter) ephemeralRefused(err error) {
	if status(err) != 403 {
		a.log.Warn("mattermost: an ephemeral answer failed", "err", err)
		return
	}
	if !a.noEphemeral.Swap(true) {
		a.log.Warn("mattermost: the bot may not post ephemeral messages (create_post_ephemeral); private answers go in the command's response or in direct messages")
	}
}

// commandResponse is a slash command's ephemeral response carrying answers: the first
// as the response, the others as extra responses. Slack-style parsing stays off, so
// nothing in the text becomes a link.
func commandResponse(answers []inlined) model.CommandResponse {
	one := func(x inlined) *model.CommandResponse {
		r := &model.CommandResponse{ResponseType: model.CommandResponseTypeEphemeral, Text: x.message, SkipSlackParsing: true, Props: model.StringInterface{}}
		for k, v := range x.props {
			if k == model.PostPropsAttachments {
				r.Attachments, _ = v.([]*model.MessageAttachment)
				continue
			}
			r.Props[k] = v
		}
		return r
	}
	if len(answers) == 0 {
		return model.CommandResponse{}
	}
	r := one(answers[0])
	for _, x := range answers[1:] {
		r.ExtraResponses = append(r.ExtraResponses, one(x))
	}
	return *r
}

// actionResponse is a press's response carrying plain answers as ephemeral text.
func actionResponse(answers []inlined) model.PostActionIntegrationResponse {
	var texts []string
	for _, x := range answers {
		texts = append(texts, x.message)
	}
	return model.PostActionIntegrationResponse{EphemeralText: strings.Join(texts, "\n\n"), SkipSlackParsing: true}
}

// answer opens the reply's form as a dialog with the trigger (or shows a button that
// opens it), then shows the reply's messages to the person who acted. It returns what
// goes back in the request's response.
func (a *Adapter) answer(ctx context.Context, ev bot.Event, r bot.Reply, trigger string, carry carrier) []inlined {
	var out []inlined
	add := func(p private, inDM bool) {
		if x, ok := a.deliver(ctx, ev, inDM, p, carry); ok {
			out = append(out, x)
		}
	}
	if r.Form != nil && !a.openDialog(ctx, ev, *r.Form, trigger) {
		if p, ok := a.formButton(ev, *r.Form); ok {
			add(p, false)
		}
	}
	for i, m := range r.Messages {
		add(a.cardAnswer(ev.Workspace, m, fmt.Sprintf("%s:%d", ev.ID, i)), r.InDM)
	}
	return out
}

// openDialog opens a form as a dialog with a trigger id; false when there is no trigger
// or the server refuses it (a trigger lasts three seconds).
func (a *Adapter) openDialog(ctx context.Context, ev bot.Event, f bot.RenderedForm, trigger string) bool {
	if trigger == "" {
		return false
	}
	st := dialogState{Form: f.ID, Payload: f.Payload, Workspace: ev.Workspace, Channel: ev.ChannelID, User: ev.UserID,
		DM: ev.InDM, Nonce: randomHex(8)}
	if a.cfg.DateTimeElements {
		for _, fl := range f.Fields {
			if fl.Kind == "datetime" {
				st.DateTimes = append(st.DateTimes, fl.Name)
			}
		}
	}
	req := model.OpenDialogRequest{TriggerId: trigger, URL: a.callback(PathDialog), Dialog: a.dialog(f, a.sign.encodeState(st), a.lang(ev.Locale))}
	resp, err := a.api.OpenInteractiveDialog(ctx, req)
	if err != nil {
		a.log.Warn("mattermost: opening a dialog failed", "event", ev.ID, "form", f.ID, "err", apiError("POST /actions/dialogs/open", resp, err))
		return false
	}
	return true
}

// formButton is an answer with a button that opens a form: pressing it brings a fresh
// trigger. The form travels in the button's signed context, so any replica opens it.
func (a *Adapter) formButton(ev bot.Event, f bot.RenderedForm) (private, bool) {
	b, err := json.Marshal(f)
	if err != nil {
		return private{}, false
	}
	m := bot.Rendered{Body: []string{a.text(ev.Locale, "mattermost.form.ready", map[string]any{"Title": f.Title})}}
	return private{key: ev.ID + ":form", build: func(ref string) (string, model.StringInterface) {
		x := action{kind: kindForm, workspace: ev.Workspace, payload: string(b), ref: ref}
		props := a.props(ev.Workspace, m, ref)
		props[model.PostPropsAttachments] = []*model.MessageAttachment{{Fallback: cut(oneLine(Neutralize(f.Title)), 300), Actions: []*model.PostAction{{
			Id: a.actionID(x, 0), Type: model.PostActionTypeButton, Name: label(a.text(ev.Locale, "mattermost.form.open", nil)), Style: "primary",
			Integration: &model.PostActionIntegration{URL: a.callback(PathAction), Context: a.sign.actionContext(x)},
		}}}}
		return content(m), props
	}}, true
}
