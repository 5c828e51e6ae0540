package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tend-community/tend/bot"
)

// Run connects to the gateway and hands interactions and DMs to h until ctx ends.
// discordgo keeps the connection: heartbeats, reconnects with back-off, and resumes
// the session so events missed while away are replayed; a replayed interaction is
// absorbed by the bot's inbox. A connection that cannot be made at all (a bad token) is
// an error.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	work := func(fn func(ctx context.Context)) {
		a.bg.Add(1)
		a.busy.Add(1)
		go func() {
			defer a.bg.Done()
			defer a.busy.Add(-1)
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
			defer cancel()
			fn(ctx)
		}()
	}
	removers := []func(){
		a.s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
			a.mu.Lock()
			if r.Application != nil && r.Application.ID != "" {
				a.appID = r.Application.ID
			}
			a.session = r.SessionID
			a.mu.Unlock()
			a.log.Info("discord: connected", "shard", a.cfg.ShardID, "shards", max(a.cfg.ShardCount, 1), "guilds", len(r.Guilds))
		}),
		a.s.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
			work(func(ctx context.Context) { a.onInteraction(ctx, h, ic.Interaction) })
		}),
		a.s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
			work(func(ctx context.Context) { a.onDirectMessage(ctx, h, m.Message) })
		}),
	}
	if a.cfg.MemberEvents {
		removers = append(removers, a.s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
			if e.Type == "GUILD_MEMBER_REMOVE" {
				work(func(ctx context.Context) { a.onMemberRemove(ctx, h, e) })
			}
		}))
	}
	defer func() {
		for _, rm := range removers {
			rm()
		}
	}()
	if err := a.s.Open(); err != nil {
		return fmt.Errorf("discord: connecting to the gateway: %w", err)
	}
	<-ctx.Done()
	err := a.s.Close()
	a.bg.Wait()
	if err != nil {
		a.log.Warn("discord: closing the gateway connection", "err", err)
	}
	return nil
}

// onDirectMessage takes what a person writes to the bot in its DMs (a dialogue's
// answers). Messages in guild channels are not read: tend asks for no message content.
func (a *Adapter) onDirectMessage(ctx context.Context, h bot.Handler, m *discordgo.Message) {
	if m == nil || m.GuildID != "" || m.Author == nil || m.Author.Bot || m.Author.System || m.Content == "" {
		return
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return
	}
	a.dms.Remember(m.Author.ID, m.ChannelID)
	a.markClosed(m.Author.ID, false)
	name := m.Author.GlobalName
	if name == "" {
		name = m.Author.Username
	}
	ev := bot.Event{ID: "m:" + m.ID, Platform: Platform, UserID: m.Author.ID, UserName: name, ChannelID: m.ChannelID,
		InDM: true, Kind: bot.EventText, Text: m.Content, ReceivedAt: time.Now()}
	r := a.handle(ctx, h, ev)
	for k, msg := range r.Messages {
		rm, err := render(ev.Workspace, msg)
		if err == nil {
			// A message replayed after a resume gets the stored reply: the nonce makes
			// Discord return the first post instead of showing it twice.
			rm.Nonce, rm.EnforceNonce = nonce(fmt.Sprintf("%s:%d", ev.ID, k)), true
			_, err = a.post(ctx, m.ChannelID, rm)
		}
		if err != nil {
			a.log.Warn("discord: reply in DM failed", "event", ev.ID, "err", err)
		}
	}
	if r.Form != nil {
		rm := message{Content: a.text("", "discord.form.use_command", nil), Components: []discordgo.MessageComponent{}}
		if _, err := a.post(ctx, m.ChannelID, rm); err != nil {
			a.log.Warn("discord: reply in DM failed", "event", ev.ID, "err", err)
		}
	}
}

// memberRemove is the payload of GUILD_MEMBER_REMOVE.
type memberRemove struct {
	GuildID string `json:"guild_id"`
	User    struct {
		ID         string `json:"id"`
		Username   string `json:"username"`
		GlobalName string `json:"global_name"`
		Bot        bool   `json:"bot"`
	} `json:"user"`
}

// onMemberRemove turns GUILD_MEMBER_REMOVE (someone left the server or was removed)
// into a member-left event. Its id is the gateway session and the dispatch's sequence
// number, so a dispatch replayed after a resume is absorbed by the bot's inbox. Nothing
// answers it: the person is gone.
func (a *Adapter) onMemberRemove(ctx context.Context, h bot.Handler, e *discordgo.Event) {
	var d memberRemove
	if err := json.Unmarshal(e.RawData, &d); err != nil || d.GuildID == "" || d.User.ID == "" || d.User.Bot {
		return
	}
	// Someone no longer in the server holds none of its roles.
	a.seeRoles(d.GuildID, d.User.ID, nil)
	a.mu.Lock()
	session := a.session
	a.mu.Unlock()
	name := d.User.GlobalName
	if name == "" {
		name = d.User.Username
	}
	a.handle(ctx, h, bot.Event{ID: fmt.Sprintf("left:%s:%s:%d", d.User.ID, session, e.Sequence), Platform: Platform, Workspace: d.GuildID,
		UserID: d.User.ID, UserName: name, Kind: bot.EventMemberLeft, ReceivedAt: time.Now()})
}
