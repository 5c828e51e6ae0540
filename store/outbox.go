package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Outbox states.
const (
	OutboxPending = "pending"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxRow is one message waiting for, or past, delivery.
type OutboxRow struct {
	ID            int64         `db:"id"`
	IdemKey       string        `db:"idem_key"`
	Platform      string        `db:"platform"`
	Workspace     string        `db:"workspace"`
	DestKind      string        `db:"dest_kind"`
	ChannelID     string        `db:"channel_id"`
	UserID        string        `db:"user_id"`
	UserName      string        `db:"user_name"`
	MemberID      sql.NullInt64 `db:"member_id"`
	Lang          string        `db:"lang"`
	CardKey       string        `db:"card_key"`
	Card          string        `db:"card"`
	State         string        `db:"state"`
	Attempts      int           `db:"attempts"`
	LeaseUntil    int64         `db:"lease_until"`
	NextAttemptAt int64         `db:"next_attempt_at"`
	MessageID     string        `db:"message_id"`
	LastError     string        `db:"last_error"`
	CreatedAt     int64         `db:"created_at"`
	SentAt        sql.NullInt64 `db:"sent_at"`
}

// Enqueue writes one outbox row in the caller's transaction and returns its id.
func (tx *Tx) Enqueue(ctx context.Context, r OutboxRow) (int64, error) {
	ids, err := tx.EnqueueMany(ctx, []OutboxRow{r})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// EnqueueMany writes outbox rows with one statement per few hundred rows (an ask that
// tells a dozen volunteers is one round trip, not twelve) and returns their ids, in no
// particular order.
func (tx *Tx) EnqueueMany(ctx context.Context, rows []OutboxRow) ([]int64, error) {
	const cols = 14
	const chunk = 500
	now := tx.db.now().UnixMilli()
	ids := make([]int64, 0, len(rows))
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		q := `INSERT INTO outbox (idem_key, platform, workspace, dest_kind, channel_id, user_id, user_name, member_id, lang, card_key, card, state, next_attempt_at, created_at) VALUES `
		args := make([]any, 0, n*cols)
		for i, r := range rows[:n] {
			if i > 0 {
				q += ", "
			}
			q += "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)"
			args = append(args, r.IdemKey, r.Platform, r.Workspace, r.DestKind, r.ChannelID, r.UserID, r.UserName,
				r.MemberID, r.Lang, r.CardKey, r.Card, now, now)
		}
		var got []int64
		if err := tx.sel(ctx, &got, q+" RETURNING id", args...); err != nil {
			return nil, wrap(err, "enqueue")
		}
		ids = append(ids, got...)
		tx.writes += int64(len(got))
		rows = rows[n:]
	}
	return ids, nil
}

// Lease takes an outbox row for sending, if it is due and nobody else holds it, and if no
// older message for the same card is still on its way (a card is posted before it is
// edited). A lease that ran out (a crashed sender) can be taken again: delivery is at
// least once, and the idempotency key lets the platform drop a repeat where it can.
func (db *DB) Lease(ctx context.Context, id int64, leaseFor time.Duration) (OutboxRow, bool, error) {
	now := db.now().UnixMilli()
	res, err := db.X.ExecContext(ctx, db.X.Rebind(`UPDATE outbox SET state = 'sending', lease_until = ?, attempts = attempts + 1
		WHERE id = ? AND next_attempt_at <= ? AND (state = 'pending' OR (state = 'sending' AND lease_until < ?))
		AND (outbox.card_key = '' OR NOT EXISTS (SELECT 1 FROM outbox o2 WHERE o2.card_key <> '' AND o2.card_key = outbox.card_key
			AND o2.platform = outbox.platform AND o2.workspace = outbox.workspace AND o2.id < outbox.id AND o2.state IN ('pending', 'sending')))`),
		now+leaseFor.Milliseconds(), id, now, now)
	if err != nil {
		return OutboxRow{}, false, wrap(err, "lease outbox")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return OutboxRow{}, false, nil
	}
	var r OutboxRow
	err = db.X.GetContext(ctx, &r, db.X.Rebind(`SELECT * FROM outbox WHERE id = ?`), id)
	return r, err == nil, wrap(err, "leased row")
}

// Due lists ids of rows ready to send on the given platforms, oldest first.
func (db *DB) Due(ctx context.Context, platforms []string, limit int) ([]int64, error) {
	if len(platforms) == 0 {
		return nil, nil
	}
	now := db.now().UnixMilli()
	q := `SELECT id FROM outbox WHERE state IN ('pending', 'sending') AND next_attempt_at <= ?
		AND (state = 'pending' OR lease_until < ?) AND platform IN (?` + repeat(", ?", len(platforms)-1) + `) ORDER BY id LIMIT ?`
	args := []any{now, now}
	for _, p := range platforms {
		args = append(args, p)
	}
	var ids []int64
	err := db.X.SelectContext(ctx, &ids, db.X.Rebind(q), append(args, limit)...)
	return ids, wrap(err, "due outbox")
}

// Sent records a delivery and the platform's message id.
func (db *DB) Sent(ctx context.Context, id int64, messageID string) error {
	_, err := db.X.ExecContext(ctx, db.X.Rebind(`UPDATE outbox SET state = 'sent', message_id = ?, sent_at = ?, last_error = '' WHERE id = ?`),
		messageID, db.now().UnixMilli(), id)
	return wrap(err, "outbox sent")
}

// Retry puts a row back to wait until at, with the reason (never message content).
func (db *DB) Retry(ctx context.Context, id int64, at time.Time, reason string) error {
	_, err := db.X.ExecContext(ctx, db.X.Rebind(`UPDATE outbox SET state = 'pending', next_attempt_at = ?, lease_until = 0, last_error = ? WHERE id = ? AND state = 'sending'`),
		at.UnixMilli(), clipReason(reason), id)
	return wrap(err, "outbox retry")
}

// Fail records a permanent failure; the caller handles it (tells the person or the
// moderators) in the same step.
func (db *DB) Fail(ctx context.Context, id int64, reason string) error {
	_, err := db.X.ExecContext(ctx, db.X.Rebind(`UPDATE outbox SET state = 'failed', lease_until = 0, last_error = ? WHERE id = ?`), clipReason(reason), id)
	return wrap(err, "outbox fail")
}

// OutboxRowByID loads a row.
func (db *DB) OutboxRowByID(ctx context.Context, id int64) (OutboxRow, error) {
	var r OutboxRow
	err := db.X.GetContext(ctx, &r, db.X.Rebind(`SELECT * FROM outbox WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, wrap(err, "outbox row")
}

// OutboxBacklog counts rows not yet delivered and the age of the oldest.
func (db *DB) OutboxBacklog(ctx context.Context) (int, time.Duration, error) {
	var row struct {
		N      int           `db:"n"`
		Oldest sql.NullInt64 `db:"oldest"`
	}
	err := db.X.GetContext(ctx, &row, `SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE state IN ('pending', 'sending')`)
	if err != nil {
		return 0, 0, wrap(err, "outbox backlog")
	}
	age := time.Duration(0)
	if row.Oldest.Valid {
		age = db.now().Sub(time.UnixMilli(row.Oldest.Int64))
	}
	return row.N, age, nil
}

func clipReason(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
}

// Prune deletes inbox rows and delivered messages older than keep, and undelivered ones
// (kept so their reader can still ask to see them) older than keepFailed. They hold
// names and public text, not private fields, but nothing is kept longer than it serves.
func (db *DB) Prune(ctx context.Context, keep, keepFailed time.Duration) (inbox, outbox int64, err error) {
	now := db.now()
	res, err := db.X.ExecContext(ctx, db.X.Rebind(`DELETE FROM inbox WHERE received_at < ?`), now.Add(-keep).UnixMilli())
	if err != nil {
		return 0, 0, wrap(err, "prune inbox")
	}
	inbox, _ = res.RowsAffected()
	res, err = db.X.ExecContext(ctx, db.X.Rebind(`DELETE FROM outbox WHERE (state = 'sent' AND created_at < ?) OR (state = 'failed' AND created_at < ?)`),
		now.Add(-keep).UnixMilli(), now.Add(-keepFailed).UnixMilli())
	if err != nil {
		return inbox, 0, wrap(err, "prune outbox")
	}
	outbox, _ = res.RowsAffected()
	return inbox, outbox, nil
}
