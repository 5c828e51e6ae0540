package discord

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/adapters/discord/discordtest"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// The moderators' role in the test guild.
const modRole = "600000000000000001"

// live is a community on the fake guild with the bot running.
type live struct {
	*rig
	app *bot.App
	db  *store.DB
}

// startLive binds a community to the fake guild and runs the bot, with roles from the
// guild's roles (Config.ModeratorRoles holds modRole).
func startLive(t *testing.T, db *store.DB) *live {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return now })
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ApplyCommunity(ctx, store.CommunitySetup{
			Community:  store.Community{Slug: "guild", Name: "Guild Neighbours", Locale: "en", Timezone: "America/Toronto", RetentionDays: 30},
			Categories: []store.Category{{Key: "ride", Risk: "high", Tier: "volunteer"}, {Key: "meal", Risk: "low", Tier: "volunteer"}},
			Bindings:   []store.Binding{{Platform: Platform, Workspace: testGuild, BoardChannel: testBoard, ModeratorsChannel: "800000000000000011"}},
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, Config{ModeratorRoles: []string{modRole}})
	app := bot.New(bot.Options{DB: db, Catalog: cat, Roles: func(_ int64, _ string, user string) (bool, bool) { return r.ad.Roles(user) }})
	app.Attach(r.ad)
	r.connect(app)
	return &live{rig: r, app: app, db: db}
}

// do runs an action and delivers what it committed.
func (l *live) do(fn func()) {
	l.t.Helper()
	fn()
	if err := l.app.Flush(context.Background()); err != nil {
		l.t.Fatal(err)
	}
}

func (l *live) join(users ...string) {
	l.t.Helper()
	for _, u := range users {
		l.do(func() { l.command(u, "help") })
		l.do(func() { l.press(u, l.mustButton(u, flows.ActNoticeAccept)) })
	}
}

// mustButton finds the last button with an action that user could see.
func (l *live) mustButton(user, action string) buttonRef {
	l.t.Helper()
	id := testUsers[user].ID
	seen := l.seen()
	for i := len(seen) - 1; i >= 0; i-- {
		s := seen[i]
		if s.Where != "~"+id && s.Where != "@"+id && s.Where != "#"+testBoard {
			continue
		}
		for _, b := range s.Buttons {
			if b.Action == action {
				return b.Ref.(buttonRef)
			}
		}
	}
	l.t.Fatalf("%s sees no %q button", user, action)
	return buttonRef{}
}

// lastTo is the text of the last message shown at where.
func (l *live) lastTo(where string) string {
	seen := l.seen()
	for i := len(seen) - 1; i >= 0; i-- {
		if seen[i].Where == where {
			return seen[i].Text
		}
	}
	return ""
}

func (l *live) ask(user string, values map[string]string) {
	l.t.Helper()
	v := map[string]string{"category": "ride", "when": "thursday 13:00", "until": "16:00", "area": "Rosemont",
		"summary": "Ride to the clinic", "address": "12 Rue Rachel Est", "phone": "514-555-0199", "notes": "Walker",
		"show_name": "name", "may_share": "yes", "follow_up": "no"}
	for k, x := range values {
		v[k] = x
	}
	l.do(func() { l.submit(user, "ask", v) })
}

// Moderators come from guild roles, checked on every privileged action: the same
// command works for a member with the role and is refused without it.
func TestRolesFromGuild(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLive(t, db)
		l.roles["maya"] = []string{modRole}
		l.join("maya", "carol", "bob")
		l.do(func() {
			l.submit("bob", "volunteer", map[string]string{"categories": "ride", "areas": "any", "days": "any"})
		})
		l.do(func() { l.command("carol", "vet "+testUsers["bob"].ID) })
		if got := l.lastTo("~" + testUsers["carol"].ID); strings.Contains(got, "Recorded") {
			t.Fatalf("a member without the role vetted someone: %q", got)
		}
		l.do(func() { l.command("maya", "vet "+testUsers["bob"].ID) })
		if got := l.lastTo("~" + testUsers["maya"].ID); !strings.Contains(got, "Recorded") {
			t.Fatalf("the moderator could not vet: %q", got)
		}
		// The role is taken away: the next command sees it gone.
		l.roles["maya"] = nil
		l.do(func() { l.command("maya", "vet "+testUsers["carol"].ID) })
		if got := l.lastTo("~" + testUsers["maya"].ID); strings.Contains(got, "Recorded") {
			t.Fatalf("a removed role still worked: %q", got)
		}
	})
}

