package jobs

import (
	"testing"
	"time"

	"github.com/tend-community/tend/flows"
)

func TestPeriodKey(t *testing.T) {
	at := time.Date(2026, 11, 25, 4, 30, 0, 0, time.FixedZone("EST", -5*3600)) // 09:30 UTC
	if got := periodKey(TaskPurge, at); got != "purge:2026-11-25T09" {
		t.Errorf("purge key = %q", got)
	}
	if got := periodKey(TaskDigest, at); got != "digest:2026-11-25" {
		t.Errorf("digest key = %q", got)
	}
}

func TestDailyAt(t *testing.T) {
	s := dailyAt(13 * time.Hour)
	cases := []struct{ now, want time.Time }{
		{time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 13, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := s.Next(c.now); !got.Equal(c.want) {
			t.Errorf("Next(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}

func TestArgsForEveryFlowKind(t *testing.T) {
	for _, k := range []string{flows.JobNudge, flows.JobEscalate, flows.JobExpire, flows.JobRemind, flows.JobFollowUp} {
		a, err := argsFor(flows.Job{Kind: k, Ref: 1, At: 2})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if a.Kind() != k {
			t.Errorf("args for %s have kind %s", k, a.Kind())
		}
	}
}
