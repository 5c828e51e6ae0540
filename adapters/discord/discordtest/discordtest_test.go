package discordtest_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tend-community/tend/adapters/discord/discordtest"
)

const token = "test-token"

var (
	alice = discordtest.User{ID: "1000000000000000001", Username: "alice", GlobalName: "Alice"}
	bob   = discordtest.User{ID: "1000000000000000002", Username: "bob"}
)

// events collects what a discordgo session received.
type events struct {
	mu           sync.Mutex
	ready        []*discordgo.Ready
	interactions []*discordgo.InteractionCreate
	messages     []*discordgo.MessageCreate
}

func (e *events) snapshot() (ready []*discordgo.Ready, inter []*discordgo.InteractionCreate, msgs []*discordgo.MessageCreate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ready), slices.Clone(e.interactions), slices.Clone(e.messages)
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newSession(t *testing.T, srv *discordtest.Server, tok string, compress bool) (*discordgo.Session, *events) {
	t.Helper()
	sess, err := discordgo.New("Bot " + tok)
	if err != nil {
		t.Fatal(err)
	}
	sess.Client = srv.Client()
	sess.Dialer = srv.Dialer()
	sess.ShouldRetryOnRateLimit = false
	sess.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsDirectMessages
	sess.Compress = compress
	sess.LogLevel = -1
	sess.SyncEvents = true
	ev := &events{}
	sess.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.ready = append(ev.ready, r)
	})
	sess.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.interactions = append(ev.interactions, i)
	})
	sess.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.messages = append(ev.messages, m)
	})
	return sess, ev
}

// connect starts a fake and an open session on it.
func connect(t *testing.T, o discordtest.Options, compress bool) (*discordtest.Server, *discordgo.Session, *events) {
	t.Helper()
	if o.Token == "" {
		o.Token = token
	}
	srv := discordtest.New(t, o)
	sess, ev := newSession(t, srv, o.Token, compress)
	if err := sess.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	srv.WaitSessions(t, 1)
	return srv, sess, ev
}

func rest(sess *discordgo.Session, method, path string, body any) ([]byte, error) {
	return sess.RequestWithBucketID(method, "https://discord.com/api/v10"+path, body, method+" "+path)
}

func noProblems(t *testing.T, srv *discordtest.Server) {
	t.Helper()
	if p := srv.Problems(); len(p) > 0 {
		t.Errorf("problems:\n%s", strings.Join(p, "\n"))
	}
}

var commands = []map[string]any{{
	"name": "offer", "description": "Offer help", "contexts": []int{0, 1},
	"options": []map[string]any{{
		"type": 1, "name": "add", "description": "Add an offer",
		"options": []map[string]any{
			{"type": 3, "name": "what", "description": "What you offer", "required": true},
			{"type": 6, "name": "for", "description": "Who it is for"},
			{"type": 4, "name": "hours", "description": "How long"},
		},
	}},
}}

func registerCommands(t *testing.T, sess *discordgo.Session) {
	t.Helper()
	if _, err := rest(sess, "PUT", "/applications/900000000000000001/commands", commands); err != nil {
		t.Fatalf("register commands: %v", err)
	}
}

func TestIdentifyReady(t *testing.T) {
	t.Parallel()
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "zlib"}[compress], func(t *testing.T) {
			t.Parallel()
			srv, _, ev := connect(t, discordtest.Options{}, compress)
			eventually(t, "READY handler", func() bool { r, _, _ := ev.snapshot(); return len(r) == 1 })
			r, _, _ := ev.snapshot()
			if r[0].User == nil || r[0].User.ID != "900000000000000002" || !r[0].User.Bot || r[0].SessionID == "" {
				t.Errorf("READY = %+v", r[0])
			}
			ids := srv.Identifies()
			if len(ids) != 1 || ids[0].Token != "Bot "+token || ids[0].Compress != compress ||
				ids[0].Intents != int64(discordgo.IntentsGuilds|discordgo.IntentsDirectMessages) || ids[0].Properties["$os"] == "" {
				t.Errorf("identifies = %+v", ids)
			}
			eventually(t, "a heartbeat ACK", func() bool { return srv.HeartbeatAcks() > 0 })
			noProblems(t, srv)
		})
	}
}

