package discord

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tend-community/tend/bot"
)

// followUpTimeout bounds the work on one interaction after the bot has answered.
const followUpTimeout = 30 * time.Second

// formRef is what an interaction says about a form: the one a modal held, or the one a
// "continue" or "fix" button asks for.
type formRef struct {
	id      string
	part    int // the part a modal held or a button opens
	parts   int // how many parts the form has (a modal's), 0 when unknown
	fix     []string
	isModal bool
}

// onInteraction turns an interaction into a bot event, lets the bot handle it, and
// answers: at once when the bot is quick, else with a deferred response and then the
// answer as a follow-up.
func (a *Adapter) onInteraction(ctx context.Context, h bot.Handler, i *discordgo.Interaction) {
	ev, ref, ok := a.event(i)
	if !ok {
		return
	}
	guild := ev.Workspace
	if i.Member != nil {
		a.seeRoles(i.GuildID, ev.UserID, i.Member.Roles)
	} else if guild != "" {
		a.refreshRoles(ctx, guild, ev.UserID)
	}
	reply, deferred := a.within(ctx, h, i, ev)
	a.respond(ctx, i, ev, ref, reply, deferred)
}

// event translates an interaction; ok is false for kinds tend does not use.
func (a *Adapter) event(i *discordgo.Interaction) (bot.Event, formRef, bool) {
	ev := bot.Event{ID: "i:" + i.ID, Platform: Platform, Workspace: i.GuildID, ChannelID: i.ChannelID,
		InDM: i.GuildID == "", Locale: string(i.Locale), ReceivedAt: time.Now()}
	ev.UserID, ev.UserName = person(i)
	// An interaction's member carries their permissions in this channel, overrides
	// included: "Manage Server" (or Administrator) makes a platform administrator.
	if i.Member != nil {
		ev.PlatformAdmin = i.Member.Permissions&(discordgo.PermissionAdministrator|discordgo.PermissionManageGuild) != 0
	}
	var ref formRef
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		d := i.ApplicationCommandData()
		ev.Kind, ev.Command = bot.EventCommand, "help"
		if len(d.Options) > 0 && d.Options[0].Type == discordgo.ApplicationCommandOptionSubCommand {
			ev.Command = d.Options[0].Name
			given := map[string]string{}
			for _, o := range d.Options[0].Options {
				given[o.Name] = optionText(o)
			}
			ev.Args = arguments(ev.Command, given)
		}
	case discordgo.InteractionMessageComponent:
		d := i.MessageComponentData()
		if i.Message != nil {
			ev.MessageID = i.Message.ID
		}
		kind, parts := splitID(d.CustomID)
		if len(parts) > 0 && ev.Workspace == "" {
			ev.Workspace = parts[0]
		}
		ev.Kind = bot.EventButton
		switch {
		case kind == idButton && len(parts) == 3:
			ev.Action, ev.Payload = parts[1], parts[2]
		case kind == idSelect && len(parts) == 2:
			ev.Action = parts[1]
			if len(d.Values) > 0 {
				ev.Value = d.Values[0]
			}
		case kind == idNext && len(parts) == 3:
			ev.Action = bot.ActResumeForm
			ref.id = parts[1]
			ref.part, _ = strconv.Atoi(parts[2])
		case kind == idFix && len(parts) == 3:
			ev.Action = bot.ActResumeForm
			ref.id, ref.fix = parts[1], strings.Split(parts[2], ",")
		default:
			// Not one of tend's: a button from another bot's message, or an old format.
			ev.Action = "unknown"
		}
	case discordgo.InteractionModalSubmit:
		d := i.ModalSubmitData()
		kind, parts := splitID(d.CustomID)
		if kind != idModal || len(parts) != 4 {
			return ev, ref, false
		}
		if ev.Workspace == "" {
			ev.Workspace = parts[0]
		}
		ref = formRef{id: parts[1], isModal: true}
		if parts[2] != "fix" {
			p, n, _ := strings.Cut(parts[2], "/")
			ref.part, _ = strconv.Atoi(p)
			ref.parts, _ = strconv.Atoi(n)
		}
		ev.Kind, ev.FormID, ev.FormPayload = bot.EventForm, parts[1], parts[3]
		ev.Partial = ref.parts > 0 && ref.part < ref.parts-1
		ev.Values = map[string]string{}
		for _, row := range d.Components {
			r, ok := row.(*discordgo.ActionsRow)
			if !ok {
				continue
			}
			for _, c := range r.Components {
				if in, ok := c.(*discordgo.TextInput); ok {
					ev.Values[in.CustomID] = in.Value
				}
			}
		}
	default:
		return ev, ref, false
	}
	if ev.InDM && ev.Workspace != "" {
		// A press in a DM: the guild comes from the custom id; the event stays private.
		ev.ChannelID = i.ChannelID
	}
	return ev, ref, true
}

