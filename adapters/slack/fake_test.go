package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
)

// call is one Web API request the fake received.
type call struct {
	Method string
	Path   string         // the request path ("/api/chat.postMessage", "/response/<id>")
	Form   url.Values     // form-encoded methods (chat.*, conversations.open, usergroups.*, users.info)
	JSON   map[string]any // JSON methods (views.*), response_url posts
	Auth   string
}

// fakeAPI is a Slack Web API speaking the documented payloads, recording every call.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	calls    []call
	ts       int
	override map[string]func(w http.ResponseWriter, c call)
	ws       http.HandlerFunc
	// users are the workspace's people users.info knows, by user id.
	users map[string]map[string]any
	// observe, when set, sees each call with the answer the fake gives it (not calls
	// answered by an override), before the answer is written.
	observe func(c call, answer map[string]any)
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, override: map[string]func(http.ResponseWriter, call){}, users: map[string]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// url is the Web API base URL, as Config.APIURL wants it.
func (f *fakeAPI) url() string { return f.srv.URL + "/api/" }

// responseURL is an interaction's response_url pointing at the fake.
func (f *fakeAPI) responseURL(id string) string { return f.srv.URL + "/response/" + id }

// watch sets the observer of calls and their answers.
func (f *fakeAPI) watch(fn func(c call, answer map[string]any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.observe = fn
}

// addUser adds a person to the workspace, as users.info describes them: id, handle
// (name), real_name, and the profile's display_name and real_name.
func (f *fakeAPI) addUser(id, handle, displayName, realName string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = map[string]any{"id": id, "team_id": "T1", "name": handle, "deleted": false, "real_name": realName,
		"tz": "America/Toronto", "is_bot": false, "is_admin": false, "is_owner": false, "is_primary_owner": false,
		"profile": map[string]any{"display_name": displayName, "real_name": realName,
			"display_name_normalized": displayName, "real_name_normalized": realName}}
}

// setAdmin makes a person an admin of the workspace (is_admin), or an owner (is_owner),
// as users.info reports them.
func (f *fakeAPI) setAdmin(id string, admin, owner bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id]["is_admin"], f.users[id]["is_owner"] = admin, owner
}

// on replaces the answer to a method.
func (f *fakeAPI) on(method string, h func(w http.ResponseWriter, c call)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.override[method] = h
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws" {
		f.mu.Lock()
		ws := f.ws
		f.mu.Unlock()
		if ws != nil {
			ws(w, r)
			return
		}
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	c := call{Path: r.URL.Path, Auth: r.Header.Get("Authorization")}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		c.Method = strings.TrimPrefix(r.URL.Path, "/api/")
	case strings.HasPrefix(r.URL.Path, "/response/"):
		c.Method = "response_url"
	default:
		http.NotFound(w, r)
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if len(body) > 0 {
			if err := json.Unmarshal(body, &c.JSON); err != nil {
				f.t.Errorf("%s: JSON body: %v", c.Method, err)
			}
		}
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	h := f.override[c.Method]
	observe := f.observe
	user, known := f.users[c.Form.Get("user")]
	f.ts++
	ts := fmt.Sprintf("1700000000.%06d", f.ts)
	f.mu.Unlock()
	if h != nil {
		h(w, c)
		return
	}
	var answer map[string]any
	switch c.Method {
	case "chat.postMessage":
		answer = okAnswer(map[string]any{"channel": c.Form.Get("channel"), "ts": ts, "message": map[string]any{"type": "message", "ts": ts}})
	case "chat.postEphemeral":
		answer = okAnswer(map[string]any{"message_ts": ts})
	case "chat.update":
		answer = okAnswer(map[string]any{"channel": c.Form.Get("channel"), "ts": c.Form.Get("ts"), "text": c.Form.Get("text")})
	case "conversations.open":
		answer = okAnswer(map[string]any{"channel": map[string]any{"id": "D" + c.Form.Get("users")}})
	case "views.open", "views.publish":
		answer = okAnswer(map[string]any{"view": map[string]any{"id": "V" + ts, "hash": ts}})
	case "response_url":
		answer = okAnswer(nil)
	case "users.info":
		if known {
			answer = okAnswer(map[string]any{"user": user})
		} else {
			answer = map[string]any{"ok": false, "error": "user_not_found"}
		}
	case "apps.connections.open":
		answer = okAnswer(map[string]any{"url": "ws://" + f.srv.Listener.Addr().String() + "/ws"})
	default:
		answer = map[string]any{"ok": false, "error": "unknown_method"}
	}
	if observe != nil {
		observe(c, answer)
	}
	writeJSONTest(w, answer)
}

func writeOK(w http.ResponseWriter, fields map[string]any) { writeJSONTest(w, okAnswer(fields)) }

// okAnswer is a successful Web API answer carrying fields.
func okAnswer(fields map[string]any) map[string]any {
	out := map[string]any{"ok": true}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

func writeJSONTest(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// slackError answers like Slack does for a failed call: HTTP 200, ok false.
func slackError(code string) func(http.ResponseWriter, call) {
	return func(w http.ResponseWriter, _ call) {
		writeJSONTest(w, map[string]any{"ok": false, "error": code})
	}
}

// callsBut returns the calls made to methods other than these.
func (f *fakeAPI) callsBut(methods ...string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if !slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// callsTo returns the calls made to a method.
func (f *fakeAPI) callsTo(method string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// waitFor waits (bounded) until a method has been called n times.
func (f *fakeAPI) waitFor(method string, n int) []call {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cs := f.callsTo(method)
		if len(cs) >= n {
			return cs
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s called %d times, want %d", method, len(cs), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// blocks decodes a call's blocks (form field or JSON) into generic JSON.
func (c call) blocks(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if c.Form != nil {
		if err := json.Unmarshal([]byte(c.Form.Get("blocks")), &out); err != nil {
			t.Fatalf("%s: blocks %q: %v", c.Method, c.Form.Get("blocks"), err)
		}
		return out
	}
	raw, _ := json.Marshal(c.JSON["blocks"])
	_ = json.Unmarshal(raw, &out)
	return out
}

// recorder is a fake bot: it records events and answers with reply.
type recorder struct {
	mu     sync.Mutex
	events []bot.Event
	reply  func(bot.Event) (bot.Reply, error)
}

func (r *recorder) Handle(_ context.Context, ev bot.Event) (bot.Reply, error) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	f := r.reply
	r.mu.Unlock()
	if f == nil {
		return bot.Reply{}, nil
	}
	return f(ev)
}

func (r *recorder) got() []bot.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Event(nil), r.events...)
}

// newTestAdapter builds an adapter against the fake Web API.
func newTestAdapter(t *testing.T, f *fakeAPI, mode string, edit func(*Config)) *Adapter {
	t.Helper()
	cfg := Config{BotToken: "xoxb-test", AppToken: "xapp-test", SigningSecret: testSecret, Mode: mode, APIURL: f.url()}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

func card(title string, body ...string) bot.Rendered { return bot.Rendered{Title: title, Body: body} }
