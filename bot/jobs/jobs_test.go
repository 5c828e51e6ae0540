package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/bot/jobs"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

var ctx = context.Background()

// wait is how long a test waits for something that should happen promptly. It is a
// bound on a failing test, not a timing assertion.
const wait = 30 * time.Second

type runCall struct {
	job flows.Job
	key string
}

type periodicCall struct{ task, key string }

// fake records what the runner asks of it. run, when set, decides RunJob's answer.
type fake struct {
	mu        sync.Mutex
	runs      []runCall
	periodics []periodicCall
	run       func(job flows.Job) error
}

func (f *fake) RunJob(_ context.Context, job flows.Job, key string) error {
	f.mu.Lock()
	f.runs = append(f.runs, runCall{job, key})
	run := f.run
	f.mu.Unlock()
	if run != nil {
		return run(job)
	}
	return nil
}

func (f *fake) Periodic(_ context.Context, task, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.periodics = append(f.periodics, periodicCall{task, key})
	return nil
}

func (f *fake) runsOf(ref int64) []runCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []runCall
	for _, c := range f.runs {
		if c.job.Ref == ref {
			out = append(out, c)
		}
	}
	return out
}

func (f *fake) periodicCalls() []periodicCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]periodicCall(nil), f.periodics...)
}

type metrics struct {
	mu     sync.Mutex
	failed map[string]int
}

func (m *metrics) JobFailed(kind string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed == nil {
		m.failed = map[string]int{}
	}
	m.failed[kind]++
}

func (m *metrics) count(kind string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed[kind]
}

// start builds and starts a runner on db; it is stopped when the test ends.
func start(t *testing.T, db *store.DB, h jobs.Handler, o jobs.Options) *jobs.Runner {
	t.Helper()
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	r, err := jobs.New(db, h, o)
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		if err := r.Stop(sctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

func schedule(t *testing.T, db *store.DB, r *jobs.Runner, js ...flows.Job) {
	t.Helper()
	if err := db.InTx(ctx, func(tx *store.Tx) error { return r.Schedule(ctx, tx, js) }); err != nil {
		t.Fatalf("Schedule: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type jobRow struct {
	ID      int64  `db:"id"`
	Kind    string `db:"kind"`
	State   string `db:"state"`
	Attempt int    `db:"attempt"`
}

func riverJobs(t *testing.T, db *store.DB, kind string) []jobRow {
	t.Helper()
	var rows []jobRow
	if err := db.X.SelectContext(ctx, &rows, db.X.Rebind(`SELECT id, kind, CAST(state AS TEXT) AS state, attempt FROM river_job WHERE kind = ? ORDER BY id`), kind); err != nil {
		t.Fatalf("read river_job: %v", err)
	}
	return rows
}

func past() int64   { return time.Now().Add(-time.Minute).Unix() }
func future() int64 { return time.Now().Add(24 * time.Hour).Unix() }

func TestScheduledJobRunsOnceAfterCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := &fake{}
		r := start(t, db, f, jobs.Options{})
		at := past()
		schedule(t, db, r, flows.Job{Kind: flows.JobNudge, Ref: 7, At: at}, flows.Job{Kind: flows.JobRemind, Ref: 8, At: at})
		// The same job scheduled again (a retried transaction, a second press) is one job.
		schedule(t, db, r, flows.Job{Kind: flows.JobNudge, Ref: 7, At: at})

		waitFor(t, "the nudge and the reminder to run", func() bool { return len(f.runsOf(7)) > 0 && len(f.runsOf(8)) > 0 })
		waitFor(t, "both jobs to complete", func() bool {
			n := riverJobs(t, db, flows.JobNudge)
			m := riverJobs(t, db, flows.JobRemind)
			return len(n) == 1 && n[0].State == "completed" && len(m) == 1 && m[0].State == "completed"
		})
		nudges := f.runsOf(7)
		if len(nudges) != 1 {
			t.Fatalf("nudge ran %d times, want once", len(nudges))
		}
		got, row := nudges[0], riverJobs(t, db, flows.JobNudge)[0]
		if got.job != (flows.Job{Kind: flows.JobNudge, Ref: 7, At: at}) {
			t.Errorf("RunJob got %+v", got.job)
		}
		if want := fmt.Sprintf("job:nudge:%d", row.ID); got.key != want {
			t.Errorf("key = %q, want %q", got.key, want)
		}
		if rs := f.runsOf(8); len(rs) != 1 || rs[0].job.Kind != flows.JobRemind {
			t.Errorf("remind runs: %+v", rs)
		}
	})
}

func TestRolledBackScheduleNeverRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := &fake{}
		r := start(t, db, f, jobs.Options{})
		boom := errors.New("the flow failed")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := r.Schedule(ctx, tx, []flows.Job{{Kind: flows.JobExpire, Ref: 1, At: past()}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		// A committed job scheduled after it runs; by then the rolled-back one would have too.
		schedule(t, db, r, flows.Job{Kind: flows.JobExpire, Ref: 2, At: past()})
		waitFor(t, "the committed job", func() bool { return len(f.runsOf(2)) == 1 })
		if rs := f.runsOf(1); len(rs) != 0 {
			t.Fatalf("a job from a rolled-back transaction ran: %+v", rs)
		}
		if rows := riverJobs(t, db, flows.JobExpire); len(rows) != 1 {
			t.Fatalf("river_job holds %d expire jobs, want only the committed one", len(rows))
		}
	})
}

func TestFutureJobWaitsUntilDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := &fake{}
		r := start(t, db, f, jobs.Options{})
		schedule(t, db, r,
			flows.Job{Kind: flows.JobFollowUp, Ref: 2, At: future()},
			flows.Job{Kind: flows.JobFollowUp, Ref: 1, At: past()})
		waitFor(t, "the due job", func() bool { return len(f.runsOf(1)) == 1 })
		waitFor(t, "the due job to complete", func() bool {
			for _, j := range riverJobs(t, db, flows.JobFollowUp) {
				if j.State == "completed" {
					return true
				}
			}
			return false
		})
		if rs := f.runsOf(2); len(rs) != 0 {
			t.Fatalf("a job due tomorrow already ran: %+v", rs)
		}
		var pending int
		for _, j := range riverJobs(t, db, flows.JobFollowUp) {
			if j.State == "scheduled" && j.Attempt == 0 {
				pending++
			}
		}
		if pending != 1 {
			t.Fatalf("river_job: %+v, want the future job still scheduled", riverJobs(t, db, flows.JobFollowUp))
		}
	})
}

// A job without a kind is refused when it is scheduled; any other kind a flow area
// names (a case's re-alert, an overdue visit) runs as a task under its own kind, once.
func TestTaskKinds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := &fake{}
		r := start(t, db, f, jobs.Options{})
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return r.Schedule(ctx, tx, []flows.Job{{Kind: "", Ref: 1, At: past()}})
		})
		if err == nil {
			t.Fatal("a job without a kind was scheduled")
		}
		at := past()
		schedule(t, db, r, flows.Job{Kind: flows.JobCaseRealert, Ref: 9, At: at})
		schedule(t, db, r, flows.Job{Kind: flows.JobCaseRealert, Ref: 9, At: at})
		waitFor(t, "the task to run", func() bool { return len(f.runsOf(9)) > 0 })
		waitFor(t, "the task to complete", func() bool {
			n := riverJobs(t, db, jobs.KindTask)
			return len(n) == 1 && n[0].State == "completed"
		})
		runs := f.runsOf(9)
		if len(runs) != 1 || runs[0].job != (flows.Job{Kind: flows.JobCaseRealert, Ref: 9, At: at}) {
			t.Fatalf("runs = %+v", runs)
		}
		if !strings.HasPrefix(runs[0].key, "job:"+flows.JobCaseRealert+":") {
			t.Errorf("key = %q", runs[0].key)
		}
	})
}

func TestFlowJobFailureIsRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := &metrics{}
		var mu sync.Mutex
		failures := 1
		f := &fake{run: func(flows.Job) error {
			mu.Lock()
			defer mu.Unlock()
			if failures > 0 {
				failures--
				return errors.New("platform said: cannot send to 12 Rue Rachel Est")
			}
			return nil
		}}
		logs := &bottest.SyncBuffer{}
		r := start(t, db, f, jobs.Options{Metrics: m,
			Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		schedule(t, db, r, flows.Job{Kind: flows.JobEscalate, Ref: 3, At: past()})
		// River's default back-off makes the second attempt about a second later.
		waitFor(t, "the retry to succeed", func() bool {
			rows := riverJobs(t, db, flows.JobEscalate)
			return len(rows) == 1 && rows[0].State == "completed"
		})
		if n := len(f.runsOf(3)); n != 2 {
			t.Fatalf("escalate ran %d times, want 2 (a failure, then a success)", n)
		}
		if n := m.count(flows.JobEscalate); n != 1 {
			t.Fatalf("JobFailed(escalate) = %d, want 1", n)
		}
		out := logs.String()
		if !strings.Contains(out, `"kind":"escalate"`) || !strings.Contains(out, `"job_id"`) {
			t.Errorf("the failure is not logged with kind and job id:\n%s", out)
		}
		if strings.Contains(out, "Rachel") || strings.Contains(out, "platform said") {
			t.Errorf("the log carries error text:\n%s", out)
		}
	})
}

func TestStopLetsRunningJobsFinish(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		started := make(chan struct{})
		release := make(chan struct{})
		f := &fake{run: func(flows.Job) error {
			close(started)
			<-release
			return nil
		}}
		r, err := jobs.New(db, f, jobs.Options{PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		schedule(t, db, r, flows.Job{Kind: flows.JobRemind, Ref: 5, At: past()})
		select {
		case <-started:
		case <-time.After(wait):
			t.Fatal("the job never started")
		}
		stopped := make(chan error, 1)
		go func() {
			sctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			stopped <- r.Stop(sctx)
		}()
		close(release)
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("Stop: %v", err)
			}
		case <-time.After(wait):
			t.Fatal("Stop did not return")
		}
		if rows := riverJobs(t, db, flows.JobRemind); len(rows) != 1 || rows[0].State != "completed" {
			t.Fatalf("the running job did not finish before Stop returned: %+v", rows)
		}
	})
}

func TestPeriodicPurgeRunsOnStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := &fake{}
		before := time.Now().UTC()
		start(t, db, f, jobs.Options{Periodic: true})
		waitFor(t, "the purge", func() bool { return len(f.periodicCalls()) > 0 })
		after := time.Now().UTC()
		c := f.periodicCalls()[0]
		if c.task != jobs.TaskPurge {
			t.Fatalf("first periodic task = %q, want purge", c.task)
		}
		ok := false
		for _, at := range []time.Time{before, after} {
			if c.key == "purge:"+at.Format("2006-01-02T15") {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("purge key %q does not name this hour", c.key)
		}
	})
}

// The console runs on an in-memory SQLite database, which has exactly one connection:
// River and the handler's transactions must take turns on it without deadlocking.
func TestRunnerOnOneConnection(t *testing.T) {
	db, err := store.Open(ctx, "sqlite::memory:", storetest.Keys(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var r *jobs.Runner
	f := &fake{}
	// The handler writes in its own transaction, as the bot's does.
	f.run = func(j flows.Job) error {
		if j.Kind != flows.JobNudge {
			return nil
		}
		return db.InTx(ctx, func(tx *store.Tx) error {
			return r.Schedule(ctx, tx, []flows.Job{{Kind: flows.JobEscalate, Ref: j.Ref, At: past()}})
		})
	}
	r = start(t, db, f, jobs.Options{})
	schedule(t, db, r, flows.Job{Kind: flows.JobNudge, Ref: 1, At: past()})
	waitFor(t, "the job the first one scheduled", func() bool { return len(f.runsOf(1)) >= 2 })
	if rs := f.runsOf(1); len(rs) != 2 || rs[1].job.Kind != flows.JobEscalate {
		t.Fatalf("runs: %+v", rs)
	}
}

func TestStopWithoutStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r, err := jobs.New(db, &fake{}, jobs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Stop(ctx); err != nil {
			t.Fatalf("Stop before Start: %v", err)
		}
	})
}

// A process killed in the middle of a job leaves its row running; the next leader takes
// it for lost after RescueAfter and it runs again, under the same idempotency key.
func TestJobOfADeadProcessRunsAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := &fake{}
		o := jobs.Options{JobTimeout: 200 * time.Millisecond, RescueAfter: time.Second, PollInterval: 20 * time.Millisecond}
		// The job was fetched and started by a process that then died: attempt 1, running
		// since a minute ago, never finished.
		dead, err := jobs.New(db, f, o)
		if err != nil {
			t.Fatal(err)
		}
		schedule(t, db, dead, flows.Job{Kind: flows.JobRemind, Ref: 11, At: past()})
		ago := `datetime('now', '-1 minute', 'subsec')`
		if db.Engine == store.Postgres {
			ago = `now() - interval '1 minute'`
		}
		if _, err := db.X.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = `+ago); err != nil {
			t.Fatal(err)
		}

		start(t, db, f, o)
		waitFor(t, "the lost job to run again", func() bool {
			rows := riverJobs(t, db, flows.JobRemind)
			return len(rows) == 1 && rows[0].State == "completed"
		})
		rs := f.runsOf(11)
		if len(rs) != 1 {
			t.Fatalf("runs after the rescue: %+v", rs)
		}
		if want := fmt.Sprintf("job:remind:%d", riverJobs(t, db, flows.JobRemind)[0].ID); rs[0].key != want {
			t.Fatalf("key %q, want %q", rs[0].key, want)
		}
	})
}

// Two replicas on one database: every job runs once, on one of them.
func TestTwoReplicasRunEachJobOnce(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		dsn := storetest.DSN(t, eng)
		var dbs []*store.DB
		for i := 0; i < 2; i++ {
			db, err := store.Open(ctx, dsn, storetest.Keys(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			dbs = append(dbs, db)
		}
		f := &fake{}
		r0 := start(t, dbs[0], f, jobs.Options{})
		start(t, dbs[1], f, jobs.Options{})
		const n = 60
		var js []flows.Job
		for i := 1; i <= n; i++ {
			js = append(js, flows.Job{Kind: flows.JobNudge, Ref: int64(i), At: past()})
		}
		schedule(t, dbs[0], r0, js...)
		waitFor(t, "every job", func() bool {
			var done int
			if err := dbs[1].X.GetContext(ctx, &done, `SELECT COUNT(*) FROM river_job WHERE state = 'completed'`); err != nil {
				t.Fatal(err)
			}
			return done == n
		})
		for i := int64(1); i <= n; i++ {
			if rs := f.runsOf(i); len(rs) != 1 {
				t.Fatalf("job %d ran %d times", i, len(rs))
			}
		}
	})
}
