package discord

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tend-community/tend/adapters/discord/discordtest"
	"github.com/tend-community/tend/bot"
)

// counting is a handler that remembers every event it got.
type counting struct {
	mu     sync.Mutex
	events []bot.Event
}

func (c *counting) Handle(_ context.Context, ev bot.Event) (bot.Reply, error) {
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
	return bot.Reply{Messages: []bot.Rendered{{Body: []string{"ok"}}}}, nil
}

func (c *counting) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ev := range c.events {
		if id == "" || ev.ID == "i:"+id {
			n++
		}
	}
	return n
}

// The adapter identifies with the least intents (nothing privileged) and its shard.
func TestIdentify(t *testing.T) {
	tests := []struct {
		name      string
		id, count int
		shard     []int
	}{
		{"one shard", 0, 0, nil},
		{"second of three", 1, 3, []int{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Config{ShardID: tt.id, ShardCount: tt.count})
			r.connect(&counting{})
			ids := r.srv.Identifies()
			if len(ids) != 1 {
				t.Fatalf("identifies = %d", len(ids))
			}
			got := ids[0]
			if got.Intents != int64(discordgo.IntentsGuilds|discordgo.IntentsDirectMessages) {
				t.Errorf("intents = %b", got.Intents)
			}
			if got.Intents&int64(discordgo.IntentsMessageContent|discordgo.IntentsGuildMembers|discordgo.IntentsGuildPresences) != 0 {
				t.Error("a privileged intent was asked for")
			}
			if len(tt.shard) == 0 && len(got.Shard) != 0 && !(got.Shard[0] == 0 && got.Shard[1] == 1) {
				t.Errorf("shard = %v", got.Shard)
			}
			if len(tt.shard) > 0 && (len(got.Shard) != 2 || got.Shard[0] != tt.shard[0] || got.Shard[1] != tt.shard[1]) {
				t.Errorf("shard = %v, want %v", got.Shard, tt.shard)
			}
			if !strings.HasSuffix(got.Token, testToken) {
				t.Error("identified without the token")
			}
		})
	}
}

func TestShardConfig(t *testing.T) {
	for _, c := range []Config{{ShardID: 3, ShardCount: 3}, {ShardID: -1}, {ShardCount: -2}} {
		c.Token = "t"
		if _, err := New(c, nil); err == nil {
			t.Errorf("shard %d of %d was accepted", c.ShardID, c.ShardCount)
		}
	}
	if _, err := New(Config{}, nil); err == nil || !strings.Contains(err.Error(), "TEND_DISCORD_TOKEN") {
		t.Errorf("no token: %v", err)
	}
}

// Heartbeats are sent and acknowledged while connected.
func TestHeartbeat(t *testing.T) {
	srv := discordtest.New(t, discordtest.Options{Token: testToken, HeartbeatInterval: 20 * time.Millisecond})
	ad, err := New(Config{Token: testToken, HTTPClient: srv.Client(), Dialer: srv.Dialer()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, srv: srv, ad: ad, roles: map[string][]string{}}
	r.connect(&counting{})
	r.waitFor(func() bool { return srv.HeartbeatAcks() >= 3 })
}

// A connection lost mid-session resumes it: what happened meanwhile arrives once.
func TestResumeAfterDrop(t *testing.T) {
	r := newRig(t, Config{})
	h := &counting{}
	r.connect(h)
	first, _ := r.srv.Command(testGuild, testBoard, testUsers["alice"], nil, Command, "help", nil, "en-US")
	r.settle(first)
	r.srv.Drop()
	missed, _ := r.srv.Command(testGuild, testBoard, testUsers["bob"], nil, Command, "mine", nil, "en-US")
	r.srv.WaitResumed(t, 1)
	r.settle(missed)
	if len(r.srv.Resumes()) != 1 || len(r.srv.Identifies()) != 1 {
		t.Fatalf("resumes %d, identifies %d: want the session resumed, not started anew", len(r.srv.Resumes()), len(r.srv.Identifies()))
	}
	if h.count(missed) != 1 || h.count(first) != 1 {
		t.Fatalf("events: first %d, missed %d; want each once", h.count(first), h.count(missed))
	}
}

// A session Discord invalidates starts anew and goes on taking events.
func TestInvalidSession(t *testing.T) {
	r := newRig(t, Config{})
	h := &counting{}
	r.connect(h)
	r.srv.InvalidateSession(false)
	r.srv.WaitSessions(t, 2)
	id, _ := r.srv.Command(testGuild, testBoard, testUsers["alice"], nil, Command, "help", nil, "en-US")
	r.settle(id)
	if len(r.srv.Identifies()) != 2 || h.count(id) != 1 {
		t.Fatalf("identifies %d, event seen %d times", len(r.srv.Identifies()), h.count(id))
	}
}

// A command interaction becomes the bot's command with its options as arguments, and an
// id the inbox recognises if Discord delivers the interaction again.
func TestCommandInteraction(t *testing.T) {
	r := newRig(t, Config{})
	h := &counting{}
	r.connect(h)
	id, _ := r.srv.Command(testGuild, testBoard, testUsers["alice"], []string{modRole}, Command, "vet", map[string]any{"member": discordtest.UserOption{ID: testUsers["bob"].ID}, "note": "met at the church"}, "fr")
	r.settle(id)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) != 1 {
		t.Fatalf("events = %d", len(h.events))
	}
	ev := h.events[0]
	want := bot.Event{ID: "i:" + id, Platform: Platform, Workspace: testGuild, UserID: testUsers["alice"].ID, UserName: "Alice",
		ChannelID: testBoard, Kind: bot.EventCommand, Command: "vet", Locale: "fr"}
	if ev.ID != want.ID || ev.Workspace != want.Workspace || ev.UserID != want.UserID || ev.UserName != want.UserName ||
		ev.ChannelID != want.ChannelID || ev.Command != "vet" || ev.Locale != "fr" || ev.InDM {
		t.Fatalf("event = %+v", ev)
	}
	if strings.Join(ev.Args, " ") != testUsers["bob"].ID+" met at the church" {
		t.Fatalf("args = %q", ev.Args)
	}
}