func TestGatewayWrongToken(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{Token: token})
	sess, _ := newSession(t, srv, "wrong", false)
	err := sess.Open()
	if err == nil {
		_ = sess.Close()
		t.Fatal("Open with a wrong token succeeded")
	}
	if !strings.Contains(err.Error(), "4004") {
		t.Errorf("Open error = %v, want close 4004", err)
	}
}

func TestCommandInteraction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, guild, channel string
		roles                []string
	}{
		{"guild", "500000000000000001", "600000000000000001", []string{"700000000000000001", "700000000000000002"}},
		{"dm", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, sess, ev := connect(t, discordtest.Options{}, false)
			registerCommands(t, sess)
			srv.SetMember(tc.guild, bob, nil)
			id, tok := srv.Command(tc.guild, tc.channel, alice, tc.roles, "offer", "add",
				map[string]any{"what": "soup", "for": discordtest.UserOption{ID: bob.ID}, "hours": 2}, "fr")
			eventually(t, "INTERACTION_CREATE", func() bool { _, i, _ := ev.snapshot(); return len(i) == 1 })
			_, got, _ := ev.snapshot()
			i := got[0]
			if i.ID != id || i.Token != tok || i.Type != discordgo.InteractionApplicationCommand || i.GuildID != tc.guild || i.Locale != "fr" {
				t.Errorf("interaction = %+v", i.Interaction)
			}
			if tc.guild != "" {
				if i.Member == nil || i.Member.User.ID != alice.ID || !slices.Equal(i.Member.Roles, tc.roles) || i.User != nil {
					t.Errorf("member = %+v, user = %+v", i.Member, i.User)
				}
				if i.ChannelID != tc.channel {
					t.Errorf("channel = %q", i.ChannelID)
				}
			} else if i.User == nil || i.User.ID != alice.ID || i.Member != nil || i.ChannelID != srv.DMChannelID(alice.ID) {
				t.Errorf("user = %+v, member = %+v, channel %q", i.User, i.Member, i.ChannelID)
			}
			d := i.ApplicationCommandData()
			if d.Name != "offer" || len(d.Options) != 1 || d.Options[0].Name != "add" || d.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand {
				t.Fatalf("data = %+v", d)
			}
			opts := d.Options[0].Options
			if len(opts) != 3 || opts[0].StringValue() != "soup" || opts[1].Type != discordgo.ApplicationCommandOptionUser ||
				opts[1].Value != bob.ID || opts[2].IntValue() != 2 {
				t.Errorf("options = %+v", opts)
			}
			if d.Resolved == nil || d.Resolved.Users[bob.ID] == nil || d.Resolved.Users[bob.ID].Username != "bob" {
				t.Errorf("resolved = %+v", d.Resolved)
			}
			noProblems(t, srv)
		})
	}
}

func TestDropResumeReplaysOnce(t *testing.T) {
	t.Parallel()
	srv, _, ev := connect(t, discordtest.Options{}, false)
	srv.Drop()
	const missed = "1100000000000000999"
	seq := srv.Dispatch("MESSAGE_CREATE", map[string]any{
		"id": missed, "type": 0, "channel_id": srv.DMChannelID(alice.ID), "content": "sent while down",
		"author":    map[string]any{"id": alice.ID, "username": alice.Username, "discriminator": "0"},
		"timestamp": "2024-01-01T00:00:00.000000+00:00", "mentions": []any{}, "attachments": []any{}, "embeds": []any{},
	})
	if seq != 2 {
		t.Errorf("Dispatch seq = %d, want 2 (READY was 1)", seq)
	}
	srv.WaitResumed(t, 1)
	marker := srv.DMText(alice, "after resume")
	eventually(t, "the message after RESUMED", func() bool {
		_, _, m := ev.snapshot()
		return slices.ContainsFunc(m, func(m *discordgo.MessageCreate) bool { return m.ID == marker })
	})
	_, _, msgs := ev.snapshot()
	n := 0
	for _, m := range msgs {
		if m.ID == missed {
			n++
			if m.Author.ID != alice.ID || m.GuildID != "" || m.Content != "sent while down" {
				t.Errorf("missed message = %+v", m.Message)
			}
		}
	}
	if n != 1 {
		t.Errorf("missed message received %d times, want 1", n)
	}
	r, _, _ := ev.snapshot()
	res := srv.Resumes()
	if len(res) != 1 || res[0].SessionID != r[0].SessionID || res[0].Token != "Bot "+token || res[0].Seq != 1 {
		t.Errorf("resumes = %+v (session %s)", res, r[0].SessionID)
	}
	if len(srv.Identifies()) != 1 {
		t.Errorf("identifies = %d, want 1", len(srv.Identifies()))
	}
	noProblems(t, srv)
}

