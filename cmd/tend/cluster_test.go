package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tend-community/tend/adapters/loopback"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// The crash and replica tests run real `tend serve` processes: the test binary re-runs
// itself as tend when this variable is set.
const runMainEnv = "TEND_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// recorder is the platform on the other side of the loopback adapter. Like Discord with
// a nonce, it accepts each idempotency key once and answers a repeat with the same
// message id; it counts every attempt so duplicates can be reported.
type recorder struct {
	mu      sync.Mutex
	raw     map[string]int
	first   map[string]loopback.Outgoing
	board   []bot.RenderedButton            // claim buttons seen on the board
	dms     map[string][]bot.RenderedButton // buttons seen in each person's DMs
	dmTexts map[string][]string
}

func newRecorder() *recorder {
	return &recorder{raw: map[string]int{}, first: map[string]loopback.Outgoing{}, dms: map[string][]bot.RenderedButton{}, dmTexts: map[string][]string{}}
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var o loopback.Outgoing
	if err := json.NewDecoder(req.Body).Decode(&o); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	key := req.Header.Get("Idempotency-Key")
	r.mu.Lock()
	r.raw[key]++
	if r.raw[key] == 1 {
		r.first[key] = o
		switch o.To.Kind {
		case bot.DestChannel:
			for _, b := range o.Msg.Buttons {
				if b.Action == flows.ActClaim {
					r.board = append(r.board, b)
				}
			}
		case bot.DestDM:
			r.dms[o.To.UserID] = append(r.dms[o.To.UserID], o.Msg.Buttons...)
			r.dmTexts[o.To.UserID] = append(r.dmTexts[o.To.UserID], o.Msg.Title+" "+strings.Join(o.Msg.Body, " "))
		}
	}
	r.mu.Unlock()
	_ = json.NewEncoder(w).Encode(loopback.Accepted{MessageID: "m-" + key})
}

// takeDM removes and returns a button with the action from a person's DMs.
func (r *recorder) takeDM(user, action string) (bot.RenderedButton, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	bs := r.dms[user]
	for i, b := range bs {
		if b.Action == action {
			r.dms[user] = append(bs[:i:i], bs[i+1:]...)
			return b, true
		}
	}
	return bot.RenderedButton{}, false
}

func (r *recorder) randomClaim() (bot.RenderedButton, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.board) == 0 {
		return bot.RenderedButton{}, false
	}
	return r.board[rand.IntN(len(r.board))], true
}

// duplicates counts keys that arrived more than once.
func (r *recorder) duplicates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.raw {
		if c > 1 {
			n++
		}
	}
	return n
}

// cluster is a config, a database and the serve processes running on it.
type cluster struct {
	t    *testing.T
	dir  string
	dsn  string
	recv *httptest.Server
	rec  *recorder
	db   *sqlx.DB
}