// Text people type reaches the board unable to ping anyone, and every message says so
// to Discord too.
func TestUserTextCannotPing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLive(t, db)
		l.join("alice")
		l.ask("alice", map[string]string{"summary": "@everyone @here <@700000000000000002> <@&600000000000000001> ride"})
		board := l.lastTo("#" + testBoard)
		if !strings.Contains(board, "ride") {
			t.Fatalf("no board card: %q", board)
		}
		for _, ping := range []string{"@everyone", "@here", "<@700000000000000002>", "<@&600000000000000001>"} {
			if strings.Contains(board, ping) {
				t.Errorf("%s reached the board as it was typed: %q", ping, board)
			}
		}
		for _, m := range l.srv.Messages() {
			if string(m.AllowedMentions) != `{"parse":[]}` {
				t.Errorf("message %s allows mentions: %s", m.ID, m.AllowedMentions)
			}
		}
	})
}

// A choice typed wrong is sent back to fix, with only that answer to give again, and
// the rest of the form kept.
func TestFormFixAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLive(t, db)
		l.join("alice")
		l.ask("alice", map[string]string{"when": "yesterday"})
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests`); n != 0 {
			t.Fatalf("a request for yesterday was posted")
		}
		msgs := l.srv.Messages()
		last := msgs[len(msgs)-1]
		fix, ok := l.lastButton(last.InteractionID, idFix)
		if !ok || !strings.Contains(fix.customID, "when") {
			t.Fatalf("no fix button for the date: %+v", last)
		}
		id := l.press("alice", fix)
		md, ok := l.srv.Modal(id)
		if !ok || len(md.Fields) != 1 || md.Fields[0].CustomID != "when" {
			t.Fatalf("the fix modal is %+v", md)
		}
		l.do(func() {
			sub, _ := l.srv.SubmitModal(testGuild, testBoard, testUsers["alice"], nil, md.CustomID, map[string]string{"when": "thursday 13:00"}, "en-US")
			l.settle(sub)
		})
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE summary = 'Ride to the clinic'`); n != 1 {
			t.Fatalf("requests after the fix = %d", n)
		}
	})
}