func TestReconnectResumes(t *testing.T) {
	t.Parallel()
	srv, _, _ := connect(t, discordtest.Options{}, true)
	srv.Reconnect()
	srv.WaitResumed(t, 1)
	noProblems(t, srv)
}

func TestInvalidateSession(t *testing.T) {
	t.Parallel()
	for _, resumable := range []bool{false, true} {
		t.Run(map[bool]string{false: "not-resumable", true: "resumable"}[resumable], func(t *testing.T) {
			t.Parallel()
			srv, _, ev := connect(t, discordtest.Options{}, false)
			srv.InvalidateSession(resumable)
			srv.WaitSessions(t, 2)
			if n := len(srv.Identifies()); n != 2 {
				t.Errorf("identifies = %d, want 2", n)
			}
			id := srv.DMText(bob, "hello")
			eventually(t, "MESSAGE_CREATE on the new session", func() bool {
				_, _, m := ev.snapshot()
				return len(m) == 1 && m[0].ID == id
			})
			noProblems(t, srv)
		})
	}
}

func TestREST(t *testing.T) {
	t.Parallel()
	srv, sess, _ := connect(t, discordtest.Options{}, false)
	dm := srv.DMChannelID(bob.ID)
	srv.CloseDMs(bob.ID)
	text := map[string]any{"content": "hi"}
	six := map[string]any{"content": "x", "components": []any{map[string]any{"type": 1, "components": []any{
		btn("a"), btn("b"), btn("c"), btn("d"), btn("e"), btn("f")}}}}

	for _, tc := range []struct {
		name             string
		setup            func()
		method, path     string
		body             any
		status, code     int
		rateLimited      bool
		retryAfter       time.Duration
		wantProblem      string
		checkAfterwards  bool
		wantFailureAfter bool
	}{
		{name: "rate limited", setup: func() { srv.RateLimit("POST", "/channels/", 0.05, false, 1) },
			method: "POST", path: "/channels/600000000000000001/messages", body: text, rateLimited: true, retryAfter: 50 * time.Millisecond},
		{name: "globally rate limited", setup: func() { srv.RateLimit("", "/channels/600000000000000001", 2.5, true, 1) },
			method: "POST", path: "/channels/600000000000000001/messages", body: text, rateLimited: true, retryAfter: 2500 * time.Millisecond},
		{name: "closed DMs", method: "POST", path: "/channels/" + dm + "/messages", body: text, status: 403, code: 50007},
		{name: "injected failure", setup: func() { srv.FailNext("GET", "/api/v10/users/@me", 500, 0, "500: Internal Server Error") },
			method: "GET", path: "/users/@me", status: 500},
		{name: "unknown message", method: "PATCH", path: "/channels/600000000000000001/messages/1", body: text, status: 404, code: 10008},
		{name: "unknown member", method: "GET", path: "/guilds/500000000000000001/members/" + alice.ID, status: 404, code: 10007},
		{name: "six buttons in a row", method: "POST", path: "/channels/600000000000000001/messages", body: six,
			status: 400, code: 50035, wantProblem: "components.0.components"},
		{name: "empty message", method: "POST", path: "/channels/600000000000000001/messages", body: map[string]any{},
			status: 400, code: 50006},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			_, err := rest(sess, tc.method, tc.path, tc.body)
			if tc.rateLimited {
				var rl *discordgo.RateLimitError
				if !errors.As(err, &rl) || rl.RetryAfter != tc.retryAfter {
					t.Fatalf("err = %v, want a RateLimitError retrying after %v", err, tc.retryAfter)
				}
				// The bucket is not blocked: the same request goes through now.
				if _, err := rest(sess, tc.method, tc.path, tc.body); err != nil {
					t.Errorf("retry: %v", err)
				}
				return
			}
			var re *discordgo.RESTError
			if !errors.As(err, &re) || re.Response.StatusCode != tc.status || (tc.code != 0 && (re.Message == nil || re.Message.Code != tc.code)) {
				t.Fatalf("err = %v, want HTTP %d code %d", err, tc.status, tc.code)
			}
			if tc.wantProblem != "" && !slices.ContainsFunc(srv.Problems(), func(p string) bool { return strings.Contains(p, tc.wantProblem) }) {
				t.Errorf("problems = %q, want one about %q", srv.Problems(), tc.wantProblem)
			}
		})
	}
}