const clusterKey = "dGVuZC1jbHVzdGVyLXRlc3Qta2V5LTMyLWJ5dGVzISE=" // 32 bytes, tests only

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if _, ok := storetest.PostgresDSN(); !ok {
		t.Skip("set TEND_TEST_POSTGRES_DSN to run the crash and replica tests (CI does)")
	}
	c := &cluster{t: t, dir: t.TempDir(), dsn: storetest.DSN(t, store.Postgres), rec: newRecorder()}
	c.recv = httptest.NewServer(c.rec)
	t.Cleanup(c.recv.Close)
	cfg := `[[communities]]
slug = "cluster"
name = "Cluster Neighbours"
timezone = "America/Toronto"
  [[communities.spaces]]
  platform = "loopback"
  workspace = "w1"
  board_channel = "board"
  moderators_channel = "mods"
`
	if err := os.WriteFile(filepath.Join(c.dir, "tend.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	c.db = db
	return c
}

// replica is one `tend serve` process.
type replica struct {
	cmd  *exec.Cmd
	addr string
	out  *bytes.Buffer
	done chan error
}

// start runs serve on addr and waits until it is ready.
func (c *cluster) start(addr string) *replica {
	c.t.Helper()
	cmd := exec.Command(os.Args[0], "--config", filepath.Join(c.dir, "tend.toml"), "serve")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "TEND_DATABASE_URL="+c.dsn, "TEND_ENCRYPTION_KEY="+clusterKey,
		"TEND_LOOPBACK_URL="+c.recv.URL, "TEND_HTTP_LISTEN="+addr, "TEND_DATA_DIR="+c.dir, "TEND_LOG_LEVEL=warn")
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	r := &replica{cmd: cmd, addr: addr, out: out, done: make(chan error, 1)}
	go func() { r.done <- cmd.Wait() }()
	c.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		select {
		case err := <-r.done:
			c.t.Fatalf("serve exited before it was ready: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	c.t.Fatalf("serve was not ready in time:\n%s", out.String())
	return nil
}

// kill ends a replica with SIGKILL: no shutdown, no flush.
func (r *replica) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// driver plays the people: it posts events and keeps each one until it is acknowledged,
// as a platform retries an event that was not acknowledged.
type driver struct {
	mu      sync.Mutex
	n       int
	replies map[string]bot.Reply // final reply per acknowledged event id
	kinds   map[string]string    // event id -> what it was
	addrs   []string
	client  *http.Client
}

func newDriver(addrs ...string) *driver {
	return &driver{replies: map[string]bot.Reply{}, kinds: map[string]string{}, addrs: addrs, client: &http.Client{Timeout: 20 * time.Second}}
}

func (d *driver) event(kind string, ev bot.Event) bot.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	ev.ID = fmt.Sprintf("%s-%d", kind, d.n)
	ev.Workspace = "w1"
	if ev.ChannelID == "" {
		ev.ChannelID = "board"
	}
	d.kinds[ev.ID] = kind
	return ev
}

// post sends an event to one replica; it reports whether it was acknowledged.
func (d *driver) post(addr string, ev bot.Event) bool {
	body, _ := json.Marshal(ev)
	resp, err := d.client.Post("http://"+addr+"/loopback/events", "application/json", bytes.NewReader(body))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	var r bot.Reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return false
	}
	d.mu.Lock()
	d.replies[ev.ID] = r
	d.mu.Unlock()
	return true
}

// until posts an event until some replica acknowledges it.
func (d *driver) until(t *testing.T, ev bot.Event) bot.Reply {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if d.post(d.addrs[i%len(d.addrs)], ev) {
			d.mu.Lock()
			defer d.mu.Unlock()
			return d.replies[ev.ID]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("event %s was never acknowledged", ev.ID)
	return bot.Reply{}
}

func replyText(r bot.Reply) string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Title + " " + strings.Join(m.Body, " ") + "\n")
		for _, bt := range m.Buttons {
			b.WriteString("[" + bt.Action + "]")
		}
	}
	return b.String()
}

// join makes a person a member (and a volunteer for meals).
func (c *cluster) join(t *testing.T, d *driver, user string, volunteer bool) {
	t.Helper()
	r := d.until(t, d.event("help", bot.Event{UserID: user, UserName: user, Kind: bot.EventCommand, Command: "help"}))
	var accept bot.RenderedButton
	for _, m := range r.Messages {
		for _, b := range m.Buttons {
			if b.Action == flows.ActNoticeAccept {
				accept = b
			}
		}
	}
	d.until(t, d.event("accept-notice", bot.Event{UserID: user, UserName: user, Kind: bot.EventButton, Action: accept.Action, Payload: accept.Payload}))
	if volunteer {
		d.until(t, d.event("volunteer", bot.Event{UserID: user, UserName: user, Kind: bot.EventForm, FormID: flows.FormVolunteer,
			Values: map[string]string{"categories": "meal", "areas": "any", "days": "any"}}))
	}
}

// load runs requesters and volunteers for a while; unacknowledged events are returned
// for retrying.
func (c *cluster) load(d *driver, requesters, volunteers []string, dur time.Duration, post func(bot.Event) bool) []bot.Event {
	var (
		mu      sync.Mutex
		pending []bot.Event
		wg      sync.WaitGroup
	)
	stop := time.Now().Add(dur)
	act := func(ev bot.Event) {
		if !post(ev) {
			mu.Lock()
			pending = append(pending, ev)
			mu.Unlock()
		}
	}
	for _, u := range requesters {
		wg.Add(1)
		go func(u string) {
			defer wg.Done()
			for time.Now().Before(stop) {
				if b, ok := c.rec.takeDM(u, flows.ActAcceptShare); ok {
					act(d.event("accept", bot.Event{UserID: u, UserName: u, Kind: bot.EventButton, InDM: true, Action: b.Action, Payload: b.Payload}))
				} else {
					ev := d.event("ask", bot.Event{UserID: u, UserName: u, Kind: bot.EventForm, FormID: flows.FormAsk})
					ev.Values = map[string]string{"category": "meal", "when": "tomorrow 12:00", "area": "Rosemont",
						"summary": "need " + ev.ID, "address": "12 Rue Rachel Est", "show_name": "name", "may_share": "yes"}
					act(ev)
				}
				time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond)
			}
		}(u)
	}
	for _, u := range volunteers {
		wg.Add(1)
		go func(u string) {
			defer wg.Done()
			for time.Now().Before(stop) {
				if b, ok := c.rec.randomClaim(); ok {
					act(d.event("claim", bot.Event{UserID: u, UserName: u, Kind: bot.EventButton, Action: b.Action, Payload: b.Payload}))
				}
				time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond)
			}
		}(u)
	}
	wg.Wait()
	return pending
}

