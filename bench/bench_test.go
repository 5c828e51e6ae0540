package bench_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bench"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestBenchRuns drives a tiny bench on each engine with the job queue attached (the
// command's test runs it without) and checks what it must never see: errors and
// duplicate deliveries. It asserts no timing.
func TestBenchRuns(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		var (
			mu     sync.Mutex
			phases []bench.Phase
		)
		rep, err := bench.Run(context.Background(), bench.Options{DSN: storetest.DSN(t, eng), People: 20, Think: 50 * time.Millisecond,
			Duration: time.Second, Concurrency: 2, Jobs: true, Progress: func(p bench.Progress) {
				mu.Lock()
				phases = append(phases, p.Phase)
				mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", rep)
		if rep.Errors != 0 || rep.FirstError != "" {
			t.Fatalf("errors: %d (%s)", rep.Errors, rep.FirstError)
		}
		if rep.Duplicates != 0 {
			t.Fatalf("duplicates: %d", rep.Duplicates)
		}
		if rep.Events == 0 || rep.Claims == 0 || rep.BaselineTxs == 0 || rep.DrainRows == 0 {
			t.Fatalf("a phase did nothing: %+v", rep)
		}
		if rep.ClaimRefusals != 0 {
			t.Fatalf("uncontended claims were refused: %d", rep.ClaimRefusals)
		}
		if rep.EventsByKind["ask"] == 0 || rep.EventsByKind["claim"] == 0 {
			t.Fatalf("the open workload did not ask and claim: %v", rep.EventsByKind)
		}
		// A claim writes no job rows (its messages are outbox rows), so neither does the
		// baseline, with or without the job queue.
		if len(rep.BaselineWrites) != 7 {
			t.Fatalf("the baseline writes %v, want inbox, slot, claim, audit, 2 outbox, reply", rep.BaselineWrites)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(phases) == 0 || phases[0] != bench.PhaseSetup {
			t.Fatalf("progress: %v", phases)
		}
	})
}

// TestBadOptions fails fast, before touching a database.
func TestBadOptions(t *testing.T) {
	for _, o := range []bench.Options{{}, {DSN: "sqlite::memory:", People: 1}, {DSN: "sqlite::memory:", Think: -time.Second}} {
		if _, err := bench.Run(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
