package slack

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
)

// slashCommand is a signed /tend request from user (id) with handle.
func slashCommand(f *fakeAPI, user, handle, trigger string) *http.Request {
	body := url.Values{"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {"T1"}, "team_domain": {"care"}, "channel_id": {"C2147483705"},
		"channel_name": {"general"}, "user_id": {user}, "user_name": {handle}, "command": {"/tend"}, "text": {"help"},
		"api_app_id": {"A1"}, "response_url": {f.responseURL(trigger)}, "trigger_id": {trigger}}.Encode()
	return signedRequest(PathCommands, "application/x-www-form-urlencoded", body)
}

func TestSlashCommandAndButtonShowTheProfileName(t *testing.T) {
	f := newFakeAPI(t)
	f.addUser("U2147483697", "alice", "Alice", "Alice Tremblay")
	f.addUser("U1", "bob.smith", "", "Bob Smith")
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	h := a.HTTPHandler(rec)

	if w := serve(h, slashCommand(f, "U2147483697", "alice", "trig-1")); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	payload := strings.Replace(strings.ReplaceAll(blockActions, `"alice"`, `"bob.smith"`), "RESPONSE_URL", f.responseURL("b1"), 1)
	if w := serve(h, signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(payload))); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	a.bg.Wait()
	evs := rec.got()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	if evs[0].Kind != bot.EventCommand || evs[0].UserID != "U2147483697" || evs[0].UserName != "Alice" {
		t.Errorf("command from %q (%s), want Alice", evs[0].UserName, evs[0].UserID)
	}
	// No display name: the profile's real name.
	if evs[1].Kind != bot.EventButton || evs[1].UserID != "U1" || evs[1].UserName != "Bob Smith" {
		t.Errorf("press by %q (%s), want Bob Smith", evs[1].UserName, evs[1].UserID)
	}
	calls := f.callsTo("users.info")
	if len(calls) != 2 || calls[0].Form.Get("user") != "U2147483697" || calls[1].Form.Get("user") != "U1" {
		t.Fatalf("users.info calls %+v", calls)
	}
	if calls[0].Form.Get("token") != "xoxb-test" && calls[0].Auth != "Bearer xoxb-test" {
		t.Errorf("users.info called without the bot token")
	}

	// The same people again: the names are cached.
	serve(h, slashCommand(f, "U2147483697", "alice", "trig-2"))
	serve(h, signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(strings.Replace(payload, "trig-2", "trig-3", 1))))
	a.bg.Wait()
	evs = rec.got()
	if len(evs) != 4 || evs[2].UserName != "Alice" || evs[3].UserName != "Bob Smith" {
		t.Fatalf("events %+v", evs)
	}
	if n := len(f.callsTo("users.info")); n != 2 {
		t.Errorf("users.info called %d times for two people, want 2", n)
	}
}

func TestNameLookupFailureFallsBackToTheHandle(t *testing.T) {
	f := newFakeAPI(t)
	f.on("users.info", slackError("missing_scope"))
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	h := a.HTTPHandler(rec)
	serve(h, slashCommand(f, "U2147483697", "alice", "trig-1"))
	serve(h, slashCommand(f, "U2147483697", "alice", "trig-2"))
	a.bg.Wait()
	evs := rec.got()
	if len(evs) != 2 || evs[0].UserName != "alice" || evs[1].UserName != "alice" {
		t.Fatalf("events %+v", evs)
	}
	// A failed lookup is not retried at once for every event.
	if n := len(f.callsTo("users.info")); n != 1 {
		t.Errorf("users.info called %d times, want 1", n)
	}

	// Someone users.info does not know (user_not_found) also keeps their handle.
	f2 := newFakeAPI(t)
	a2 := newTestAdapter(t, f2, ModeHTTP, nil)
	rec2 := &recorder{}
	serve(a2.HTTPHandler(rec2), slashCommand(f2, "U9", "carol", "trig-1"))
	if evs := rec2.got(); len(evs) != 1 || evs[0].UserName != "carol" {
		t.Fatalf("events %+v", evs)
	}
}

func TestSlowNameLookupDoesNotHoldTheAcknowledgement(t *testing.T) {
	f := newFakeAPI(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the fake closes (cleanups run last first)
	f.on("users.info", func(w http.ResponseWriter, _ call) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		writeOK(w, map[string]any{"user": map[string]any{"id": "U1", "name": "alice", "profile": map[string]any{"display_name": "Alice"}}})
	})
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	start := time.Now()
	w := serve(a.HTTPHandler(rec), slashCommand(f, "U1", "alice", "trig-1"))
	if took := time.Since(start); w.Code != http.StatusOK || took > nameTimeout+time.Second {
		t.Fatalf("status %d after %s", w.Code, took)
	}
	if evs := rec.got(); len(evs) != 1 || evs[0].UserName != "alice" {
		t.Fatalf("events %+v", evs)
	}
}

