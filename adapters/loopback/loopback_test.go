package loopback

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
)

// receiver is a delivery endpoint that records what arrives and answers as told.
type receiver struct {
	mu     sync.Mutex
	got    []Outgoing
	keys   []string
	status int
	retry  string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var o Outgoing
	if err := json.NewDecoder(req.Body).Decode(&o); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
	if r.status != 0 {
		if r.retry != "" {
			w.Header().Set("Retry-After", r.retry)
		}
		w.WriteHeader(r.status)
		return
	}
	r.got = append(r.got, o)
	_ = json.NewEncoder(w).Encode(Accepted{MessageID: "m" + o.Key})
}

func TestDelivery(t *testing.T) {
	cases := []struct {
		name   string
		status int
		retry  string
		check  func(t *testing.T, id string, err error)
	}{
		{"accepted", 0, "", func(t *testing.T, id string, err error) {
			if err != nil || id != "mk1" {
				t.Fatalf("id %q, err %v", id, err)
			}
		}},
		{"rate limited", http.StatusTooManyRequests, "2.5", func(t *testing.T, _ string, err error) {
			var rl *bot.RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != 2500*time.Millisecond {
				t.Fatalf("err %v", err)
			}
		}},
		{"gone", http.StatusGone, "", func(t *testing.T, _ string, err error) {
			if !errors.Is(err, bot.ErrPermanent) {
				t.Fatalf("err %v", err)
			}
		}},
		{"server error", http.StatusBadGateway, "", func(t *testing.T, _ string, err error) {
			if err == nil || errors.Is(err, bot.ErrPermanent) {
				t.Fatalf("err %v", err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &receiver{status: c.status, retry: c.retry}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			a := New(srv.URL, srv.Client())
			id, err := a.Send(context.Background(), bot.Delivery{Key: "k1", To: bot.Destination{Kind: bot.DestChannel, ChannelID: "board"}, Msg: bot.Rendered{Title: "hello"}})
			c.check(t, id, err)
			if len(rec.keys) != 1 || rec.keys[0] != "k1" {
				t.Fatalf("idempotency keys seen: %v", rec.keys)
			}
		})
	}
}

func TestEditCarriesTheMessageID(t *testing.T) {
	rec := &receiver{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	if err := New(srv.URL, nil).Edit(context.Background(), bot.Delivery{Key: "k2", Msg: bot.Rendered{Title: "matched"}}, "m9"); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 || rec.got[0].MessageID != "m9" || rec.got[0].Msg.Title != "matched" {
		t.Fatalf("got %+v", rec.got)
	}
}

func TestIntake(t *testing.T) {
	var seen []bot.Event
	h := bot.HandlerFunc(func(_ context.Context, ev bot.Event) (bot.Reply, error) {
		seen = append(seen, ev)
		if ev.Command == "fail" {
			return bot.Reply{Messages: []bot.Rendered{{Body: []string{"try again"}}}}, errors.New("db down")
		}
		return bot.Reply{Messages: []bot.Rendered{{Body: []string{"ok " + ev.UserID}}}}, nil
	})
	srv := httptest.NewServer(Intake(h))
	defer srv.Close()
	cases := []struct {
		name, method, body string
		status             int
		want               string
	}{
		{"event", http.MethodPost, `{"id":"e1","platform":"slack","workspace":"w","user_id":"alice","kind":"command","command":"help"}`, 200, "ok alice"},
		{"unavailable", http.MethodPost, `{"id":"e2","workspace":"w","user_id":"alice","kind":"command","command":"fail"}`, 503, "try again"},
		{"not json", http.MethodPost, `{"id":`, 400, "one JSON event"},
		{"no id", http.MethodPost, `{"workspace":"w","user_id":"alice"}`, 400, "needs id"},
		{"get", http.MethodGet, ``, 405, "POST"},
		{"too big", http.MethodPost, `{"id":"e3","workspace":"w","user_id":"a","text":"` + strings.Repeat("x", MaxEventBytes) + `"}`, 400, "one JSON event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL, strings.NewReader(c.body))
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			_, _ = io.Copy(&b, resp.Body)
			if resp.StatusCode != c.status || !strings.Contains(b.String(), c.want) {
				t.Fatalf("%d %q", resp.StatusCode, b.String())
			}
		})
	}
	if len(seen) != 2 || seen[0].Platform != Platform {
		t.Fatalf("events handled: %+v", seen)
	}
}
