// Package loopback is a platform adapter that speaks plain HTTP and JSON, for load tests,
// crash tests and integrations that are not chat platforms: events are POSTed to tend and
// answered with the reply once committed; messages are POSTed to a delivery URL with an
// Idempotency-Key header. It is not meant for people.
package loopback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tend-community/tend/bot"
)

// Platform is the loopback platform's name in space bindings and identities.
const Platform = "loopback"

// MaxEventBytes bounds an incoming event.
const MaxEventBytes = 64 << 10

// Outgoing is what the delivery URL receives.
type Outgoing struct {
	Key       string          `json:"key"`
	To        bot.Destination `json:"to"`
	Msg       bot.Rendered    `json:"msg"`
	MessageID string          `json:"message_id,omitempty"` // set on edits
}

// Accepted is what the delivery URL answers with.
type Accepted struct {
	MessageID string `json:"message_id"`
}

// Adapter sends to a delivery URL and takes events over HTTP.
type Adapter struct {
	url    string
	client *http.Client
}

// New returns an adapter delivering to url (POST).
func New(url string, client *http.Client) *Adapter {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Adapter{url: url, client: client}
}

// Platform returns "loopback".
func (a *Adapter) Platform() string { return Platform }

// CanDM is true: the delivery URL receives direct messages like any other.
func (a *Adapter) CanDM() bool { return true }

// CanOpenForms is true: a form the bot opens comes whole in the reply ("form": its id,
// payload and fields), and the integration submits it whole as a form event, as a modal
// is, rather than being walked through it one question at a time by DM.
func (a *Adapter) CanOpenForms() bool { return true }

// Send posts a message and returns the id the receiver gave it.
func (a *Adapter) Send(ctx context.Context, d bot.Delivery) (string, error) {
	return a.post(ctx, Outgoing{Key: d.Key, To: d.To, Msg: d.Msg})
}

// Edit posts a new version of a message the receiver already has.
func (a *Adapter) Edit(ctx context.Context, d bot.Delivery, messageID string) error {
	_, err := a.post(ctx, Outgoing{Key: d.Key, To: d.To, Msg: d.Msg, MessageID: messageID})
	return err
}

func (a *Adapter) post(ctx context.Context, o Outgoing) (string, error) {
	body, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("loopback: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("loopback: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", o.Key)
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("loopback: deliver: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := time.Second
		if s, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64); err == nil && s >= 0 {
			wait = time.Duration(s * float64(time.Second))
		}
		return "", &bot.RateLimitError{RetryAfter: wait, Bucket: resp.Header.Get("X-RateLimit-Bucket")}
	case resp.StatusCode == http.StatusGone || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("%w: loopback receiver answered %d", bot.ErrPermanent, resp.StatusCode)
	case resp.StatusCode/100 != 2:
		return "", fmt.Errorf("loopback: receiver answered %d", resp.StatusCode)
	}
	var acc Accepted
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&acc); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("loopback: read answer: %w", err)
	}
	return acc.MessageID, nil
}

// Intake is the HTTP handler that takes events: POST a JSON bot.Event (platform is
// forced to loopback); the answer is the Reply as JSON once the event is committed, 503
// with the calm reply when the database is unavailable.
func Intake(h bot.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST an event", http.StatusMethodNotAllowed)
			return
		}
		var ev bot.Event
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxEventBytes))
		if err := dec.Decode(&ev); err != nil {
			http.Error(w, "the body must be one JSON event", http.StatusBadRequest)
			return
		}
		if ev.ID == "" || ev.UserID == "" || ev.Workspace == "" {
			http.Error(w, "an event needs id, workspace and user_id", http.StatusBadRequest)
			return
		}
		ev.Platform = Platform
		ev.ReceivedAt = time.Now()
		reply, err := h.Handle(r.Context(), ev)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(reply)
	})
}
