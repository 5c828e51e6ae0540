package discord

import (
	"bytes"
	"context"
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

// permanent are Discord JSON error codes that retrying will not fix: the place or the
// message is gone, the bot lost its access, the person cannot be reached, or the
// payload itself is refused.
var permanent = map[int]bool{
	10003: true, // Unknown Channel
	10004: true, // Unknown Guild
	10008: true, // Unknown Message
	10013: true, // Unknown User
	10062: true, // Unknown Interaction (its token expired)
	40001: true, // Unauthorized
	40060: true, // Interaction has already been acknowledged
	50001: true, // Missing Access
	50007: true, // Cannot send messages to this user (DMs closed)
	50013: true, // Missing Permissions
	50035: true, // Invalid Form Body
	50278: true, // Cannot send messages to this user (no mutual guild)
}

// codeDMsClosed is Discord's answer when a person does not accept DMs from the bot.
const codeDMsClosed = 50007

// userAgent is what Discord asks bots to send.
const userAgent = "DiscordBot (https://github.com/tend-community/tend, 1)"

// call makes one REST request through the session's HTTP client to route, a path under
// the API base such as "/channels/123/messages", and decodes the answer into out when
// out is not nil. bucket names the route for rate limits and logs
// ("POST /channels/{id}/messages"). The outbox does the waiting on a 429, so no worker
// sleeps here.
func (a *Adapter) call(ctx context.Context, method, route, bucket string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%w: discord %s: %v", bot.ErrPermanent, bucket, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.APIBase+route, rd)
	if err != nil {
		return fmt.Errorf("%w: discord %s: %v", bot.ErrPermanent, bucket, err)
	}
	req.Header.Set("Authorization", "Bot "+a.cfg.Token)
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("discord %s: %w", bucket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("discord %s: reading the answer: %w", bucket, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("discord %s: reading the answer: %w", bucket, err)
			}
		}
		return nil
	}
	return apiError(bucket, resp, data)
}

// apiError maps a REST failure to what the outbox understands: a rate limit (wait and
// retry; a global one pauses the whole platform), a permanent failure (stop), or
// anything else (retry with back-off). It carries the route and Discord's error code,
// never message text.
func apiError(bucket string, resp *http.Response, body []byte) error {
	var p struct {
		Code       int     `json:"code"`
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}
	_ = json.Unmarshal(body, &p) // a proxy's HTML error page has no code: status decides
	if resp.StatusCode == http.StatusTooManyRequests {
		wait := time.Duration(p.RetryAfter * float64(time.Second))
		if wait <= 0 {
			if s, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64); err == nil {
				wait = time.Duration(math.Ceil(s)) * time.Second
			}
		}
		if wait <= 0 {
			wait = time.Second
		}
		rl := &bot.RateLimitError{RetryAfter: max(wait, 50*time.Millisecond), Bucket: bucket}
		if p.Global || resp.Header.Get("X-RateLimit-Global") == "true" || resp.Header.Get("X-RateLimit-Scope") == "global" {
			rl.Bucket = ""
		}
		return rl
	}
	e := &APIError{Route: bucket, Status: resp.StatusCode, Code: p.Code}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		e.permanent = true
	case http.StatusBadRequest:
		e.permanent = true
	}
	if permanent[p.Code] {
		e.permanent = true
	}
	return e
}

// APIError is a REST failure by HTTP status and Discord's JSON error code (0 when the
// answer had none); it wraps bot.ErrPermanent when retrying cannot help.
type APIError struct {
	Route        string
	Status, Code int
	permanent    bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("discord %s: HTTP %d, code %d", e.Route, e.Status, e.Code)
}

// Unwrap is bot.ErrPermanent for a failure that retrying cannot fix.
func (e *APIError) Unwrap() error {
	if e.permanent {
		return bot.ErrPermanent
	}
	return nil
}

// dmsClosed reports whether err is Discord refusing a DM to the person.
func dmsClosed(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == codeDMsClosed || e.Code == 50278)
}
