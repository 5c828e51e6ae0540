package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
)

// calls records what fake components were asked to do, in order.
type calls struct {
	mu  sync.Mutex
	log []string
}

func (c *calls) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, s)
}

func (c *calls) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log)
}

// fake is a component that records its calls.
type fake struct {
	name     string
	calls    *calls
	startErr error
	// hang makes Stop ignore its context and never return.
	hang bool
	// onStop runs at the start of Stop (to look at /readyz while stopping).
	onStop func()
	// sawDeadline reports whether Stop's context had a deadline.
	sawDeadline bool
}

func (f *fake) Name() string { return f.name }

func (f *fake) Start(ctx context.Context) error {
	f.calls.add("start " + f.name)
	return f.startErr
}

func (f *fake) Stop(ctx context.Context) error {
	f.calls.add("stop " + f.name)
	_, f.sawDeadline = ctx.Deadline()
	if f.onStop != nil {
		f.onStop()
	}
	if f.hang {
		select {}
	}
	return nil
}

// freeAddr finds a free local port; the tiny race with another process taking it
// first is acceptable in tests.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type serveRun struct {
	cancel      context.CancelFunc
	done        chan int
	stdout, log *bottest.SyncBuffer
	env         **serveEnv
}

// startServe runs serveWith in the background with components built by build.
func startServe(t *testing.T, getenv func(string) string, build func(*serveEnv) []component, timeout time.Duration) *serveRun {
	t.Helper()
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	r := &serveRun{done: make(chan int, 1), stdout: &bottest.SyncBuffer{}, log: &bottest.SyncBuffer{}, env: new(*serveEnv)}
	c := &cli{stdin: strings.NewReader(""), stdout: r.stdout, stderr: r.log, getenv: getenv, cat: cat, lang: "en"}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	deps := serveDeps{shutdownTimeout: timeout}
	if build != nil {
		deps.components = func(env *serveEnv) ([]component, error) {
			*r.env = env
			return build(env), nil
		}
	}
	go func() { r.done <- c.serveWith(ctx, nil, deps) }()
	t.Cleanup(cancel)
	return r
}

// wait returns serve's exit code, failing the test if it takes too long.
func (r *serveRun) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case code := <-r.done:
		return code
	case <-time.After(within):
		t.Fatalf("serve did not return within %v; log:\n%s", within, r.log)
		return -1
	}
}