// settle waits until every message is out and every due job has run.
func (c *cluster) settle(t *testing.T) {
	t.Helper()
	// Long enough for a job lost in the kill to be rescued (jobs.Options.RescueAfter plus
	// the queue's rescue interval and a new leader's election).
	deadline := time.Now().Add(180 * time.Second)
	for time.Now().Before(deadline) {
		var outbox, jobs int
		if err := c.db.Get(&outbox, `SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')`); err != nil {
			t.Fatal(err)
		}
		if err := c.db.Get(&jobs, `SELECT COUNT(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled') AND scheduled_at <= now()`); err != nil {
			t.Fatal(err)
		}
		if outbox == 0 && jobs == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatal("the outbox or the job queue did not drain")
}

// check compares what was acknowledged with what is in the database and what arrived.
func (c *cluster) check(t *testing.T, d *driver) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	asks, thanked, matched := 0, 0, 0
	for id, kind := range d.kinds {
		r, ok := d.replies[id]
		if !ok {
			t.Fatalf("event %s was never acknowledged", id)
		}
		txt := replyText(r)
		switch kind {
		case "ask":
			asks++
			var n int
			if err := c.db.Get(&n, `SELECT COUNT(*) FROM requests WHERE summary = $1`, "need "+id); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("acknowledged ask %s has %d requests, want 1", id, n)
			}
		case "claim":
			if strings.Contains(txt, "asked Alice") || strings.Contains(txt, "We've asked") {
				thanked++
			}
		case "accept":
			if strings.Contains(txt, "You're matched") {
				matched++
			}
		}
	}
	counts := map[string]int{}
	for q, want := range map[string]int{
		`SELECT COUNT(*) FROM requests`: asks,
		`SELECT COUNT(*) FROM claims`:   thanked,
		`SELECT COUNT(*) FROM consents WHERE purpose = 'share_details_with_helper'`: matched,
		`SELECT COUNT(*) FROM disclosures`:                                          matched,
	} {
		var n int
		if err := c.db.Get(&n, q); err != nil {
			t.Fatal(err)
		}
		counts[q] = n
		if n != want {
			t.Errorf("%s = %d, want %d (from the acknowledged events)", q, n, want)
		}
	}
	var sent []string
	if err := c.db.Select(&sent, `SELECT idem_key FROM outbox WHERE state = 'sent'`); err != nil {
		t.Fatal(err)
	}
	var notSent int
	if err := c.db.Get(&notSent, `SELECT COUNT(*) FROM outbox WHERE state <> 'sent'`); err != nil {
		t.Fatal(err)
	}
	c.rec.mu.Lock()
	lost := 0
	for _, k := range sent {
		if c.rec.raw[k] == 0 {
			lost++
		}
	}
	c.rec.mu.Unlock()
	if lost != 0 || notSent != 0 {
		t.Errorf("messages lost: %d recorded as sent but never received, %d not sent", lost, notSent)
	}
	var discarded int
	if err := c.db.Get(&discarded, `SELECT COUNT(*) FROM river_job WHERE state = 'discarded'`); err != nil {
		t.Fatal(err)
	}
	if discarded != 0 {
		t.Errorf("%d jobs were discarded", discarded)
	}
	t.Logf("events %d, asks %d, claims %d, matches %d, messages %d, repeated deliveries absorbed by the receiver %d",
		len(d.kinds), asks, thanked, matched, len(sent), c.rec.duplicates())
	if asks == 0 || thanked == 0 || matched == 0 {
		t.Errorf("the load did too little to prove anything: asks %d, claims %d, matches %d", asks, thanked, matched)
	}
}

