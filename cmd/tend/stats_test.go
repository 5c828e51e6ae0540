package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestStatsCSV writes the figures of a seeded history as CSV, on both engines: a stable
// header, one line per category and month then the totals, small counts as "<5" and
// figures from small bases suppressed.
func TestStatsCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var community int64
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			community, err = tx.ApplyCommunity(ctx, store.CommunitySetup{Community: store.Community{Slug: "csv", Name: "CSV",
				Locale: "en", Timezone: "America/Toronto", Region: "CA", RetentionDays: 30}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		storetest.SeedHistory(t, db, community)
		loc, _ := time.LoadLocation("America/Toronto")
		var im flows.Impact
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			im, err = flows.ComputeImpact(ctx, tx, community, loc, 0, 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := writeStatsCSV(&out, im); err != nil {
			t.Fatal(err)
		}
		want := `month,category,requests,offers,fulfilled_percent,median_hours_to_first_claim,active_volunteers,repeat_helpers,follow_ups_sent,helped_then_helping
2026-10,meal,<5,5,suppressed,suppressed,<5,<5,<5,<5
2026-10,ride,6,<5,83.3,3.5,5,<5,<5,<5
2026-10,all,8,5,83.3,3.5,5,<5,<5,<5
2026-11,ride,6,<5,100.0,2.0,5,<5,5,5
2026-11,all,6,<5,100.0,2.0,5,<5,5,5
all,meal,<5,5,suppressed,suppressed,<5,<5,<5,<5
all,ride,12,<5,90.9,2.0,10,<5,5,5
all,all,14,5,90.9,2.0,10,<5,5,5
`
		if out.String() != want {
			t.Errorf("CSV:\n%s\nwant:\n%s", out.String(), want)
		}
	})
}

func TestIncidentAndStatsCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := stMarks(t, dir, true)

	ge := env()
	if code, _, errOut := tend(t, ge, "--config", cfg, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	add := []string{"add", "--data", "Names of two riders", "--circumstances", "A list left on a bus", "--occurred", "2026-01-10",
		"--known", "2026-01-11", "--affected", "2", "--risk", "low", "--sensitivity", "Names only", "--consequences", "Little",
		"--likelihood", "Unlikely"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"empty register", []string{"incident", "list"}, 0, "register of confidentiality incidents is empty", ""},
		{"add", append([]string{"incident"}, add...), 0, "Incident 1 is in the register", ""},
		{"a bad date", append(append([]string{"incident"}, add...), "--known", "yesterday"), 2, "", "--known: When it became known: “yesterday” is not a date"},
		{"a bad risk", append(append([]string{"incident"}, add...), "--risk", "extreme"), 2, "", "--risk: Risk of serious injury"},
		{"update", []string{"incident", "update", "1", "--notified-cai", "2026-01-15", "--measures", "Riders told"}, 0, "Incident 1 is updated", ""},
		{"update an unknown one", []string{"incident", "update", "9", "--measures", "x"}, 1, "", "no incident 9"},
		{"show", []string{"incident", "show", "1"}, 0, "A list left on a bus", ""},
		{"list", []string{"incident", "list"}, 0, "2026-01-15", ""},
		{"show without a number", []string{"incident", "show"}, 2, "", "tend incident show NUMBER"},
		{"stats on nothing", []string{"stats"}, 0, "Nothing to count", ""},
		{"stats as CSV", []string{"stats", "--csv", "--since", "2026-01"}, 0, "month,category,requests", ""},
		{"stats with a bad month", []string{"stats", "--since", "january"}, 1, "", "YYYY-MM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := tend(t, ge, append([]string{"--config", cfg}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
		})
	}
	_, out, _ := tend(t, ge, "--config", cfg, "incident", "show", "1")
	if !strings.Contains(out, "Riders told") || !strings.Contains(out, "2 people") {
		t.Errorf("show after update:\n%s", out)
	}
}
