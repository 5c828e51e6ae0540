package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
)

var secret = []byte("a-partner-secret-of-some-length")

// receiver is a partner's endpoint: it checks every signature and answers with the
// statuses it is given, in turn, then 200.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []Payload
	keys     []string
	bad      int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !Verify(secret, req.Header.Get("X-Tend-Timestamp"), body, req.Header.Get("X-Tend-Signature"), time.Now()) {
		r.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "7")
	}
	if status == http.StatusOK {
		var p Payload
		if err := json.Unmarshal(body, &p); err == nil {
			r.got = append(r.got, p)
			r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
		}
	}
	w.WriteHeader(status)
}

func delivery() bot.Delivery {
	return bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, Workspace: "partners", ChannelID: "7"}, Key: "outbox:42",
		Msg: bot.Rendered{Title: "Referral from St Mark's (#3)", Fields: []bot.RenderedField{{Label: "Name", Value: "Alice"}}}}
}

func TestSend(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		secret   []byte
		check    func(t *testing.T, errs []error, r *receiver)
	}{
		{"delivered and signed", nil, secret, func(t *testing.T, errs []error, r *receiver) {
			if errs[0] != nil || len(r.got) != 1 || r.got[0].Title != "Referral from St Mark's (#3)" || r.keys[0] != "outbox:42" {
				t.Fatalf("errs %v, got %+v", errs, r.got)
			}
		}},
		{"a 500 is retried, then delivered once", []int{500}, secret, func(t *testing.T, errs []error, r *receiver) {
			if errs[0] == nil || errors.Is(errs[0], bot.ErrPermanent) || errs[1] != nil || len(r.got) != 1 {
				t.Fatalf("errs %v, got %d", errs, len(r.got))
			}
		}},
		{"429 waits as asked", []int{429}, secret, func(t *testing.T, errs []error, r *receiver) {
			var rl *bot.RateLimitError
			if !errors.As(errs[0], &rl) || rl.RetryAfter != 7*time.Second {
				t.Fatalf("err = %v", errs[0])
			}
		}},
		{"a refusal is permanent", []int{410}, secret, func(t *testing.T, errs []error, r *receiver) {
			if !errors.Is(errs[0], bot.ErrPermanent) {
				t.Fatalf("err = %v", errs[0])
			}
		}},
		{"a wrong secret is refused by the receiver", nil, []byte("not the partner's secret"), func(t *testing.T, errs []error, r *receiver) {
			if !errors.Is(errs[0], bot.ErrPermanent) || r.bad != 1 || len(r.got) != 0 {
				t.Fatalf("err %v, bad %d", errs[0], r.bad)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &receiver{statuses: tt.statuses}
			srv := httptest.NewServer(r)
			defer srv.Close()
			a := New(func(ctx context.Context, id int64) (string, []byte, error) {
				if id != 7 {
					return "", nil, ErrUnknownPartner
				}
				return srv.URL, tt.secret, nil
			}, srv.Client())
			var errs []error
			for i := 0; i < 2; i++ {
				_, err := a.Send(context.Background(), delivery())
				errs = append(errs, err)
				// The outbox stops on success and on what cannot get better.
				if err == nil || errors.Is(err, bot.ErrPermanent) {
					break
				}
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			tt.check(t, errs, r)
		})
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"x"}`)
	ts := "1800000000"
	sig := Sign(secret, ts, body)
	tests := []struct {
		name string
		ts   string
		body []byte
		sig  string
		ok   bool
	}{
		{"good", ts, body, sig, true},
		{"body changed", ts, []byte(`{"id":"y"}`), sig, false},
		{"old", "1799999000", body, Sign(secret, "1799999000", body), false},
		{"no signature", ts, body, "", false},
	}
	for _, tt := range tests {
		if got := Verify(secret, tt.ts, tt.body, tt.sig, now); got != tt.ok {
			t.Errorf("%s: Verify = %v", tt.name, got)
		}
	}
}

func TestUnknownPartnerIsPermanent(t *testing.T) {
	a := New(func(ctx context.Context, id int64) (string, []byte, error) { return "", nil, ErrUnknownPartner }, nil)
	if _, err := a.Send(context.Background(), delivery()); !errors.Is(err, bot.ErrPermanent) {
		t.Fatalf("err = %v", err)
	}
}
