package mattermost

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/adaptertest"
)

const testToken = "mmbottokentestonly0000000a"

// testSecret signs the tests' buttons; public, test only.
var testSecret = []byte("mattermost-test-only-action-secret-0123456789")

// rig is the adapter connected to a fake Mattermost, with tend's endpoints served where
// the fake calls them.
type rig struct {
	t     *testing.T
	srv   *mattermosttest.Server
	ad    *Adapter
	tend  *httptest.Server
	h     atomic.Pointer[bot.Handler]
	team  string
	board string
	mods  string
	users map[string]string // name -> user id
	// staleOK lets a press use a button as it was seen before an edit (two people
	// pressing at once), which the contract needs.
	staleOK bool
	// okProblems are fake-server problems a test expects.
	okProblems []string
}

var rigUsers = []string{"alice", "bob", "carol", "maya", "nina", "nora", "olivia", "zoe"}

// withEphemeral gives the bot the permission to post ephemeral messages.
func withEphemeral(o *mattermosttest.Options) { o.EphemeralPosts = true }

func newRig(t *testing.T, cfg Config, opts ...func(*mattermosttest.Options)) *rig {
	t.Helper()
	r := &rig{t: t, users: map[string]string{}}
	o := mattermosttest.Options{Token: testToken, TriggerTTL: time.Minute}
	for _, f := range opts {
		f(&o)
	}
	r.srv = mattermosttest.New(t, o)
	r.team = r.srv.AddTeam("hospice")
	var ids []string
	for _, name := range rigUsers {
		u := r.srv.AddUser(mattermosttest.User{Username: name, FirstName: strings.ToUpper(name[:1]) + name[1:]})
		r.srv.AddMember(r.team, u.ID, name == "maya")
		r.users[name] = u.ID
		ids = append(ids, u.ID)
	}
	r.board = r.srv.AddChannel(r.team, "board", ids...)
	r.mods = r.srv.AddChannel(r.team, "moderators", r.users["maya"])
	r.tend = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := r.h.Load()
		if h == nil {
			http.Error(w, "not connected", http.StatusServiceUnavailable)
			return
		}
		r.ad.HTTPHandler(*h).ServeHTTP(w, req)
	}))
	t.Cleanup(r.tend.Close)
	cfg.URL, cfg.Token, cfg.CallbackURL, cfg.HTTPClient = r.srv.URL(), testToken, r.tend.URL, r.srv.Client()
	if cfg.ActionSecret == nil {
		cfg.ActionSecret = testSecret
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = time.Hour
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	}
	ad, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.ad = ad
	if _, _, err := ad.Register(context.Background(), r.team); err != nil {
		t.Fatalf("register: %v", err)
	}
	t.Cleanup(func() {
		var problems []string
		for _, p := range r.srv.Problems() {
			expected := false
			for _, ok := range r.okProblems {
				expected = expected || strings.Contains(p, ok)
			}
			if !expected {
				problems = append(problems, p)
			}
		}
		if len(problems) > 0 {
			t.Errorf("protocol problems:\n%s", strings.Join(problems, "\n"))
		}
	})
	return r
}

// serve answers tend's endpoints with h (no websocket).
func (r *rig) serve(h bot.Handler) { r.h.Store(&h) }

// connect serves tend's endpoints and runs the websocket with h until the test ends.
func (r *rig) connect(h bot.Handler) {
	r.t.Helper()
	r.serve(h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ad.Run(ctx, h) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("run: %v", err)
		}
	})
	r.srv.WaitConnections(r.t, 1)
}

// settle waits until nothing is being handled.
func (r *rig) settle() {
	r.t.Helper()
	waitFor(r.t, "the adapter to be quiet", func() bool { return r.ad.busy.Load() == 0 })
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("waited in vain for %s", what)
}

// command types "/tend <text>" in the board channel.
func (r *rig) command(user, text string) {
	r.t.Helper()
	ans, err := r.srv.Command(r.users[user], r.board, text)
	if err != nil || ans.Status != http.StatusOK {
		r.t.Fatalf("/tend %s by %s: %v (HTTP %d %s)", text, user, err, ans.Status, ans.Body)
	}
}

