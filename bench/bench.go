// Package bench is `tend bench`: it drives simulated people through the real router,
// inbox, flows, outbox and (optionally) job queue, with a recording adapter in place of a
// chat platform, against a real database, and measures what DESIGN.md's Targets name:
//
//  1. ack latency under an open workload (N people, each acting on average every think
//     time, exponentially distributed), from just before App.Handle to its return (the
//     reply is produced only after the commit);
//  2. claims per second, closed loop at saturation, every press on a different request;
//  3. the bare baseline: the very rows one claim writes, as one plain SQL transaction,
//     with the same concurrency on the same database in the same run;
//  4. the outbox drain rate for the backlog phase 2 left (delivery paused meanwhile).
//
// Each run creates its own community (slug bench-<random>) bound to its own workspace of
// the "bench" platform, so it never touches other communities' rows. It leaves what it
// created in place; the report names the community.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/jobs"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// Defaults, as DESIGN.md's Targets state the workload.
const (
	DefaultPeople   = 500
	DefaultThink    = 2 * time.Second
	DefaultDuration = 20 * time.Second
)

// Options configure a run. Zero values take the defaults.
type Options struct {
	// DSN names the database (PostgreSQL or SQLite, as store.Open reads it).
	DSN string
	// People is the number of simulated people in the open workload (about 40%
	// requesters, 60% volunteers).
	People int
	// Think is each person's mean time between actions (exponentially distributed).
	Think time.Duration
	// Duration is how long the open workload runs; the claims and baseline phases run
	// for half of it each.
	Duration time.Duration
	// Concurrency is the number of workers of the closed-loop phases, and of delivery
	// workers. Default 2 × the number of CPUs.
	Concurrency int
	// Jobs attaches the durable job queue (River): the flow jobs an event schedules (an
	// ask's nudges and expiry, an accept's reminders) are written in its transaction.
	Jobs bool
	// Progress, when set, is called about once a second.
	Progress func(Progress)
	// Logger receives tend's own log lines during the run; nil discards them.
	Logger *slog.Logger
}

// Phase names a part of the run.
type Phase string

// Phases, in order.
const (
	PhaseSetup    Phase = "setup"
	PhaseLoad     Phase = "load"
	PhaseClaims   Phase = "claims"
	PhaseBaseline Phase = "baseline"
	PhaseDrain    Phase = "drain"
)

// Progress is a snapshot for the progress line.
type Progress struct {
	Phase   Phase
	Elapsed time.Duration
	// Events counts what the phase did so far: events (load), claims, baseline
	// transactions, or rows delivered (drain).
	Events int
	// Rate is Events per second so far.
	Rate float64
	// P99 is the ack latency p99 of the last second (load phase only).
	P99 time.Duration
	// Backlog is the outbox rows still to deliver (drain phase only).
	Backlog int
}

// Report is what a run measured. Times are in milliseconds, rates per second.
type Report struct {
	DSN         string `json:"dsn"`
	Engine      string `json:"engine"`
	Community   string `json:"community"`
	People      int    `json:"people"`
	Requesters  int    `json:"requesters"`
	Volunteers  int    `json:"volunteers"`
	Think       string `json:"think"`
	Duration    string `json:"duration"`
	Concurrency int    `json:"concurrency"`
	Jobs        bool   `json:"jobs"`

	// Open workload.
	Events       int            `json:"events"`
	EventRate    float64        `json:"event_rate"`
	OfferedRate  float64        `json:"offered_rate"`
	AckP50       float64        `json:"ack_p50_ms"`
	AckP95       float64        `json:"ack_p95_ms"`
	AckP99       float64        `json:"ack_p99_ms"`
	AckMax       float64        `json:"ack_max_ms"`
	Errors       int            `json:"errors"`
	Refusals     int            `json:"refusals"`
	EventsByKind map[string]int `json:"events_by_kind"`
	// FirstError is the first error seen in any phase, for diagnosis.
	FirstError string `json:"first_error,omitempty"`

	// Closed-loop claims.
	Claims        int     `json:"claims"`
	ClaimErrors   int     `json:"claim_errors"`
	ClaimRefusals int     `json:"claim_refusals"`
	ClaimSeconds  float64 `json:"claim_seconds"`
	ClaimsPerS    float64 `json:"claims_per_s"`
	ClaimP50      float64 `json:"claim_p50_ms"`
	ClaimP99      float64 `json:"claim_p99_ms"`

	// Bare baseline.
	BaselineTxs     int     `json:"baseline_txs"`
	BaselineErrors  int     `json:"baseline_errors"`
	BaselineSeconds float64 `json:"baseline_seconds"`
	BaselinePerS    float64 `json:"baseline_tx_per_s"`
	// BaselineWrites lists the statements of the baseline transaction.
	BaselineWrites []string `json:"baseline_writes"`
	Ratio          float64  `json:"ratio"`

	// Outbox drain.
	DrainRows    int     `json:"drain_rows"`
	DrainSeconds float64 `json:"drain_seconds"`
	DrainPerS    float64 `json:"drain_rows_per_s"`

	Deliveries int `json:"deliveries"`
	Duplicates int `json:"duplicates"`
	// PeakRSSMB is nil where the peak resident set size cannot be read.
	PeakRSSMB *float64 `json:"peak_rss_mb"`
}

