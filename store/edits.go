package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Edits of a request by its requester, and the confirmations a change of time asks of
// its helpers.

// RequestEdit is the part of a request its requester may change: the public part and the
// time window.
type RequestEdit struct {
	Summary  string
	Area     string
	ShowName bool
	StartsAt int64
	EndsAt   int64
}

// EditRequest rewrites a request's public part and window. Its slots move with it: a
// slot spanning the whole old window takes the new one; any other keeps its place
// relative to the start (one UPDATE: both sides of each CASE read the row as it was).
func (tx *Tx) EditRequest(ctx context.Context, id int64, e RequestEdit) error {
	r, err := tx.Request(ctx, id)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE requests SET summary = ?, area = ?, show_name = ?, starts_at = ?, ends_at = ?, updated_at = ? WHERE id = ?`,
		e.Summary, e.Area, e.ShowName, e.StartsAt, e.EndsAt, tx.Now(), id); err != nil {
		return wrap(err, "edit request")
	}
	if e.StartsAt == r.StartsAt && e.EndsAt == r.EndsAt {
		return nil
	}
	d := e.StartsAt - r.StartsAt
	_, err = tx.exec(ctx, `UPDATE slots SET
		starts_at = CASE WHEN starts_at = ? AND ends_at = ? THEN ? ELSE starts_at + ? END,
		ends_at = CASE WHEN starts_at = ? AND ends_at = ? THEN ? ELSE ends_at + ? END
		WHERE request_id = ?`, r.StartsAt, r.EndsAt, e.StartsAt, d, r.StartsAt, r.EndsAt, e.EndsAt, d, id)
	return wrap(err, "move slots")
}

// SetRequestPrivate seals and stores a request's new private part; an empty one erases it.
func (tx *Tx) SetRequestPrivate(ctx context.Context, id int64, p Private) error {
	ct, kid, err := tx.sealPrivate(p, requestContext(id))
	if err != nil {
		return fmt.Errorf("store: seal request: %w", err)
	}
	_, err = tx.exec(ctx, `UPDATE requests SET private_ct = ?, private_key_id = ?, updated_at = ? WHERE id = ?`, ct, kid, tx.Now(), id)
	return wrap(err, "request private part")
}

// ResetVisitMarks forgets a claim's arrival and after-visit checks: they belonged to a
// time the visit has since moved from.
func (tx *Tx) ResetVisitMarks(ctx context.Context, claim int64) error {
	_, err := tx.exec(ctx, `UPDATE claims SET arrived_at = NULL, checked_at = NULL, alerted_at = NULL
		WHERE id = ? AND (arrived_at IS NOT NULL OR checked_at IS NOT NULL OR alerted_at IS NOT NULL)`, claim)
	return wrap(err, "reset visit marks")
}

// Reschedule is one ask to a helper to confirm a request's new time.
type Reschedule struct {
	ID           int64         `db:"id"`
	ClaimID      int64         `db:"claim_id"`
	RequestID    int64         `db:"request_id"`
	StartsAt     int64         `db:"starts_at"`
	EndsAt       int64         `db:"ends_at"`
	PrevStartsAt int64         `db:"prev_starts_at"`
	PrevEndsAt   int64         `db:"prev_ends_at"`
	State        string        `db:"state"`
	CreatedAt    int64         `db:"created_at"`
	AnsweredAt   sql.NullInt64 `db:"answered_at"`
}

// Reschedule states.
const (
	RescheduleAsked      = "asked"
	RescheduleConfirmed  = "confirmed"
	RescheduleDeclined   = "declined"
	RescheduleSuperseded = "superseded"
)

// AskReschedule records that a claim's helper is asked to confirm a new window (from the
// previous one), superseding any ask still waiting on that claim. It returns the new ask.
func (tx *Tx) AskReschedule(ctx context.Context, claim, request, start, end, prevStart, prevEnd int64) (int64, error) {
	now := tx.Now()
	if _, err := tx.exec(ctx, `UPDATE reschedules SET state = 'superseded', answered_at = ? WHERE claim_id = ? AND state = 'asked'`,
		now, claim); err != nil {
		return 0, wrap(err, "supersede reschedule")
	}
	id, err := tx.insert(ctx, `INSERT INTO reschedules (claim_id, request_id, starts_at, ends_at, prev_starts_at, prev_ends_at, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'asked', ?)`, claim, request, start, end, prevStart, prevEnd, now)
	return id, wrap(err, "ask reschedule")
}

// RescheduleAsk loads one ask.
func (tx *Tx) RescheduleAsk(ctx context.Context, id int64) (Reschedule, error) {
	var r Reschedule
	err := tx.get(ctx, &r, `SELECT * FROM reschedules WHERE id = ?`, id)
	return r, wrap(err, "reschedule")
}

// PendingReschedule returns the ask still waiting on a claim, if any (ErrNotFound).
func (tx *Tx) PendingReschedule(ctx context.Context, claim int64) (Reschedule, error) {
	var r Reschedule
	err := tx.get(ctx, &r, `SELECT * FROM reschedules WHERE claim_id = ? AND state = 'asked' ORDER BY id DESC LIMIT 1`, claim)
	return r, wrap(err, "pending reschedule")
}

// AnswerReschedule records the helper's answer to an ask still waiting. It reports
// whether it did, so a second press is recognised.
func (tx *Tx) AnswerReschedule(ctx context.Context, id int64, state string) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE reschedules SET state = ?, answered_at = ? WHERE id = ? AND state = 'asked'`, state, tx.Now(), id)
	return n > 0, wrap(err, "answer reschedule")
}
