package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// Escalation statuses.
const (
	CaseOpen         = "open"
	CaseAcknowledged = "acknowledged"
	CaseReferred     = "referred"
	CaseResolved     = "resolved"
)

// Escalation is a case for moderators: a crisis signal, a flag, a worry. It never holds
// the words that raised it.
type Escalation struct {
	ID             int64          `db:"id"`
	CommunityID    int64          `db:"community_id"`
	Source         string         `db:"source"`
	Severity       string         `db:"severity"`
	Status         string         `db:"status"`
	MemberID       sql.NullInt64  `db:"member_id"`
	Platform       string         `db:"platform"`
	PlatformUserID string         `db:"platform_user_id"`
	SeenIn         string         `db:"seen_in"`
	ReporterID     sql.NullInt64  `db:"reporter_id"`
	SubjectKind    string         `db:"subject_kind"`
	SubjectID      sql.NullInt64  `db:"subject_id"`
	Reason         string         `db:"reason"`
	HeldForm       string         `db:"held_form"`
	HeldCT         []byte         `db:"held_ct"`
	HeldKeyID      sql.NullString `db:"held_key_id"`
	Alerts         int            `db:"alerts"`
	AcknowledgedBy sql.NullInt64  `db:"acknowledged_by"`
	AcknowledgedAt sql.NullInt64  `db:"acknowledged_at"`
	ResolvedBy     sql.NullInt64  `db:"resolved_by"`
	ResolvedAt     sql.NullInt64  `db:"resolved_at"`
	CreatedAt      int64          `db:"created_at"`
	UpdatedAt      int64          `db:"updated_at"`
}

// Held reports whether the case holds a request or offer the person has not yet chosen
// to post.
func (e Escalation) Held() bool { return e.HeldForm != "" && len(e.HeldCT) > 0 }

func heldContext(id int64) string { return "escalations.held:" + strconv.FormatInt(id, 10) }