// person is who acted and the name Discord shows for them in the guild.
func person(i *discordgo.Interaction) (id, name string) {
	u := i.User
	nick := ""
	if i.Member != nil {
		u, nick = i.Member.User, i.Member.Nick
	}
	if u == nil {
		return "", ""
	}
	switch {
	case nick != "":
		return u.ID, nick
	case u.GlobalName != "":
		return u.ID, u.GlobalName
	}
	return u.ID, u.Username
}

func optionText(o *discordgo.ApplicationCommandInteractionDataOption) string {
	switch v := o.Value.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	return fmt.Sprint(o.Value)
}

// within lets the bot handle the event and waits up to ReplyWithin; past that it
// defers the response (Discord allows three seconds for the first one) and waits on.
func (a *Adapter) within(ctx context.Context, h bot.Handler, i *discordgo.Interaction, ev bot.Event) (bot.Reply, bool) {
	done := make(chan bot.Reply, 1)
	go func() { done <- a.handle(ctx, h, ev) }()
	t := time.NewTimer(a.cfg.ReplyWithin)
	defer t.Stop()
	select {
	case r := <-done:
		return r, false
	case <-t.C:
	}
	if err := a.callback(ctx, i, response{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &message{Flags: ephemeral(i), Components: []discordgo.MessageComponent{}}}); err != nil {
		a.log.Warn("discord: deferring an interaction failed", "event", ev.ID, "err", err)
	}
	return <-done, true
}

// handle calls the bot and logs a failure by ids only; the reply is used either way (on
// failure it is the calm message to show).
func (a *Adapter) handle(ctx context.Context, h bot.Handler, ev bot.Event) bot.Reply {
	r, err := h.Handle(ctx, ev)
	if err != nil {
		a.log.Error("discord: handling an event failed", "event", ev.ID, "kind", string(ev.Kind), "workspace", ev.Workspace, "err", err)
	}
	return r
}

// ephemeral is the flag for answers only the person sees: in a guild channel. In the
// bot's DMs the answer stays, as any message there.
func ephemeral(i *discordgo.Interaction) int {
	if i.GuildID != "" {
		return flagEphemeral
	}
	return 0
}