// waitServing waits for serve to log that every component runs.
func (r *serveRun) waitServing(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.log.String(), "serving") {
		select {
		case code := <-r.done:
			t.Fatalf("serve exited with %d before serving; log:\n%s", code, r.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start; log:\n%s", r.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// poll GETs url until it answers with code or the wait runs out.
func poll(t *testing.T, url string, code int, done chan int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	client := &http.Client{Timeout: 3 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == code {
				return string(b)
			}
		}
		select {
		case c := <-done:
			t.Fatalf("serve exited with %d before %s answered %d", c, url, code)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d in time (last: %v)", url, code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(url string) (int, string) {
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// logLines parses the JSON log, failing on any line that is not JSON.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("log line is not JSON: %q", sc.Text())
			continue
		}
		out = append(out, m)
	}
	return out
}

// hasLog reports whether a log line has msg and, when component is not "", that
// component.
func hasLog(lines []map[string]any, msg, component string) bool {
	for _, l := range lines {
		if l["msg"] == msg && (component == "" || l["component"] == component) {
			return true
		}
	}
	return false
}

func serveEnvVars(t *testing.T, kv ...string) (func(string) string, string) {
	t.Helper()
	key, err := store.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"TEND_DATA_DIR", filepath.Join(t.TempDir(), "data"), "TEND_ENCRYPTION_KEY", key,
		"TEND_DISCORD_TOKEN", "d-secret-token"}
	return env(append(base, kv...)...), key
}

func TestServeLifecycle(t *testing.T) {
	addr := freeAddr(t)
	getenv, key := serveEnvVars(t, "TEND_HTTP_LISTEN", addr)
	base := "http://" + addr
	rec := &calls{}
	var readyWhileStopping struct {
		code int
		body string
	}
	first := &fake{name: "adapter", calls: rec}
	second := &fake{name: "jobs", calls: rec, onStop: func() {
		readyWhileStopping.code, readyWhileStopping.body = get(base + "/readyz")
	}}
	r := startServe(t, getenv, func(*serveEnv) []component { return []component{first, second} }, 0)

	if body := poll(t, base+"/healthz", 200, r.done); strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %q", body)
	}
	if body := poll(t, base+"/readyz", 200, r.done); strings.TrimSpace(body) != "ready" {
		t.Errorf("/readyz = %q", body)
	}
	(*r.env).metrics.Event("discord", "button", "ok", 4*time.Millisecond)
	metrics := poll(t, base+"/metrics", 200, r.done)
	for _, want := range []string{`tend_events_total{kind="button",outcome="ok",platform="discord"} 1`,
		`go_sql_open_connections{db_name="tend"}`, "tend_ack_seconds_bucket"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	r.cancel()
	if code := r.wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("exit %d, want 0; log:\n%s", code, r.log)
	}
	if got, want := rec.get(), []string{"start adapter", "start jobs", "stop jobs", "stop adapter"}; !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if !first.sawDeadline || !second.sawDeadline {
		t.Error("Stop was given no deadline")
	}
	if readyWhileStopping.code != 503 || !strings.Contains(readyWhileStopping.body, "shutting down") {
		t.Errorf("/readyz while stopping = %d %q", readyWhileStopping.code, readyWhileStopping.body)
	}
	if code, _ := get(base + "/healthz"); code != 0 {
		t.Errorf("/healthz still answers %d after exit", code)
	}

	log, out := r.log.String(), r.stdout.String()
	lines := logLines(t, log)
	for _, step := range []struct{ msg, component string }{
		{"http server listening", ""}, {"starting component", "adapter"}, {"component started", "jobs"},
		{"serving", ""}, {"shutdown requested", ""}, {"stopping component", "jobs"}, {"component stopped", "adapter"},
		{"http server stopped", ""}, {"database closed", ""}, {"shutdown complete", ""},
	} {
		if !hasLog(lines, step.msg, step.component) {
			t.Errorf("log lacks %q %s:\n%s", step.msg, step.component, log)
		}
	}
	for _, l := range lines {
		if l["level"] != "INFO" && l["level"] != "WARN" {
			t.Errorf("unexpected %v log line: %v", l["level"], l)
		}
	}
	if !strings.Contains(out, "tend is running (adapter, jobs)") || !strings.Contains(out, "tend stopped cleanly") {
		t.Errorf("stdout:\n%s", out)
	}
	for _, secret := range []string{key, "d-secret-token"} {
		if strings.Contains(log+out, secret) {
			t.Errorf("output leaks a secret:\n%s%s", out, log)
		}
	}
}

