package discord

import (
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tend-community/tend/adapters/discord/discordtest"
	"github.com/tend-community/tend/bot"
)

// Member events are off by default: tend asks for no privileged intent. Switched on, it
// asks for GUILD_MEMBERS, which the developer portal must allow.
func TestMemberEventsIntent(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := newRig(t, Config{MemberEvents: on})
		r.connect(&counting{})
		got := r.srv.Identifies()[0].Intents
		if has := got&int64(discordgo.IntentsGuildMembers) != 0; has != on {
			t.Errorf("member events %v: intents %b", on, got)
		}
		if got&int64(discordgo.IntentsGuilds|discordgo.IntentsDirectMessages) != int64(discordgo.IntentsGuilds|discordgo.IntentsDirectMessages) {
			t.Errorf("member events %v: intents %b lack guilds or DMs", on, got)
		}
	}
}

// GUILD_MEMBER_REMOVE is a member-left event for that guild and user, named by the
// gateway session and sequence: the same dispatch delivered again has the same id, for
// the bot's inbox to absorb. A bot leaving is nothing; nothing is said to anyone.
func TestMemberRemoveIsMemberLeft(t *testing.T) {
	r := newRig(t, Config{MemberEvents: true})
	h := &counting{}
	r.connect(h)
	left := func() []bot.Event {
		h.mu.Lock()
		defer h.mu.Unlock()
		var out []bot.Event
		for _, ev := range h.events {
			if ev.Kind == bot.EventMemberLeft {
				out = append(out, ev)
			}
		}
		return out
	}
	r.srv.MemberRemove(testGuild, testUsers["carol"])
	r.waitFor(func() bool { return len(left()) == 1 })
	// A bot leaving, dispatched before zoe: by the time zoe's event is handled, it has
	// been read and dropped.
	r.srv.MemberRemove(testGuild, discordtest.User{ID: "900000000000000099", Username: "helperbot", Bot: true})
	seq := r.srv.MemberRemove(testGuild, testUsers["zoe"])
	r.waitFor(func() bool { return len(left()) == 2 })
	r.srv.Replay(seq)
	r.waitFor(func() bool { return len(left()) == 3 })
	evs := left()
	carol, zoe, again := evs[0], evs[1], evs[2]
	if carol.Platform != Platform || carol.Workspace != testGuild || carol.UserID != testUsers["carol"].ID || carol.UserName != "Carol" || carol.ID == "" {
		t.Errorf("event %+v", carol)
	}
	if zoe.UserID != testUsers["zoe"].ID || again.ID != zoe.ID || zoe.ID == carol.ID {
		t.Errorf("ids: carol %q, zoe %q, zoe again %q", carol.ID, zoe.ID, again.ID)
	}
	for _, ev := range left() {
		if ev.UserID == "900000000000000099" {
			t.Errorf("a bot leaving made an event: %+v", ev)
		}
	}
	if msgs := r.srv.Messages(); len(msgs) != 0 {
		t.Errorf("%d messages for departures", len(msgs))
	}
}