// respond answers the interaction with the bot's reply: a modal when the reply is a form
// and the interaction allows one, else messages (the first as the response, the rest as
// follow-ups), with the adapter's own buttons to continue or fix a form.
func (a *Adapter) respond(ctx context.Context, i *discordgo.Interaction, ev bot.Event, ref formRef, r bot.Reply, deferred bool) {
	guild := ev.Workspace
	var msgs []message
	if r.Form != nil && !deferred && i.Type != discordgo.InteractionModalSubmit {
		md, err := formModal(guild, *r.Form, ref.part, ref.fix)
		if err == nil {
			if err := a.callback(ctx, i, response{Type: discordgo.InteractionResponseModal, Data: md}); err != nil {
				a.log.Warn("discord: opening a modal failed", "event", ev.ID, "form", r.Form.ID, "err", err)
			}
			if len(r.Messages) > 0 {
				a.log.Warn("discord: messages beside a form were not shown", "event", ev.ID, "count", len(r.Messages))
			}
			return
		}
		a.log.Warn("discord: a form could not become a modal", "event", ev.ID, "err", err)
	}
	for _, m := range r.Messages {
		rm, err := render(guild, m)
		if err != nil {
			a.log.Warn("discord: a reply could not be rendered", "event", ev.ID, "err", err)
			continue
		}
		msgs = append(msgs, rm)
	}
	lang := ev.Locale
	switch {
	case len(r.FieldErrors) > 0 && ref.isModal && ev.Partial:
		// A part with answers to fix opens again, then the form goes on.
		if id, err := customID(idNext, guild, ref.id, strconv.Itoa(ref.part)); err == nil && len(msgs) > 0 {
			last := &msgs[len(msgs)-1]
			last.Components = append(last.Components, button(a.text(lang, "discord.form.fix", nil), id, discordgo.PrimaryButton))
		}
	case len(r.FieldErrors) > 0 && ref.id != "":
		names := make([]string, 0, len(r.FieldErrors))
		for name := range r.FieldErrors {
			names = append(names, name)
		}
		slices.Sort(names)
		if id, err := customID(idFix, guild, ref.id, strings.Join(names[:min(len(names), maxInputs)], ",")); err == nil {
			if len(msgs) == 0 {
				msgs = append(msgs, message{Content: a.text(lang, "discord.form.fix_intro", nil)})
			}
			last := &msgs[len(msgs)-1]
			last.Components = append(last.Components, button(a.text(lang, "discord.form.fix", nil), id, discordgo.PrimaryButton))
		}
	case ref.isModal && ev.Partial && len(msgs) == 0:
		if id, err := customID(idNext, guild, ref.id, strconv.Itoa(ref.part+1)); err == nil {
			msgs = append(msgs, message{
				Content:    a.text(lang, "discord.form.part_saved", map[string]any{"N": ref.part + 1, "Total": ref.parts}),
				Components: []discordgo.MessageComponent{button(a.text(lang, "discord.form.continue", nil), id, discordgo.PrimaryButton)},
			})
		}
	}
	if r.Form != nil {
		// A modal cannot answer a modal, nor follow a deferral: a button opens it instead.
		if id, err := customID(idNext, guild, r.Form.ID, strconv.Itoa(max(ref.part, 0))); err == nil {
			msgs = append(msgs, message{
				Content:    a.text(lang, "discord.form.ready", map[string]any{"Title": r.Form.Title}),
				Components: []discordgo.MessageComponent{button(a.text(lang, "discord.form.open", nil), id, discordgo.PrimaryButton)},
			})
		}
	}
	if ev.Action == bot.ActShowUndelivered || a.takeClosed(ev.UserID) {
		msgs = append(msgs, message{Content: a.text(lang, "discord.dm_closed", nil)})
	}
	a.answer(ctx, i, ev, msgs, deferred)
}

// answer sends messages as the interaction's response and follow-ups.
func (a *Adapter) answer(ctx context.Context, i *discordgo.Interaction, ev bot.Event, msgs []message, deferred bool) {
	flags := ephemeral(i)
	for k := range msgs {
		msgs[k].Flags = flags
		if msgs[k].Components == nil {
			msgs[k].Components = []discordgo.MessageComponent{}
		}
	}
	var err error
	switch {
	case len(msgs) == 0 && i.Type == discordgo.InteractionMessageComponent && !deferred:
		// A press that only changed things elsewhere: acknowledge without a message.
		err = a.callback(ctx, i, response{Type: discordgo.InteractionResponseDeferredMessageUpdate})
	case len(msgs) == 0:
		msgs = []message{{Content: a.text(ev.Locale, "discord.done", nil), Flags: flags, Components: []discordgo.MessageComponent{}}}
		fallthrough
	default:
		if deferred {
			err = a.original(ctx, i, msgs[0])
		} else {
			err = a.callback(ctx, i, response{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: msgs[0]})
		}
		for _, m := range msgs[1:] {
			if err != nil {
				break
			}
			err = a.followUp(ctx, i, m)
		}
	}
	if err != nil {
		a.log.Warn("discord: answering an interaction failed", "event", ev.ID, "err", err)
	}
}

// callback is the interaction's first response.
func (a *Adapter) callback(ctx context.Context, i *discordgo.Interaction, r response) error {
	return a.call(ctx, "POST", "/interactions/"+i.ID+"/"+i.Token+"/callback", "POST /interactions/{id}/{token}/callback", r, nil)
}

// original fills in a deferred response.
func (a *Adapter) original(ctx context.Context, i *discordgo.Interaction, m message) error {
	return a.call(ctx, "PATCH", "/webhooks/"+a.application(i)+"/"+i.Token+"/messages/@original", "PATCH /webhooks/{id}/{token}/messages/@original", m, nil)
}

// followUp sends one more message on the interaction.
func (a *Adapter) followUp(ctx context.Context, i *discordgo.Interaction, m message) error {
	return a.call(ctx, "POST", "/webhooks/"+a.application(i)+"/"+i.Token, "POST /webhooks/{id}/{token}", m, nil)
}

func (a *Adapter) application(i *discordgo.Interaction) string {
	if i.AppID != "" {
		return i.AppID
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appID
}
