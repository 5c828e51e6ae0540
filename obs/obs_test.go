package obs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	_ "modernc.org/sqlite"
)

func TestEventLabels(t *testing.T) {
	cases := []struct {
		name                            string
		platform, kind, outcome         string
		wantPlatform, wantKind, wantOut string
	}{
		{"known", "slack", "button", "ok", "slack", "button", "ok"},
		{"duplicate", "discord", "command", "duplicate", "discord", "command", "duplicate"},
		{"unavailable", "mattermost", "form", "unavailable", "mattermost", "form", "unavailable"},
		{"unknown kind", "slack", "reaction_added", "ok", "slack", "other", "ok"},
		{"unknown outcome", "slack", "text", "exploded", "slack", "text", "other"},
		{"unknown platform", "irc", "text", "ok", "other", "text", "ok"},
		{"user text as label", "slack", "please help me at 12 Main St", "ok", "slack", "other", "ok"},
		{"case matters", "Slack", "Button", "OK", "other", "other", "other"},
		{"empty", "", "", "", "other", "other", "other"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.Event(tc.platform, tc.kind, tc.outcome, 3*time.Millisecond)
			if got := testutil.ToFloat64(m.events.WithLabelValues(tc.wantPlatform, tc.wantKind, tc.wantOut)); got != 1 {
				t.Errorf("events{%s,%s,%s} = %v, want 1", tc.wantPlatform, tc.wantKind, tc.wantOut, got)
			}
			if n := testutil.CollectAndCount(m.events); n != 1 {
				t.Errorf("%d event series, want 1", n)
			}
			if n := testutil.CollectAndCount(m.ack); n != 1 {
				t.Errorf("%d ack series, want 1", n)
			}
		})
	}
}