// A person whose DMs are closed is told, in the channel and privately, how to open them;
// what the bot had for them is not lost: "Show it to me" shows it.
func TestDMsClosed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLive(t, db)
		l.join("alice", "bob")
		l.do(func() {
			l.submit("bob", "volunteer", map[string]string{"categories": "ride", "areas": "any", "days": "any"})
		})
		l.ask("alice", nil)
		l.srv.CloseDMs(testUsers["alice"].ID)
		l.do(func() { l.press("bob", l.mustButton("bob", flows.ActClaim)) })
		show := l.mustButton("alice", bot.ActShowUndelivered)
		if show.dm {
			t.Fatal("the notice of an undelivered DM went to the DM")
		}
		id := l.press("alice", show)
		var saw []string
		for _, m := range l.srv.Messages() {
			if m.InteractionID == id {
				if m.EphemeralTo != testUsers["alice"].ID {
					t.Errorf("the undelivered message was shown to %q", m.EphemeralTo)
				}
				saw = append(saw, m.Content)
			}
		}
		all := strings.Join(saw, "\n")
		if !strings.Contains(all, "Bob would like to help") || !strings.Contains(all, "Privacy Settings") {
			t.Fatalf("alice saw:\n%s", all)
		}
		// Accepting from there works as from the DM.
		l.do(func() { l.press("alice", l.mustButton("alice", flows.ActAcceptShare)) })
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE state = 'accepted'`); n != 1 {
			t.Fatalf("accepted claims = %d", n)
		}
	})
}

// What people write to the bot in its DMs reaches the bot, whose answer comes back in
// the same DM.
func TestDirectMessageText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLive(t, db)
		l.join("alice")
		for _, tt := range []struct{ user, want string }{
			{"alice", "not waiting for an answer"},
			// A stranger, known in no community, is told where to start.
			{"zoe", "which community"},
		} {
			l.srv.DMText(testUsers[tt.user], "hello")
			where := "@" + testUsers[tt.user].ID
			l.waitFor(func() bool { return l.lastTo(where) != "" })
			if got := l.lastTo(where); !strings.Contains(got, tt.want) {
				t.Fatalf("%s's DM got %q", tt.user, got)
			}
		}
	})
}

// An answer the bot cannot give within the deadline is deferred, then filled in.
func TestSlowAnswerIsDeferred(t *testing.T) {
	r := newRig(t, Config{ReplyWithin: time.Millisecond})
	release := make(chan struct{})
	r.connect(bot.HandlerFunc(func(ctx context.Context, ev bot.Event) (bot.Reply, error) {
		<-release
		return bot.Reply{Messages: []bot.Rendered{{Body: []string{"Here is your answer."}}}}, nil
	}))
	id, _ := r.srv.Command(testGuild, testBoard, testUsers["alice"], nil, Command, "mine", nil, "en-US")
	deadline := time.Now().Add(10 * time.Second)
	for !r.answered(id) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	r.settle(id)
	cbs := r.srv.Callbacks()
	if len(cbs) != 1 || cbs[0].Type != 5 || !strings.Contains(string(cbs[0].Data), `"flags":64`) {
		t.Fatalf("callbacks = %+v, want one ephemeral deferral", cbs)
	}
	var filled bool
	for _, m := range r.srv.Messages() {
		filled = filled || (m.Via == "original" && m.Content == "Here is your answer." && m.EphemeralTo == testUsers["alice"].ID)
	}
	if !filled {
		t.Fatalf("the deferred answer was not filled in: %+v", r.srv.Messages())
	}
}

// A form the bot gives after the deadline cannot open as a modal: a button opens it.
func TestSlowFormOpensFromAButton(t *testing.T) {
	r := newRig(t, Config{ReplyWithin: time.Millisecond})
	release := make(chan struct{})
	r.connect(bot.HandlerFunc(func(ctx context.Context, ev bot.Event) (bot.Reply, error) {
		if ev.Kind == bot.EventCommand {
			<-release
		}
		return bot.Reply{Form: &bot.RenderedForm{ID: "volunteer", Title: "Volunteer", Fields: []bot.RenderedFormField{{Name: "areas", Kind: "text", Label: "Areas"}}}}, nil
	}))
	id, _ := r.srv.Command(testGuild, testBoard, testUsers["bob"], nil, Command, "volunteer", nil, "en-US")
	deadline := time.Now().Add(10 * time.Second)
	for !r.answered(id) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	r.settle(id)
	open, ok := r.lastButton(id, idNext)
	if !ok {
		t.Fatalf("no button to open the form: %+v", r.srv.Messages())
	}
	r.ad.cfg.ReplyWithin = time.Minute
	press := r.press("bob", open)
	if md, ok := r.srv.Modal(press); !ok || md.Fields[0].CustomID != "areas" {
		t.Fatalf("the button did not open the form: %+v", md)
	}
}

// Sending maps Discord's answers to what the outbox does: wait on a 429 (the whole
// platform on a global one), stop on what cannot succeed, retry the rest.
func TestSendErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(srv *discordtest.Server)
		to     bot.Destination
		check  func(t *testing.T, err error)
		closed bool
	}{
		{"a route's rate limit", func(srv *discordtest.Server) { srv.RateLimit("POST", "/api/v10/channels/", 2.5, false, 1) },
			bot.Destination{Kind: bot.DestChannel, ChannelID: testBoard}, func(t *testing.T, err error) {
				var rl *bot.RateLimitError
				if !errors.As(err, &rl) || rl.RetryAfter != 2500*time.Millisecond || rl.Bucket == "" {
					t.Fatalf("err = %v, want a 2.5 s limit on the route", err)
				}
			}, false},
		{"a global rate limit", func(srv *discordtest.Server) { srv.RateLimit("POST", "/api/v10/channels/", 0.05, true, 1) },
			bot.Destination{Kind: bot.DestChannel, ChannelID: testBoard}, func(t *testing.T, err error) {
				var rl *bot.RateLimitError
				if !errors.As(err, &rl) || rl.Bucket != "" || rl.RetryAfter != 50*time.Millisecond {
					t.Fatalf("err = %v, want a global limit", err)
				}
			}, false},
		{"DMs closed", func(srv *discordtest.Server) { srv.CloseDMs(testUsers["alice"].ID) },
			bot.Destination{Kind: bot.DestDM, UserID: testUsers["alice"].ID}, func(t *testing.T, err error) {
				if !errors.Is(err, bot.ErrPermanent) || !dmsClosed(err) {
					t.Fatalf("err = %v, want a permanent DMs-closed failure", err)
				}
			}, true},
		{"Discord is down", func(srv *discordtest.Server) { srv.FailNext("POST", "/api/v10/channels/", 503, 0, "unavailable") },
			bot.Destination{Kind: bot.DestChannel, ChannelID: testBoard}, func(t *testing.T, err error) {
				if err == nil || errors.Is(err, bot.ErrPermanent) {
					t.Fatalf("err = %v, want a failure to retry", err)
				}
			}, false},
		{"the channel is gone", func(srv *discordtest.Server) {
			srv.FailNext("POST", "/api/v10/channels/", 404, 10003, "Unknown Channel")
		},
			bot.Destination{Kind: bot.DestChannel, ChannelID: testBoard}, func(t *testing.T, err error) {
				if !errors.Is(err, bot.ErrPermanent) {
					t.Fatalf("err = %v, want permanent", err)
				}
			}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Config{})
			tt.setup(r.srv)
			_, err := r.ad.Send(context.Background(), bot.Delivery{To: tt.to, Msg: bot.Rendered{Body: []string{"hello"}}, Key: "k1"})
			tt.check(t, err)
			if got := r.ad.takeClosed(testUsers["alice"].ID); got != tt.closed {
				t.Fatalf("closed DMs remembered = %v, want %v", got, tt.closed)
			}
			// The next send goes through: nothing sleeps or stays blocked.
			if _, err := r.ad.Send(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, ChannelID: testBoard}, Msg: bot.Rendered{Body: []string{"again"}}}); err != nil {
				t.Fatalf("the next send: %v", err)
			}
		})
	}
}

// A resend with the same key after a crash posts nothing new: Discord returns the first
// message for an enforced nonce.
func TestResendIsNotDoubled(t *testing.T) {
	r := newRig(t, Config{})
	d := bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, ChannelID: testBoard}, Msg: bot.Rendered{Body: []string{"once"}}, Key: "outbox:7"}
	first, err := r.ad.Send(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.ad.Send(context.Background(), d)
	if err != nil || second != first {
		t.Fatalf("second send = %q, %v; want the first message %q", second, err, first)
	}
}

// Discord computes a member's permissions in the channel for every interaction: "Manage
// Server" or Administrator make a platform administrator, nothing else does.
func TestPlatformAdminFromPermissions(t *testing.T) {
	cases := []struct {
		name  string
		bits  int64
		admin bool
	}{
		{"no permissions", 0, false},
		{"send messages only", 1 << 11, false},
		{"manage server", 1 << 5, true},
		{"administrator", 1 << 3, true},
		{"manage channels is not enough", 1 << 4, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Config{})
			got := make(chan bot.Event, 1)
			r.connect(bot.HandlerFunc(func(_ context.Context, ev bot.Event) (bot.Reply, error) {
				got <- ev
				return bot.Reply{}, nil
			}))
			r.srv.SetPermissions(testGuild, testUsers["alice"].ID, c.bits)
			r.command("alice", "setup")
			select {
			case ev := <-got:
				if ev.PlatformAdmin != c.admin {
					t.Fatalf("permissions %#x: PlatformAdmin = %v, want %v", c.bits, ev.PlatformAdmin, c.admin)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no event reached the bot")
			}
		})
	}
}