// OpenEscalation records a case; held, when not nil, is the sealed answers of a form
// (heldForm names it) kept until the person chooses.
func (tx *Tx) OpenEscalation(ctx context.Context, e Escalation, held []byte) (int64, error) {
	now := tx.Now()
	id, err := tx.insert(ctx, `INSERT INTO escalations (community_id, source, severity, status, member_id, platform, platform_user_id,
		seen_in, reporter_id, subject_kind, subject_id, reason, created_at, updated_at)
		VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.CommunityID, e.Source, e.Severity, e.MemberID, e.Platform, e.PlatformUserID, e.SeenIn, e.ReporterID,
		e.SubjectKind, e.SubjectID, e.Reason, now, now)
	if err != nil {
		return 0, wrap(err, "open case")
	}
	if held != nil {
		if err := tx.Hold(ctx, id, e.HeldForm, held); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// Hold seals a form's answers on a case.
func (tx *Tx) Hold(ctx context.Context, id int64, form string, answers []byte) error {
	ct, kid, err := tx.db.Keys.Seal(answers, heldContext(id))
	if err != nil {
		return fmt.Errorf("store: seal held form: %w", err)
	}
	_, err = tx.exec(ctx, `UPDATE escalations SET held_form = ?, held_ct = ?, held_key_id = ?, updated_at = ? WHERE id = ?`, form, ct, kid, tx.Now(), id)
	return wrap(err, "hold form")
}

// Release takes a case's held form out, once: the second caller gets ok false.
func (tx *Tx) Release(ctx context.Context, id int64) (form string, answers []byte, ok bool, err error) {
	e, err := tx.Escalation(ctx, id)
	if err != nil {
		return "", nil, false, err
	}
	if !e.Held() || !e.HeldKeyID.Valid {
		return "", nil, false, nil
	}
	n, err := tx.exec(ctx, `UPDATE escalations SET held_form = '', held_ct = NULL, held_key_id = NULL, updated_at = ? WHERE id = ? AND held_form <> ''`, tx.Now(), id)
	if err != nil || n == 0 {
		return "", nil, false, wrap(err, "release held form")
	}
	plain, err := tx.db.Keys.Open(e.HeldCT, e.HeldKeyID.String, heldContext(id))
	if err != nil {
		return "", nil, false, fmt.Errorf("store: open held form: %w", err)
	}
	return e.HeldForm, plain, true, nil
}

// Escalation loads a case.
func (tx *Tx) Escalation(ctx context.Context, id int64) (Escalation, error) {
	var e Escalation
	err := tx.get(ctx, &e, `SELECT * FROM escalations WHERE id = ?`, id)
	return e, wrap(err, "case")
}

// Escalations lists a community's cases, newest first: open ones only, or all.
func (tx *Tx) Escalations(ctx context.Context, community int64, openOnly bool, limit int) ([]Escalation, error) {
	q := `SELECT * FROM escalations WHERE community_id = ?`
	if openOnly {
		q += ` AND status IN ('open', 'acknowledged', 'referred')`
	}
	q += ` ORDER BY id DESC LIMIT ?`
	var es []Escalation
	err := tx.sel(ctx, &es, q, community, limit)
	return es, wrap(err, "cases")
}

// Acknowledge moves an open case to acknowledged and records who did it; ok is false
// when it was acknowledged already (the first moderator wins).
func (tx *Tx) Acknowledge(ctx context.Context, id, by int64) (bool, error) {
	now := tx.Now()
	n, err := tx.exec(ctx, `UPDATE escalations SET status = 'acknowledged', acknowledged_by = ?, acknowledged_at = ?, updated_at = ?
		WHERE id = ? AND status = 'open'`, by, now, now, id)
	return n == 1, wrap(err, "acknowledge case")
}

// SetCaseStatus moves a case to status; resolving records who and when. ok is false when
// the case was already resolved.
func (tx *Tx) SetCaseStatus(ctx context.Context, id, by int64, status string) (bool, error) {
	now := tx.Now()
	q := `UPDATE escalations SET status = ?, updated_at = ? WHERE id = ? AND status <> 'resolved'`
	args := []any{status, now, id}
	if status == CaseResolved {
		q = `UPDATE escalations SET status = 'resolved', resolved_by = ?, resolved_at = ?, updated_at = ? WHERE id = ? AND status <> 'resolved'`
		args = []any{nullID(by), now, now, id}
	}
	n, err := tx.exec(ctx, q, args...)
	return n == 1, wrap(err, "case status")
}

// Realert counts one more alert of a case that is still open; ok is false once someone
// acknowledged it (or it was resolved), which stops the alerts.
func (tx *Tx) Realert(ctx context.Context, id int64) (alerts int, ok bool, err error) {
	n, err := tx.exec(ctx, `UPDATE escalations SET alerts = alerts + 1, updated_at = ? WHERE id = ? AND status = 'open'`, tx.Now(), id)
	if err != nil || n == 0 {
		return 0, false, wrap(err, "re-alert case")
	}
	err = tx.get(ctx, &alerts, `SELECT alerts FROM escalations WHERE id = ?`, id)
	return alerts, err == nil, wrap(err, "re-alert case")
}

// CaseEvent is one entry of a case's timeline, its note decrypted.
type CaseEvent struct {
	ID        int64
	ActorID   int64
	Action    string
	Note      string
	CreatedAt int64
}

func noteContext(caseID int64) string {
	return "escalation_events.note:" + strconv.FormatInt(caseID, 10)
}

// AddCaseEvent appends to a case's timeline; the note is sealed.
func (tx *Tx) AddCaseEvent(ctx context.Context, caseID, actor int64, action, note string) error {
	var ct []byte
	var kid sql.NullString
	if note != "" {
		c, k, err := tx.db.Keys.Seal([]byte(note), noteContext(caseID))
		if err != nil {
			return fmt.Errorf("store: seal case note: %w", err)
		}
		ct, kid = c, sql.NullString{String: k, Valid: true}
	}
	_, err := tx.exec(ctx, `INSERT INTO escalation_events (escalation_id, actor_id, action, note_ct, note_key_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		caseID, nullID(actor), action, ct, kid, tx.Now())
	return wrap(err, "case event")
}

// CaseEvents is a case's timeline, oldest first, with notes decrypted.
func (tx *Tx) CaseEvents(ctx context.Context, caseID int64) ([]CaseEvent, error) {
	var rows []struct {
		ID        int64          `db:"id"`
		Actor     sql.NullInt64  `db:"actor_id"`
		Action    string         `db:"action"`
		NoteCT    []byte         `db:"note_ct"`
		NoteKeyID sql.NullString `db:"note_key_id"`
		CreatedAt int64          `db:"created_at"`
	}
	if err := tx.sel(ctx, &rows, `SELECT id, actor_id, action, note_ct, note_key_id, created_at FROM escalation_events WHERE escalation_id = ? ORDER BY id`, caseID); err != nil {
		return nil, wrap(err, "case events")
	}
	out := make([]CaseEvent, 0, len(rows))
	for _, r := range rows {
		ev := CaseEvent{ID: r.ID, ActorID: r.Actor.Int64, Action: r.Action, CreatedAt: r.CreatedAt}
		if len(r.NoteCT) > 0 && r.NoteKeyID.Valid {
			plain, err := tx.db.Keys.Open(r.NoteCT, r.NoteKeyID.String, noteContext(caseID))
			if err != nil {
				return nil, fmt.Errorf("store: open case note: %w", err)
			}
			ev.Note = string(plain)
		}
		out = append(out, ev)
	}
	return out, nil
}

// Suspend keeps a member from using the bot until until (0: until lifted).
func (tx *Tx) Suspend(ctx context.Context, member, by, until int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM suspensions WHERE member_id = ?`, member); err != nil {
		return wrap(err, "suspend")
	}
	_, err := tx.exec(ctx, `INSERT INTO suspensions (member_id, suspended_by, until_at, created_at) VALUES (?, ?, ?, ?)`,
		member, nullID(by), nullID(until), tx.Now())
	return wrap(err, "suspend")
}

// Unsuspend lifts a suspension; it reports whether there was one.
func (tx *Tx) Unsuspend(ctx context.Context, member int64) (bool, error) {
	n, err := tx.exec(ctx, `DELETE FROM suspensions WHERE member_id = ?`, member)
	return n > 0, wrap(err, "unsuspend")
}

// Suspended reports whether a member is suspended from the bot now.
func (tx *Tx) Suspended(ctx context.Context, member int64) (bool, error) {
	var n int
	err := tx.get(ctx, &n, `SELECT COUNT(*) FROM suspensions WHERE member_id = ? AND (until_at IS NULL OR until_at > ?)`, member, tx.Now())
	return n > 0, wrap(err, "suspended")
}

// RecentSignal finds the person's open crisis-signal case opened since since (a unix
// time): by member, or by platform account for someone who has not joined.
func (tx *Tx) RecentSignal(ctx context.Context, e Escalation, since int64) (Escalation, error) {
	var c Escalation
	var err error
	if e.MemberID.Valid {
		err = tx.get(ctx, &c, `SELECT * FROM escalations WHERE community_id = ? AND source = 'detector' AND status <> 'resolved'
			AND member_id = ? AND created_at >= ? ORDER BY id DESC LIMIT 1`, e.CommunityID, e.MemberID.Int64, since)
	} else {
		err = tx.get(ctx, &c, `SELECT * FROM escalations WHERE community_id = ? AND source = 'detector' AND status <> 'resolved'
			AND member_id IS NULL AND platform = ? AND platform_user_id = ? AND created_at >= ? ORDER BY id DESC LIMIT 1`,
			e.CommunityID, e.Platform, e.PlatformUserID, since)
	}
	return c, wrap(err, "recent signal")
}

// RaiseSeverity sets a case's severity (a higher tier seen in the same conversation).
func (tx *Tx) RaiseSeverity(ctx context.Context, id int64, severity string) error {
	_, err := tx.exec(ctx, `UPDATE escalations SET severity = ?, updated_at = ? WHERE id = ?`, severity, tx.Now(), id)
	return wrap(err, "raise severity")
}

// Reopen opens a resolved case again (the person asked for help after closing it).
func (tx *Tx) Reopen(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, `UPDATE escalations SET status = 'open', resolved_by = NULL, resolved_at = NULL, updated_at = ? WHERE id = ?`, tx.Now(), id)
	return wrap(err, "reopen case")
}