func btn(id string) map[string]any {
	return map[string]any{"type": 2, "style": 1, "label": id, "custom_id": id}
}

func TestRealisticRateLimitHeaders(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{Token: token, RealisticRateLimitHeaders: true})
	sess, _ := newSession(t, srv, token, false)
	srv.RateLimit("GET", "/users/@me", 0.05, false, 1)
	_, err := rest(sess, "GET", "/users/@me", nil)
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want a RateLimitError", err)
	}
	// discordgo waits for the bucket's reset, then the request goes through.
	if _, err := rest(sess, "GET", "/users/@me", nil); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].Status != 429 || calls[1].Status != 200 {
		t.Errorf("calls = %+v", calls)
	}
}

func TestRESTWrongToken(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{Token: token})
	sess, _ := newSession(t, srv, "nope", false)
	_, err := rest(sess, "GET", "/users/@me", nil)
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response.StatusCode != 401 || re.Message == nil || re.Message.Message != "401: Unauthorized" {
		t.Fatalf("err = %v, want 401", err)
	}
}

func TestNonceDedupe(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{Token: token})
	sess, _ := newSession(t, srv, token, false)
	post := func(enforce bool) string {
		t.Helper()
		b, err := rest(sess, "POST", "/channels/600000000000000001/messages",
			map[string]any{"content": "once", "nonce": "n-1", "enforce_nonce": enforce})
		if err != nil {
			t.Fatal(err)
		}
		var m discordgo.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	first, again := post(true), post(true)
	if first != again {
		t.Errorf("enforced nonce: second post made message %s, want %s", again, first)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d message records, want 1", n)
	}
	if other := post(false); other == first {
		t.Errorf("unenforced nonce: got the same message")
	}
	noProblems(t, srv)
}