func (o Options) withDefaults() Options {
	if o.People == 0 {
		o.People = DefaultPeople
	}
	if o.Think == 0 {
		o.Think = DefaultThink
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Concurrency == 0 {
		o.Concurrency = 2 * runtime.NumCPU()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Errors for bad options.
var ErrOptions = errors.New("bench: bad options")

func (o Options) check() error {
	var problems []string
	if strings.TrimSpace(o.DSN) == "" {
		problems = append(problems, "no database DSN")
	}
	if o.People < 2 {
		problems = append(problems, "people must be at least 2")
	}
	if o.Think <= 0 {
		problems = append(problems, "think must be positive")
	}
	if o.Duration < 100*time.Millisecond {
		problems = append(problems, "duration must be at least 100ms")
	}
	if o.Concurrency < 1 {
		problems = append(problems, "concurrency must be at least 1")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrOptions, strings.Join(problems, "; "))
	}
	return nil
}

// person is one simulated member.
type person struct {
	user      string
	name      string
	member    int64
	requester bool
	area      string
	// Requester state, touched only by the person's own goroutine.
	open     bool
	openedAt time.Time
}

// run is one bench run's state.
type run struct {
	o    Options
	db   *store.DB
	cat  *catalog.Catalog
	rec  *Recorder
	ws   string
	comm int64
	rep  Report

	people     []*person
	requesters []*person
	volunteers []*person
	areas      []string

	refusals map[string]bool
	seq      atomic.Int64

	// Set by the claims phase for the baseline and the drain.
	app2    *bot.App
	runner2 *jobs.Runner
	sample  string

	errMu    sync.Mutex
	firstErr string
}

// Board and moderators' channels of the bench workspace.
const (
	boardChannel = "board"
	modsChannel  = "mods"
)

// Run runs the four phases and returns what they measured. Errors and refusals inside
// the workload are counted in the report; an error is returned only when the run itself
// cannot go on (the database cannot be reached, ctx ends).
func Run(ctx context.Context, o Options) (Report, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return Report{}, err
	}
	keys, err := ephemeralKeys()
	if err != nil {
		return Report{}, err
	}
	db, err := store.Open(ctx, o.DSN, keys)
	if err != nil {
		return Report{}, redactErr(err, o.DSN)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return Report{}, redactErr(err, o.DSN)
	}
	cat, err := catalog.New()
	if err != nil {
		return Report{}, err
	}
	r := &run{o: o, db: db, cat: cat, refusals: refusalTexts(cat)}
	r.rep = Report{DSN: config.RedactDSN(o.DSN), Engine: string(db.Engine), People: o.People, Think: o.Think.String(),
		Duration: o.Duration.String(), Concurrency: o.Concurrency, Jobs: o.Jobs, EventsByKind: map[string]int{}}
	r.progress(Progress{Phase: PhaseSetup})
	if err := r.setup(ctx); err != nil {
		return r.rep, redactErr(err, o.DSN)
	}
	for _, phase := range []func(context.Context) error{r.load, r.claims, r.baseline, r.drain} {
		if err := phase(ctx); err != nil {
			return r.finish(), redactErr(err, o.DSN)
		}
	}
	return r.finish(), nil
}

func (r *run) finish() Report {
	rep := r.rep
	rep.Deliveries = r.rec.Deliveries()
	rep.Duplicates = r.rec.Duplicates()
	if rep.BaselinePerS > 0 {
		rep.Ratio = round(rep.ClaimsPerS/rep.BaselinePerS, 3)
	}
	if mb, ok := peakRSS(); ok {
		rep.PeakRSSMB = &mb
	}
	r.errMu.Lock()
	rep.FirstError = config.RedactIn(r.firstErr, r.o.DSN)
	r.errMu.Unlock()
	return rep
}

// ephemeralKeys is a keyring with a fresh random key that lives only in this process:
// the private details the bench writes are unreadable once it ends.
func ephemeralKeys() (*store.Keyring, error) {
	s, err := store.NewKey()
	if err != nil {
		return nil, err
	}
	k, err := store.ParseKey(s)
	if err != nil {
		return nil, err
	}
	return store.NewKeyring(k)
}

// redactErr hides the DSN's password should an error carry it.
func redactErr(err error, dsn string) error {
	if err == nil || !config.HasPassword(dsn) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errors.New(config.RedactIn(err.Error(), dsn))
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (r *run) progress(p Progress) {
	if r.o.Progress != nil {
		r.o.Progress(p)
	}
}

// every calls fill and reports progress about once a second until the returned stop is
// called.
func (r *run) every(phase Phase, start time.Time, fill func(*Progress)) (stop func()) {
	if r.o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p := Progress{Phase: phase, Elapsed: time.Since(start)}
				fill(&p)
				if s := p.Elapsed.Seconds(); s > 0 && p.Rate == 0 {
					p.Rate = round(float64(p.Events)/s, 1)
				}
				r.progress(p)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (r *run) noteErr(err error) {
	if err == nil {
		return
	}
	r.errMu.Lock()
	if r.firstErr == "" {
		r.firstErr = err.Error()
	}
	r.errMu.Unlock()
}

// setup creates the community, its binding to the bench workspace, and the people.
func (r *run) setup(ctx context.Context) error {
	slug := "bench-" + randomHex(4)
	r.ws = slug
	r.rec = NewRecorder(slug, boardChannel)
	r.rep.Community = slug
	nReq := max(1, r.o.People*2/5)
	nVol := r.o.People - nReq
	// Each ask matches about a dozen volunteers: volunteers cover one area each.
	nAreas := max(1, nVol/12)
	for i := 0; i < nAreas; i++ {
		r.areas = append(r.areas, fmt.Sprintf("Area %d", i+1))
	}
	setup := store.CommunitySetup{
		Community: store.Community{Slug: slug, Name: "tend bench " + slug, Locale: "en", Timezone: "UTC", Region: "CA",
			RetentionDays: 30, PrivacyOfficer: "bench"},
		Categories: []store.Category{{Key: "meal", Risk: "low", Tier: "volunteer"}, {Key: "groceries", Risk: "low", Tier: "volunteer"},
			{Key: "ride", Risk: "high", Tier: "vetted"}},
		Bindings: []store.Binding{{Platform: Platform, Workspace: slug, BoardChannel: boardChannel, ModeratorsChannel: modsChannel}},
	}
	for i := 0; i < r.o.People; i++ {
		p := &person{user: fmt.Sprintf("u%d", i), name: fmt.Sprintf("Person %d", i), requester: i < nReq}
		p.area = r.areas[i%nAreas]
		r.people = append(r.people, p)
		if p.requester {
			r.requesters = append(r.requesters, p)
		} else {
			r.volunteers = append(r.volunteers, p)
		}
	}
	r.rep.Requesters, r.rep.Volunteers = nReq, nVol
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.ApplyCommunity(ctx, setup)
		if err != nil {
			return err
		}
		r.comm = id
		for _, p := range r.people {
			m, _, err := tx.CreateMember(ctx, id, Platform, p.user, p.name, "", flows.NoticeVersion, store.Evidence{Surface: "bench-seed"})
			if err != nil {
				return err
			}
			p.member = m.ID
			if p.requester {
				continue
			}
			if _, err := tx.SaveVolunteerProfile(ctx, store.VolunteerProfile{MemberID: m.ID, Categories: "meal", Areas: p.area, Availability: "any"}); err != nil {
				return err
			}
		}
		return nil
	})
}

// newApp is a bot on the bench database with the recording adapter attached.
func (r *run) newApp() *bot.App {
	app := bot.New(bot.Options{DB: r.db, Catalog: r.cat, Logger: r.o.Logger})
	app.Attach(r.rec)
	return app
}

// newRunner is a job runner for app, not started.
func (r *run) newRunner(app *bot.App) (*jobs.Runner, error) {
	return jobs.New(r.db, app, jobs.Options{Workers: r.o.Concurrency, Logger: r.o.Logger})
}

func stopRunner(rn *jobs.Runner) {
	if rn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = rn.Stop(ctx)
}

// event fills in what every bench event carries.
func (r *run) event(prefix string, p *person, ev bot.Event) bot.Event {
	ev.ID = prefix + fmt.Sprint(r.seq.Add(1))
	ev.Platform, ev.Workspace = Platform, r.ws
	ev.UserID, ev.UserName = p.user, p.name
	if ev.InDM {
		ev.ChannelID = "dm-" + p.user
	} else if ev.ChannelID == "" {
		ev.ChannelID = boardChannel
	}
	ev.ReceivedAt = time.Now()
	return ev
}

type outcome int

const (
	outOK outcome = iota
	outRefused
	outFailed
)

// refusalTexts are the polite refusals a flow answers with when it changes nothing.
func refusalTexts(cat *catalog.Catalog) map[string]bool {
	m := map[string]bool{}
	for _, id := range []string{"claim.taken", "claim.closed", "claim.own", "claim.already_yours", "claim.not_volunteer",
		"claim.needs_vetting", "accept.already", "accept.stale", "accept.not_yours", "decline.stale", "done.already",
		"done.not_accepted", "done.not_yours", "error.gone", "error.unknown_button"} {
		for _, lang := range catalog.Languages {
			m[cat.Localize(lang, id, nil)] = true
		}
	}
	return m
}

func (r *run) classify(reply bot.Reply, err error) outcome {
	if err != nil {
		r.noteErr(err)
		return outFailed
	}
	if len(reply.FieldErrors) > 0 {
		r.noteErr(fmt.Errorf("bench: form refused: %v", reply.FieldErrors))
		return outFailed
	}
	for _, m := range reply.Messages {
		for _, line := range m.Body {
			if r.refusals[line] {
				return outRefused
			}
		}
	}
	return outOK
}

// handle sends one event through the App and times it.
func (r *run) handle(ctx context.Context, app *bot.App, ev bot.Event) (bot.Reply, outcome, time.Duration) {
	start := time.Now()
	reply, err := app.Handle(ctx, ev)
	d := time.Since(start)
	return reply, r.classify(reply, err), d
}

// ourBacklog counts this run's outbox rows not yet delivered.
func (r *run) ourBacklog(ctx context.Context) (int, error) {
	var n int
	err := r.db.X.GetContext(ctx, &n, r.db.X.Rebind(`SELECT COUNT(*) FROM outbox WHERE platform = ? AND workspace = ? AND state IN ('pending', 'sending')`),
		Platform, r.ws)
	return n, err
}

// dueIDs lists this run's rows ready to send that were written before cutoff.
func (r *run) dueIDs(ctx context.Context, cutoff time.Time, limit int) ([]int64, error) {
	now := time.Now().UnixMilli()
	var ids []int64
	err := r.db.X.SelectContext(ctx, &ids, r.db.X.Rebind(`SELECT id FROM outbox WHERE platform = ? AND workspace = ?
		AND next_attempt_at <= ? AND (state = 'pending' OR (state = 'sending' AND lease_until < ?)) AND created_at <= ?
		ORDER BY id LIMIT ?`), Platform, r.ws, now, now, cutoff.UnixMilli(), limit)
	return ids, err
}

// deliverAll hands ids to workers that deliver them through app, as the delivery
// workers do with each committed row, and waits for them.
func (r *run) deliverAll(ctx context.Context, app *bot.App, ids []int64, workers int) {
	ch := make(chan int64)
	var wg sync.WaitGroup
	for i := 0; i < min(workers, len(ids)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ch {
				// Busy: another sender holds the row, or an older message for the same
				// card goes first; flush comes back for it.
				if err := app.Deliver(ctx, id, false); err != nil && !errors.Is(err, bot.ErrBusy) && ctx.Err() == nil {
					r.noteErr(err)
				}
			}
		}()
	}
	for _, id := range ids {
		ch <- id
	}
	close(ch)
	wg.Wait()
}

// flush delivers this run's backlog until none is left, or until timeout.
func (r *run) flush(ctx context.Context, app *bot.App, workers int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.ourBacklog(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %d outbox rows still undelivered after %s", n, timeout)
		}
		ids, err := r.dueIDs(ctx, time.Now(), 2000)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			r.deliverAll(ctx, app, ids, workers)
		}
		// What is left is held by another sender (the delivery workers, the job
		// queue) or waits for an older message of the same card.
		time.Sleep(50 * time.Millisecond)
	}
}