// TestKillNineUnderLoad kills serve with SIGKILL in the middle of a load, restarts it,
// and checks that nothing acknowledged was lost or doubled and every message went out.
func TestKillNineUnderLoad(t *testing.T) {
	c := newCluster(t)
	addr := freeAddr(t)
	r1 := c.start(addr)
	d := newDriver(addr)
	var requesters, volunteers []string
	for i := 0; i < 6; i++ {
		requesters = append(requesters, fmt.Sprintf("r%d", i))
		volunteers = append(volunteers, fmt.Sprintf("v%d", i))
	}
	for _, u := range requesters {
		c.join(t, d, u, false)
	}
	for _, u := range volunteers {
		c.join(t, d, u, true)
	}

	killed := make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		r1.kill()
		close(killed)
	}()
	pending := c.load(d, requesters, volunteers, 3*time.Second, func(ev bot.Event) bool { return d.post(addr, ev) })
	<-killed
	c.start(addr)
	pending = append(pending, c.load(d, requesters, volunteers, 2*time.Second, func(ev bot.Event) bool { return d.post(addr, ev) })...)
	for _, ev := range pending {
		d.until(t, ev)
	}
	c.settle(t)
	c.check(t, d)
}

// TestTwoReplicasOneStream runs two serve processes on one PostgreSQL and feeds both the
// same events: each is handled once, each message delivered once, each job run once.
func TestTwoReplicasOneStream(t *testing.T) {
	c := newCluster(t)
	a1, a2 := freeAddr(t), freeAddr(t)
	c.start(a1)
	c.start(a2)
	d := newDriver(a1, a2)
	both := func(ev bot.Event) bool {
		var wg sync.WaitGroup
		oks := make([]bool, 2)
		for i, a := range []string{a1, a2} {
			wg.Add(1)
			go func(i int, a string) { defer wg.Done(); oks[i] = d.post(a, ev) }(i, a)
		}
		wg.Wait()
		return oks[0] || oks[1]
	}
	var requesters, volunteers []string
	for i := 0; i < 5; i++ {
		requesters = append(requesters, fmt.Sprintf("r%d", i))
		volunteers = append(volunteers, fmt.Sprintf("v%d", i))
	}
	for _, u := range append(requesters, volunteers...) {
		ev := d.event("help", bot.Event{UserID: u, UserName: u, Kind: bot.EventCommand, Command: "help"})
		both(ev)
	}
	for _, u := range requesters {
		c.join(t, d, u, false)
	}
	for _, u := range volunteers {
		c.join(t, d, u, true)
	}
	pending := c.load(d, requesters, volunteers, 3*time.Second, both)
	for _, ev := range pending {
		d.until(t, ev)
	}
	// Bring the nudge and escalation jobs forward: they run now, on whichever replica
	// takes them, once.
	var due int
	if err := c.db.Get(&due, `WITH moved AS (UPDATE river_job SET scheduled_at = now() WHERE kind IN ('nudge', 'escalate') AND state = 'scheduled' RETURNING 1) SELECT COUNT(*) FROM moved`); err != nil {
		t.Fatal(err)
	}
	c.settle(t)
	c.check(t, d)
	var events, inbox int
	if err := c.db.Get(&inbox, `SELECT COUNT(*) FROM inbox WHERE platform = 'loopback'`); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	events = len(d.kinds)
	d.mu.Unlock()
	if inbox != events {
		t.Errorf("inbox rows %d for %d distinct events", inbox, events)
	}
	if dup := c.rec.duplicates(); dup != 0 {
		t.Errorf("%d messages were delivered more than once by two live replicas", dup)
	}
	var ran, once int
	if err := c.db.Get(&ran, `SELECT COUNT(*) FROM inbox WHERE platform = 'job' AND (event_id LIKE '%nudge%' OR event_id LIKE '%escalate%')`); err != nil {
		t.Fatal(err)
	}
	if err := c.db.Get(&once, `SELECT COUNT(*) FROM river_job WHERE kind IN ('nudge', 'escalate') AND state = 'completed'`); err != nil {
		t.Fatal(err)
	}
	if due == 0 || ran != due || once != due {
		t.Errorf("jobs brought forward %d, recorded runs %d, completed %d: want all equal and non-zero", due, ran, once)
	}
}
