// Package webhook delivers to partners reached by an HTTPS webhook (a hospice's intake
// system, a social worker's case tool): each message is a JSON body signed with
// HMAC-SHA256, sent through the outbox so it is retried until the partner has it.
//
// A receiver checks X-Tend-Signature ("sha256=" and the hex HMAC-SHA256, keyed with the
// partner's secret, of X-Tend-Timestamp, a dot, and the body), refuses a timestamp more
// than five minutes old, and uses Idempotency-Key to recognise a resend.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/tend-community/tend/bot"
)

// Platform is the outbox's name for webhook deliveries.
const Platform = bot.WebhookPlatform

// Resolver finds a partner's webhook URL and signing secret by partner id.
type Resolver func(ctx context.Context, partnerID int64) (url string, secret []byte, err error)

// ErrUnknownPartner is what a Resolver returns for a partner that is gone.
var ErrUnknownPartner = errors.New("webhook: unknown partner")

// Adapter posts signed JSON to partners' webhooks.
type Adapter struct {
	resolve Resolver
	client  *http.Client
	now     func() time.Time
}

// New builds the adapter; a nil client means one with a 15 s timeout.
func New(resolve Resolver, client *http.Client) *Adapter {
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	return &Adapter{resolve: resolve, client: client, now: time.Now}
}

// Platform returns "webhook".
func (a *Adapter) Platform() string { return Platform }

// Payload is the body a partner receives.
type Payload struct {
	// ID is the delivery's idempotency key, also in the Idempotency-Key header.
	ID     string   `json:"id"`
	Title  string   `json:"title,omitempty"`
	Lines  []string `json:"lines,omitempty"`
	Fields []Field  `json:"fields,omitempty"`
	SentAt string   `json:"sent_at"`
}

// Field is a labelled value of the message.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Sign is the signature of a body sent at ts (unix seconds) with secret.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature in constant time, and that ts is within five minutes of now.
func Verify(secret []byte, ts string, body []byte, signature string, now time.Time) bool {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || math.Abs(now.Sub(time.Unix(sec, 0)).Seconds()) > 300 {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature))
}

// Send posts the message to the partner named by the destination's channel (its id).
// 2xx is delivered; 429 waits as asked; other 4xx will not get better (permanent); 5xx
// and network failures are retried by the outbox.
func (a *Adapter) Send(ctx context.Context, d bot.Delivery) (string, error) {
	id, err := strconv.ParseInt(d.To.ChannelID, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: webhook: no partner in %q", bot.ErrPermanent, d.To.ChannelID)
	}
	url, secret, err := a.resolve(ctx, id)
	if errors.Is(err, ErrUnknownPartner) {
		return "", fmt.Errorf("%w: webhook: partner %d: %v", bot.ErrPermanent, id, err)
	}
	if err != nil {
		return "", fmt.Errorf("webhook: partner %d: %w", id, err)
	}
	now := a.now()
	p := Payload{ID: d.Key, Title: d.Msg.Title, Lines: d.Msg.Body, SentAt: now.UTC().Format(time.RFC3339)}
	for _, f := range d.Msg.Fields {
		p.Fields = append(p.Fields, Field{Label: f.Label, Value: f.Value})
	}
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("%w: webhook: %v", bot.ErrPermanent, err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%w: webhook: partner %d: %v", bot.ErrPermanent, id, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tend-webhook/1")
	req.Header.Set("X-Tend-Timestamp", ts)
	req.Header.Set("X-Tend-Signature", Sign(secret, ts, body))
	if d.Key != "" {
		req.Header.Set("Idempotency-Key", d.Key)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webhook: partner %d: %w", id, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return d.Key, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := time.Minute
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		return "", &bot.RateLimitError{RetryAfter: wait, Bucket: "partner:" + d.To.ChannelID}
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout:
		return "", fmt.Errorf("%w: webhook: partner %d answered HTTP %d", bot.ErrPermanent, id, resp.StatusCode)
	}
	return "", fmt.Errorf("webhook: partner %d answered HTTP %d", id, resp.StatusCode)
}