// submit opens the form of "/tend <command>" and submits values in its dialog.
func (r *rig) submit(user, command string, values map[string]string) {
	r.t.Helper()
	before := r.srv.Dialogs(r.users[user])
	r.command(user, command)
	if r.srv.Dialogs(r.users[user]) == before {
		r.t.Fatalf("/tend %s opened no dialog", command)
	}
	resp, ans, err := r.srv.Submit(r.users[user], r.board, values)
	if err != nil || ans.Status != http.StatusOK {
		r.t.Fatalf("%s: submitting: %v (HTTP %d)", command, err, ans.Status)
	}
	if len(resp.Errors) > 0 || resp.Error != "" {
		r.t.Fatalf("%s: the dialog refused the answers: %v %s", command, resp.Errors, resp.Error)
	}
}

// pressRef is what pressing a button takes: its post and the action as seen.
type pressRef struct {
	post   string
	action mattermosttest.Action
}

// press presses a button someone saw.
func (r *rig) press(user string, ref pressRef, selected string) mattermosttest.Answer {
	r.t.Helper()
	var seen *mattermosttest.Action
	if r.staleOK {
		seen = &ref.action
	}
	ans, err := r.srv.Press(r.users[user], ref.post, ref.action.ID, selected, seen)
	if err != nil {
		r.t.Fatalf("press by %s: %v", user, err)
	}
	return ans
}

// seen decodes what the fake shows people into the contract's terms.
func (r *rig) seen() []adaptertest.Seen {
	var out []adaptertest.Seen
	for _, m := range r.srv.Messages() {
		s := adaptertest.Seen{Text: m.Text, Edit: m.Edit}
		switch {
		case m.EphemeralTo != "":
			s.Where = "~" + m.EphemeralTo
		case m.DMUser != "":
			s.Where = "@" + m.DMUser
		default:
			s.Where = "#" + m.ChannelID
		}
		for _, a := range m.Actions {
			b := adaptertest.Button{Label: a.Name, Ref: pressRef{post: m.PostID, action: a}}
			b.Action, _ = a.Context[ctxAction].(string)
			b.Payload, _ = a.Context[ctxPayload].(string)
			s.Buttons = append(s.Buttons, b)
		}
		out = append(out, s)
	}
	return out
}

// contractDriver plays the adapter contract through Mattermost's wire format: people
// act through the fake server, which calls tend's endpoints as Mattermost does (the
// slash command with its token, action requests with the button's context, dialog
// submissions with their state), and what they see is decoded from the API calls the
// adapter makes (posts, ephemeral posts, patches, direct channels).
type contractDriver struct {
	r    *rig
	once sync.Once
}

func (d *contractDriver) Adapter() bot.Adapter { return d.r.ad }
func (d *contractDriver) Connect(t *testing.T, h bot.Handler) {
	d.once.Do(func() { d.r.connect(h) })
}
func (d *contractDriver) Workspace() string                       { return d.r.team }
func (d *contractDriver) Board() string                           { return d.r.board }
func (d *contractDriver) UserID(name string) string               { return d.r.users[name] }
func (d *contractDriver) Command(t *testing.T, user, text string) { d.r.command(user, text) }
func (d *contractDriver) Submit(t *testing.T, user, command string, values map[string]string) {
	d.r.submit(user, command, values)
}
func (d *contractDriver) Press(t *testing.T, user string, b adaptertest.Button) {
	if ans := d.r.press(user, b.Ref.(pressRef), ""); ans.Status != http.StatusOK {
		t.Fatalf("press: HTTP %d %s", ans.Status, ans.Body)
	}
}
func (d *contractDriver) Seen() []adaptertest.Seen { return d.r.seen() }

// Moderators is the moderators' channel the fake server made.
func (d *contractDriver) Moderators() string { return d.r.mods }

// Leave takes the person out of the team: the server sends leave_team on the websocket.
func (d *contractDriver) Leave(t *testing.T, user string) {
	t.Helper()
	const route = "GET /teams/{id}/members/{id}"
	before := d.r.srv.Count(route, 200)
	d.r.srv.RemoveMember(d.r.team, d.r.users[user])
	// The adapter reads the ended membership before it hands the departure on.
	waitFor(t, "the departure to be handled", func() bool { return d.r.srv.Count(route, 200) > before })
	d.r.settle()
}