func TestInteractionResponses(t *testing.T) {
	t.Parallel()
	srv, sess, ev := connect(t, discordtest.Options{}, false)
	registerCommands(t, sess)
	const guild, channel = "500000000000000001", "600000000000000001"
	roles := []string{"700000000000000001"}
	callback := func(id, tok string, body any) error {
		_, err := rest(sess, "POST", "/interactions/"+id+"/"+tok+"/callback", body)
		return err
	}

	// A command answered ephemerally, then answered again.
	id, tok := srv.Command(guild, channel, alice, roles, "offer", "add", map[string]any{"what": "soup"}, "")
	if err := callback(id, tok, map[string]any{"type": 4, "data": map[string]any{"content": "noted", "flags": 64}}); err != nil {
		t.Fatal(err)
	}
	err := callback(id, tok, map[string]any{"type": 4, "data": map[string]any{"content": "again"}})
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response.StatusCode != 400 || re.Message.Code != 40060 {
		t.Errorf("second callback: %v, want 400 code 40060", err)
	}
	if p := srv.Problems(); len(p) != 1 || !strings.Contains(p[0], "acknowledged twice") {
		t.Errorf("problems = %q", p)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].EphemeralTo != alice.ID || msgs[0].Via != "callback" || msgs[0].GuildID != guild || msgs[0].Content != "noted" {
		t.Errorf("messages = %+v", msgs)
	}

	// A channel message with a button; the button opens a modal; the modal
	// submit updates the message.
	b, err := rest(sess, "POST", "/channels/"+channel+"/messages", map[string]any{"content": "Need soup?",
		"components": []any{map[string]any{"type": 1, "components": []any{btn("help:1")}}}})
	if err != nil {
		t.Fatal(err)
	}
	var posted discordgo.Message
	_ = json.Unmarshal(b, &posted)
	pid, ptok := srv.Press(guild, channel, bob, nil, posted.ID, "help:1", nil, "")
	modal := map[string]any{"custom_id": "form:1", "title": "Offer", "components": []any{
		row(map[string]any{"type": 4, "custom_id": "when", "label": "When?", "style": 1, "required": true, "max_length": 20}),
		row(map[string]any{"type": 4, "custom_id": "note", "label": "Note", "style": 2, "required": false}),
	}}
	if err := callback(pid, ptok, map[string]any{"type": 9, "data": modal}); err != nil {
		t.Fatal(err)
	}
	if m, ok := srv.Modal(pid); !ok || m.Title != "Offer" || len(m.Fields) != 2 || m.Fields[0].CustomID != "when" || !m.Fields[0].Required || m.Fields[1].Required {
		t.Errorf("modal = %+v", m)
	}
	sid, stok := srv.SubmitModal(guild, channel, bob, nil, "form:1", map[string]string{"note": "n", "when": "now"}, "")
	eventually(t, "the modal submit", func() bool {
		_, i, _ := ev.snapshot()
		return len(i) == 3
	})
	_, inter, _ := ev.snapshot()
	if p := inter[1]; p.Message == nil || p.Message.ID != posted.ID || p.MessageComponentData().CustomID != "help:1" {
		t.Errorf("press = %+v", p.Interaction)
	}
	sub := inter[2].ModalSubmitData()
	first := sub.Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.TextInput)
	if inter[2].ID != sid || sub.CustomID != "form:1" || len(sub.Components) != 2 || first.CustomID != "when" || first.Value != "now" {
		t.Errorf("submit = %+v", sub)
	}
	if err := callback(sid, stok, map[string]any{"type": 7, "data": map[string]any{"content": "Thanks", "components": []any{}}}); err != nil {
		t.Fatal(err)
	}
	if m, _ := srv.MessageByID(posted.ID); !m.Edit || m.Content != "Thanks" || len(m.Buttons) != 0 {
		t.Errorf("updated message = %+v", m)
	}

	// A deferred answer filled in later, then a follow-up.
	did, dtok := srv.Command("", "", alice, nil, "offer", "add", map[string]any{"what": "bread"}, "")
	if err := callback(did, dtok, map[string]any{"type": 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := rest(sess, "PATCH", "/webhooks/900000000000000001/"+dtok+"/messages/@original", map[string]any{"content": "done"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rest(sess, "POST", "/webhooks/900000000000000001/"+dtok, map[string]any{"content": "psst", "flags": 64}); err != nil {
		t.Fatal(err)
	}
	msgs = srv.Messages()
	orig, follow := msgs[len(msgs)-2], msgs[len(msgs)-1]
	if orig.Via != "original" || orig.Edit || orig.Content != "done" || orig.DMUser != alice.ID || orig.GuildID != "" {
		t.Errorf("original = %+v", orig)
	}
	if follow.Via != "followup" || follow.EphemeralTo != alice.ID || follow.Content != "psst" {
		t.Errorf("follow-up = %+v", follow)
	}
	if n := len(srv.Problems()); n != 1 {
		t.Errorf("problems = %q, want only the double acknowledgement", srv.Problems())
	}
	if n := len(srv.Callbacks()); n != 4 {
		t.Errorf("%d callbacks, want 4", n)
	}
}

func row(c map[string]any) map[string]any {
	return map[string]any{"type": 1, "components": []any{c}}
}

func TestCommandsOverwriteKeepsIDs(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{Token: token})
	sess, _ := newSession(t, srv, token, false)
	put := func(path string) []discordgo.ApplicationCommand {
		t.Helper()
		b, err := rest(sess, "PUT", path, commands)
		if err != nil {
			t.Fatal(err)
		}
		var out []discordgo.ApplicationCommand
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const guildPath = "/applications/900000000000000001/guilds/500000000000000001/commands"
	a, b := put(guildPath), put(guildPath)
	if len(a) != 1 || a[0].ID == "" || a[0].ID != b[0].ID || a[0].GuildID != "500000000000000001" {
		t.Errorf("first %+v, second %+v", a, b)
	}
	if got := srv.Commands("500000000000000001"); len(got) != 1 || len(srv.Commands("")) != 0 {
		t.Errorf("stored: guild %d, global %d", len(got), len(srv.Commands("")))
	}
	bad := []map[string]any{{"name": "Bad Name", "description": ""}}
	if _, err := rest(sess, "PUT", guildPath, bad); err == nil || len(srv.Problems()) != 1 {
		t.Errorf("invalid command accepted: err %v, problems %q", err, srv.Problems())
	}
}
