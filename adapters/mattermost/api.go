package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
)

// APIError is a REST failure by HTTP status and Mattermost's error id (such as
// "api.context.permissions.app_error"), never its message; it wraps bot.ErrPermanent
// when retrying cannot help.
type APIError struct {
	Route     string
	Status    int
	ID        string
	permanent bool
}

func (e *APIError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("mattermost %s: HTTP %d", e.Route, e.Status)
	}
	return fmt.Sprintf("mattermost %s: HTTP %d (%s)", e.Route, e.Status, e.ID)
}

// Unwrap is bot.ErrPermanent for a failure that retrying cannot fix.
func (e *APIError) Unwrap() error {
	if e.permanent {
		return bot.ErrPermanent
	}
	return nil
}

// apiError maps a failed call to what the outbox understands: a rate limit (429: wait
// as X-Ratelimit-Reset or Retry-After say; Mattermost limits a token across every route,
// so the whole platform waits), a permanent failure (the request itself is refused, or
// its channel, post or person is gone), or anything else (retry with back-off). A 401
// is retried too: a revoked token stops the websocket, which stops serve, and what
// waits to be sent stays in the outbox for the fixed token.
func apiError(route string, resp *model.Response, err error) error {
	if err == nil {
		return nil
	}
	status := 0
	var h http.Header
	if resp != nil {
		status, h = resp.StatusCode, resp.Header
	}
	if status == 0 {
		return fmt.Errorf("mattermost %s: %w", route, err)
	}
	if status == http.StatusTooManyRequests {
		return rateLimit(h)
	}
	e := &APIError{Route: route, Status: status}
	var ae *model.AppError
	if errors.As(err, &ae) {
		e.ID = ae.Id
	}
	switch status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge,
		http.StatusNotImplemented:
		e.permanent = true
	}
	return e
}

// rateLimit reads how long to wait from a 429's headers: Retry-After, else
// X-Ratelimit-Reset (seconds until the window resets), else a second.
func rateLimit(h http.Header) *bot.RateLimitError {
	wait := time.Duration(0)
	for _, name := range []string{"Retry-After", "X-Ratelimit-Reset"} {
		if s, err := strconv.ParseFloat(h.Get(name), 64); err == nil && s > 0 {
			wait = time.Duration(math.Ceil(s)) * time.Second
			break
		}
	}
	if wait <= 0 {
		wait = time.Second
	}
	return &bot.RateLimitError{RetryAfter: wait}
}

// status is the HTTP status of a failed call, 0 when it never got an answer.
func status(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// self is the bot account, read once with GET /users/me.
func (a *Adapter) self(ctx context.Context) (*model.User, error) {
	a.mu.Lock()
	me := a.me
	a.mu.Unlock()
	if me != nil {
		return me, nil
	}
	u, resp, err := a.api.GetMe(ctx, "")
	if err != nil {
		return nil, apiError("GET /users/me", resp, err)
	}
	a.mu.Lock()
	a.me = u
	a.mu.Unlock()
	return u, nil
}

// BotUserID is the bot account's user id (GET /users/me, once).
func (a *Adapter) BotUserID(ctx context.Context) (string, error) {
	me, err := a.self(ctx)
	if err != nil {
		return "", err
	}
	return me.Id, nil
}

// getJSON calls a GET route Client4 has no paged method for and decodes the answer.
func (a *Adapter) getJSON(ctx context.Context, route, bucket string, out any) error {
	r, err := a.api.DoAPIGet(ctx, route, "")
	if err != nil {
		return apiError(bucket, model.BuildResponse(r), err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(out); err != nil {
		return fmt.Errorf("mattermost %s: reading the answer: %w", bucket, err)
	}
	return nil
}
