package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestBench runs a small `tend bench --json` on each engine and checks the report is
// machine-readable and clean: no errors, no duplicate deliveries, every phase measured.
// It asserts no timing.
func TestBench(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "b.db")
		if eng == store.Postgres {
			dsn = storetest.DSN(t, store.Postgres)
		}
		code, out, errOut := tend(t, env(), "bench", "--dsn", dsn, "--people", "20", "--think", "50ms", "--duration", "2s", "--json")
		if code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		var rep struct {
			DSN        string   `json:"dsn"`
			Engine     string   `json:"engine"`
			Events     int      `json:"events"`
			Errors     int      `json:"errors"`
			Claims     float64  `json:"claims_per_s"`
			Baseline   float64  `json:"baseline_tx_per_s"`
			Ratio      float64  `json:"ratio"`
			Drain      float64  `json:"drain_rows_per_s"`
			Duplicates int      `json:"duplicates"`
			AckP99     *float64 `json:"ack_p99_ms"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("the report is not JSON: %v\n%s", err, out)
		}
		if rep.Engine != string(eng) || rep.Events == 0 || rep.AckP99 == nil {
			t.Fatalf("report: %+v", rep)
		}
		if rep.Errors != 0 || rep.Duplicates != 0 {
			t.Fatalf("errors %d, duplicates %d\n%s", rep.Errors, rep.Duplicates, out)
		}
		if rep.Claims <= 0 || rep.Baseline <= 0 || rep.Ratio <= 0 || rep.Drain <= 0 {
			t.Fatalf("a phase measured nothing: %+v", rep)
		}
		if !strings.Contains(errOut, "open load") {
			t.Errorf("no progress lines on stderr:\n%s", errOut)
		}
	})
}

// TestBenchTable prints the human report, and refuses out-of-range flags.
func TestBenchTable(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "b.db")
	code, out, errOut := tend(t, env(), "bench", "--dsn", dsn, "--people", "10", "--think", "50ms", "--duration", "500ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Claims ÷ baseline", "Ack latency", "p99", "Outbox drain", "Duplicate deliveries"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := tend(t, env(), "bench", "--dsn", dsn, "--people", "1"); code != exitUsage || !strings.Contains(errOut, "--people") {
		t.Fatalf("--people 1: exit %d, %s", code, errOut)
	}
}