func TestAckHistogram(t *testing.T) {
	m := New()
	for _, d := range []time.Duration{500 * time.Microsecond, 4 * time.Millisecond, 40 * time.Millisecond, 2500 * time.Millisecond, 10 * time.Second} {
		m.Event("slack", "button", "ok", d)
	}
	m.Event("slack", "button", "error", -1) // not acknowledged: counted, not observed
	body := scrape(t, m)
	for _, want := range []string{
		`tend_ack_seconds_bucket{platform="slack",le="0.001"} 1`,
		`tend_ack_seconds_bucket{platform="slack",le="0.005"} 2`,
		`tend_ack_seconds_bucket{platform="slack",le="0.05"} 3`,
		`tend_ack_seconds_bucket{platform="slack",le="3"} 4`,
		`tend_ack_seconds_bucket{platform="slack",le="+Inf"} 5`,
		`tend_ack_seconds_count{platform="slack"} 5`,
		`tend_events_total{kind="button",outcome="ok",platform="slack"} 5`,
		`tend_events_total{kind="button",outcome="error",platform="slack"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if AckBuckets[0] != .001 || AckBuckets[len(AckBuckets)-1] != 3 || !slices.IsSorted(AckBuckets) {
		t.Errorf("buckets %v should rise from 1 ms to 3 s", AckBuckets)
	}
}

func TestDeliveryAndOutbox(t *testing.T) {
	cases := []struct {
		platform, outcome, want string
	}{
		{"slack", "sent", "sent"},
		{"slack", "retry", "retry"},
		{"slack", "rate_limited", "rate_limited"},
		{"slack", "failed", "failed"},
		{"slack", "429", "other"},
	}
	m := New()
	for _, tc := range cases {
		m.Delivery(tc.platform, tc.outcome)
	}
	for _, tc := range cases {
		if got := testutil.ToFloat64(m.deliveries.WithLabelValues("slack", tc.want)); got != 1 {
			t.Errorf("deliveries{slack,%s} = %v, want 1", tc.want, got)
		}
	}
	m.Outbox(7, 90*time.Second)
	if b, o := testutil.ToFloat64(m.backlog), testutil.ToFloat64(m.oldest); b != 7 || o != 90 {
		t.Errorf("outbox backlog %v oldest %v, want 7 and 90", b, o)
	}
	m.Outbox(-1, -time.Second) // nonsense clamps to zero
	if b, o := testutil.ToFloat64(m.backlog), testutil.ToFloat64(m.oldest); b != 0 || o != 0 {
		t.Errorf("outbox backlog %v oldest %v, want 0 and 0", b, o)
	}
}

func TestJobFailedKinds(t *testing.T) {
	m := New()
	cases := []struct{ kind, want string }{
		{"nudge_unclaimed", "nudge_unclaimed"},
		{"retention_purge", "retention_purge"},
		{"Remind", "other"},
		{"remind helper", "other"},
		{"", "other"},
		{strings.Repeat("x", 41), "other"},
	}
	for _, tc := range cases {
		m.JobFailed(tc.kind)
		if got := testutil.ToFloat64(m.jobFails.WithLabelValues(tc.want)); got < 1 {
			t.Errorf("JobFailed(%q): job_failures{%s} = %v", tc.kind, tc.want, got)
		}
	}
	// Past MaxJobKinds distinct kinds, new ones fold into "other".
	for i := range MaxJobKinds + 10 {
		m.JobFailed(fmt.Sprintf("kind_%d", i))
	}
	if n := testutil.CollectAndCount(m.jobFails); n != MaxJobKinds+1 {
		t.Errorf("%d job kind series, want %d", n, MaxJobKinds+1)
	}
	m.JobFailed("nudge_unclaimed") // a kind already seen keeps its series
	if got := testutil.ToFloat64(m.jobFails.WithLabelValues("nudge_unclaimed")); got != 2 {
		t.Errorf("nudge_unclaimed = %v, want 2", got)
	}
}

func TestRegistriesAreSeparate(t *testing.T) {
	a, b := New(), New()
	a.Event("slack", "text", "ok", time.Millisecond)
	if n := testutil.CollectAndCount(b.events); n != 0 {
		t.Errorf("an event on one Metrics shows on another: %d series", n)
	}
	if a.Registry() == b.Registry() {
		t.Error("two Metrics share a registry")
	}
}

func TestWatchDB(t *testing.T) {
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := New()
	m.WatchDB(db)
	m.WatchDB(db) // watching again replaces, no duplicate-registration panic
	body := scrape(t, m)
	if !strings.Contains(body, `go_sql_max_open_connections{db_name="tend"}`) {
		t.Errorf("no pool stats in:\n%s", body)
	}
}

func TestHandler(t *testing.T) {
	var dbDown = fmt.Errorf("%w: %w", Reason("database unreachable"),
		errors.New("dial tcp: postgres://tend:hunter2@db:5432/tend"))
	cases := []struct {
		name     string
		ready    func(context.Context) error
		path     string
		code     int
		want     string
		mustNot  string
		ctype    string
		timedOut bool
	}{
		{name: "healthz", path: "/healthz", code: 200, want: "ok", ready: func(context.Context) error { return dbDown }},
		{name: "metrics", path: "/metrics", code: 200, want: "tend_events_total", ctype: "text/plain"},
		{name: "ready", path: "/readyz", code: 200, want: "ready", ready: func(context.Context) error { return nil }},
		{name: "ready nil func", path: "/readyz", code: 200, want: "ready"},
		{name: "not ready with reason", path: "/readyz", code: 503, want: "not ready: database unreachable",
			mustNot: "hunter2", ready: func(context.Context) error { return dbDown }},
		{name: "not ready raw error hidden", path: "/readyz", code: 503, want: "not ready",
			mustNot: "postgres://", ready: func(context.Context) error { return errors.New("postgres://tend:hunter2@db") }},
		{name: "not ready slow", path: "/readyz", code: 503, want: "not ready: check timed out",
			ready: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		{name: "not ready ignores ctx", path: "/readyz", code: 503, want: "not ready: check timed out",
			ready: func(context.Context) error { time.Sleep(300 * time.Millisecond); return nil }},
		{name: "unknown path", path: "/debug/pprof/", code: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.Event("discord", "button", "ok", 2*time.Millisecond)
			srv := httptest.NewServer(handler(m, tc.ready, 50*time.Millisecond))
			defer srv.Close()
			start := time.Now()
			code, body, ctype := get(t, srv.URL+tc.path)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tc.path, code, body, tc.code, tc.want)
			}
			if tc.mustNot != "" && strings.Contains(body, tc.mustNot) {
				t.Errorf("GET %s leaks %q: %q", tc.path, tc.mustNot, body)
			}
			if tc.ctype != "" && !strings.HasPrefix(ctype, tc.ctype) {
				t.Errorf("GET %s content type %q", tc.path, ctype)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("GET %s took %v", tc.path, d)
			}
		})
	}
	if ReadyTimeout != 2*time.Second {
		t.Errorf("ReadyTimeout = %v, want 2s", ReadyTimeout)
	}
}

func TestServe(t *testing.T) {
	m := New()
	m.Event("slack", "command", "ok", time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, Handler(m, nil), slog.New(slog.DiscardHandler)) }()
	base := "http://" + ln.Addr().String()
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, body, _ := get(t, base+p); code != 200 {
			t.Errorf("GET %s = %d %q", p, code, body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(ShutdownTimeout + time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestServeBadAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The port is taken: Serve fails at once instead of waiting for ctx.
	if err := Serve(ctx, ln.Addr().String(), Handler(New(), nil), nil); err == nil || ctx.Err() != nil {
		t.Errorf("Serve on a taken port: %v (ctx %v)", err, ctx.Err())
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(Handler(m, nil))
	defer srv.Close()
	code, body, _ := get(t, srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics = %d", code)
	}
	return body
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
}