func TestDMMessageCarriesTheProfileName(t *testing.T) {
	f := newFakeAPI(t)
	f.addUser("U1", "alice", "", "")
	f.mu.Lock()
	f.users["U1"]["real_name"] = "Alice Tremblay" // only the account's real name
	f.mu.Unlock()
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	body := `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","user":"U1","channel":"D1","channel_type":"im","text":"hi","ts":"1.1"}}`
	serve(a.HTTPHandler(rec), signedRequest(PathEvents, "application/json", body))
	a.bg.Wait()
	if evs := rec.got(); len(evs) != 1 || evs[0].UserName != "Alice Tremblay" {
		t.Fatalf("events %+v", evs)
	}
}

func TestProfileName(t *testing.T) {
	for _, c := range []struct {
		u    slack.User
		want string
	}{
		{slack.User{Name: "alice", RealName: "A T", Profile: slack.UserProfile{DisplayName: "Alice", RealName: "Alice Tremblay"}}, "Alice"},
		{slack.User{Name: "alice", RealName: "A T", Profile: slack.UserProfile{DisplayName: " ", RealName: "Alice Tremblay"}}, "Alice Tremblay"},
		{slack.User{Name: "alice", RealName: "A T"}, "A T"},
		{slack.User{Name: "alice"}, ""},
	} {
		if got := profileName(&c.u); got != c.want {
			t.Errorf("profileName(%+v) = %q, want %q", c.u, got, c.want)
		}
	}
}

func TestNameCacheExpiresAndStaysBounded(t *testing.T) {
	f := newFakeAPI(t)
	f.addUser("U1", "alice", "Alice", "Alice Tremblay")
	a := newTestAdapter(t, f, ModeHTTP, nil)
	ctx := t.Context()
	if got := a.personName(ctx, "U1", "alice"); got != "Alice" {
		t.Fatalf("name %q", got)
	}
	// An expired name is looked up again.
	a.mu.Lock()
	a.names["U1"] = cachedName{name: "Old", expires: time.Now().Add(-time.Second)}
	a.mu.Unlock()
	if got := a.personName(ctx, "U1", "alice"); got != "Alice" || len(f.callsTo("users.info")) != 2 {
		t.Fatalf("name %q after %d lookups", got, len(f.callsTo("users.info")))
	}

	// A full cache drops expired names first, then makes room.
	later := time.Now().Add(time.Hour)
	a.cacheName("UOLD", cachedName{name: "x", expires: time.Now().Add(-time.Second)})
	for i := range maxNames - 2 { // with U1 and UOLD, the cache is full
		a.cacheName(fmt.Sprintf("U%05d", i), cachedName{name: "x", expires: later})
	}
	a.cacheName("UNEW", cachedName{name: "y", expires: later})
	a.mu.Lock()
	_, old := a.names["UOLD"]
	n := len(a.names)
	a.mu.Unlock()
	if old || n != maxNames {
		t.Fatalf("after adding to a full cache: expired kept %v, %d names", old, n)
	}
	a.cacheName("UNEWER", cachedName{name: "z", expires: later})
	a.mu.Lock()
	n = len(a.names)
	newer := a.names["UNEWER"].name
	a.mu.Unlock()
	if n > maxNames-maxNames/10 || newer != "z" {
		t.Fatalf("after evicting: %d names, newest %q", n, newer)
	}
}

// Slack's users.info says who administers the workspace: admins and owners set tend up,
// anyone else does not, and a failed lookup never counts as an admin.
func TestPlatformAdminFromUsersInfo(t *testing.T) {
	cases := []struct {
		name         string
		admin, owner bool
		known        bool
		want         bool
	}{
		{"member", false, false, true, false},
		{"workspace admin", true, false, true, true},
		{"owner", false, true, true, true},
		{"lookup fails", false, false, false, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeAPI(t)
			user := fmt.Sprintf("U%d", 100+i)
			if c.known {
				f.addUser(user, "alice", "Alice", "Alice Tremblay")
				f.setAdmin(user, c.admin, c.owner)
			}
			a := newTestAdapter(t, f, ModeHTTP, nil)
			rec := &recorder{}
			if w := serve(a.HTTPHandler(rec), slashCommand(f, user, "alice", "trig-admin")); w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			a.bg.Wait()
			evs := rec.got()
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			if evs[0].PlatformAdmin != c.want {
				t.Fatalf("PlatformAdmin = %v, want %v", evs[0].PlatformAdmin, c.want)
			}
		})
	}
}