func TestServeFailures(t *testing.T) {
	cases := []struct {
		name string
		// comps builds the components from a call recorder.
		comps func(rec *calls) []component
		// then is what happens once serve runs: "cancel" (a signal), "abort" (a component
		// gives up) or "" (serve never gets to run).
		then    string
		timeout time.Duration
		code    int
		calls   []string
		log     []string
		within  time.Duration
	}{
		{
			name: "start fails: started ones stop, later ones never start",
			comps: func(rec *calls) []component {
				return []component{&fake{name: "a", calls: rec},
					&fake{name: "b", calls: rec, startErr: errors.New("gateway refused")},
					&fake{name: "c", calls: rec}}
			},
			code:  exitFailure,
			calls: []string{"start a", "start b", "stop a"},
			log:   []string{"component failed to start", "gateway refused"},
		},
		{
			name: "a stop that hangs is abandoned after the budget",
			comps: func(rec *calls) []component {
				return []component{&fake{name: "a", calls: rec}, &fake{name: "stuck", calls: rec, hang: true}}
			},
			then:    "cancel",
			timeout: 200 * time.Millisecond,
			code:    exitFailure,
			calls:   []string{"start a", "start stuck", "stop stuck", "stop a"},
			log:     []string{"component did not stop cleanly", "shutdown budget"},
			within:  5 * time.Second,
		},
		{
			name: "a component aborts",
			comps: func(rec *calls) []component {
				return []component{&fake{name: "a", calls: rec}, &fake{name: "b", calls: rec}}
			},
			then:  "abort",
			code:  exitFailure,
			calls: []string{"start a", "start b", "stop b", "stop a"},
			log:   []string{"component aborted", "token revoked"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			getenv, key := serveEnvVars(t, "TEND_HTTP_LISTEN", "off")
			rec := &calls{}
			comps := tc.comps(rec)
			r := startServe(t, getenv, func(*serveEnv) []component { return comps }, tc.timeout)
			switch tc.then {
			case "abort":
				r.waitServing(t)
				(*r.env).abort("a", errors.New("token revoked"))
			case "cancel":
				r.waitServing(t)
				r.cancel()
			}
			within := tc.within
			if within == 0 {
				within = 30 * time.Second
			}
			if code := r.wait(t, within); code != tc.code {
				t.Errorf("exit %d, want %d; log:\n%s", code, tc.code, r.log)
			}
			if got := rec.get(); !slices.Equal(got, tc.calls) {
				t.Errorf("calls %v, want %v", got, tc.calls)
			}
			log := r.log.String()
			for _, w := range tc.log {
				if !strings.Contains(log, w) {
					t.Errorf("log lacks %q:\n%s", w, log)
				}
			}
			if !strings.Contains(log, `"msg":"database closed"`) {
				t.Errorf("database not closed:\n%s", log)
			}
			if strings.Contains(log+r.stdout.String(), key) {
				t.Error("output leaks the key")
			}
		})
	}
}

func TestServeListenFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	getenv, _ := serveEnvVars(t, "TEND_HTTP_LISTEN", ln.Addr().String())
	rec := &calls{}
	r := startServe(t, getenv, func(*serveEnv) []component { return []component{&fake{name: "a", calls: rec}} }, 0)
	if code := r.wait(t, 30*time.Second); code != exitFailure {
		t.Errorf("exit %d, want 1", code)
	}
	if got := rec.get(); len(got) != 0 {
		t.Errorf("components touched despite the taken port: %v", got)
	}
	if log := r.log.String(); !strings.Contains(log, "cannot listen on "+ln.Addr().String()) || !strings.Contains(log, "TEND_HTTP_LISTEN") {
		t.Errorf("stderr:\n%s", log)
	}
}

// TestServeDefaultDeps: without components serve keeps its honest refusal and starts
// nothing (no HTTP endpoint either).
func TestServeDefaultDeps(t *testing.T) {
	addr := freeAddr(t)
	getenv, _ := serveEnvVars(t, "TEND_HTTP_LISTEN", addr)
	r := startServe(t, getenv, func(*serveEnv) []component { return nil }, 0)
	if code := r.wait(t, 30*time.Second); code != exitFailure {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(r.log.String(), "no chat platform configured") {
		t.Errorf("stderr:\n%s", r.log)
	}
	if code, _ := get("http://" + addr + "/healthz"); code != 0 {
		t.Errorf("HTTP endpoint answered %d though serve refused", code)
	}
}

// TestServeLogFormat: serve logs JSON unless the config or TEND_LOG_FORMAT says text.
func TestServeLogFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
		json bool
	}{
		{"default json", nil, true},
		{"env text", []string{"TEND_LOG_FORMAT", "text"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			getenv, _ := serveEnvVars(t, append([]string{"TEND_HTTP_LISTEN", "off"}, tc.kv...)...)
			rec := &calls{}
			r := startServe(t, getenv, func(*serveEnv) []component { return []component{&fake{name: "a", calls: rec}} }, 0)
			r.waitServing(t)
			r.cancel()
			if code := r.wait(t, 30*time.Second); code != exitOK {
				t.Fatalf("exit %d; log:\n%s", code, r.log)
			}
			first, _, _ := strings.Cut(r.log.String(), "\n")
			if isJSON := strings.HasPrefix(first, "{"); isJSON != tc.json {
				t.Errorf("first log line %q, want json %v", first, tc.json)
			}
		})
	}
}
