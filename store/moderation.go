package store

import (
	"context"
	"fmt"
)

// Queries of the moderation flows: flags and worries, the queue, hiding, and reading the
// audit trail.

// OpenCaseBy finds a case a reporter raised about a subject that is still open
// (acknowledged and referred count as open), so a second flag does not open another.
// ErrNotFound when there is none.
func (tx *Tx) OpenCaseBy(ctx context.Context, community, reporter int64, source, kind string, subject int64) (Escalation, error) {
	var e Escalation
	err := tx.get(ctx, &e, `SELECT * FROM escalations WHERE community_id = ? AND reporter_id = ? AND source = ?
		AND subject_kind = ? AND subject_id = ? AND status IN ('open', 'acknowledged', 'referred') ORDER BY id DESC LIMIT 1`,
		community, reporter, source, kind, subject)
	return e, wrap(err, "open case by reporter")
}

// OpenCaseCount counts a community's cases that are not resolved.
func (tx *Tx) OpenCaseCount(ctx context.Context, community int64) (int, error) {
	var n int
	err := tx.get(ctx, &n, `SELECT COUNT(*) FROM escalations WHERE community_id = ? AND status IN ('open', 'acknowledged', 'referred')`, community)
	return n, wrap(err, "open cases")
}

// LatestCaseAbout finds the newest case about a member, resolved or not.
func (tx *Tx) LatestCaseAbout(ctx context.Context, community, member int64) (Escalation, error) {
	var e Escalation
	err := tx.get(ctx, &e, `SELECT * FROM escalations WHERE community_id = ? AND member_id = ? ORDER BY id DESC LIMIT 1`, community, member)
	return e, wrap(err, "latest case")
}

// HideRequest takes a request off the board; it reports whether it was visible.
func (tx *Tx) HideRequest(ctx context.Context, id int64) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE requests SET hidden = TRUE, updated_at = ? WHERE id = ? AND NOT hidden`, tx.Now(), id)
	return n == 1, wrap(err, "hide request")
}

// HideOffer takes an offer off the board; it reports whether it was visible.
func (tx *Tx) HideOffer(ctx context.Context, id int64) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE offers SET hidden = TRUE, updated_at = ? WHERE id = ? AND NOT hidden`, tx.Now(), id)
	return n == 1, wrap(err, "hide offer")
}

// AuditFilter narrows a look at the audit trail. Zero values mean no bound; Limit 0
// means every row.
type AuditFilter struct {
	// Member keeps rows where the member acted, was the subject, saw or was seen.
	Member int64
	// Since and Until bound created_at, in Unix seconds, both inclusive.
	Since, Until int64
	Limit        int
}

// where adds the filter to q: memberCond with memberArgs when a member is named, then
// the time bounds on created_at.
func (f AuditFilter) where(q string, args []any, memberCond string, memberArgs ...any) (string, []any) {
	if f.Member != 0 {
		q += " AND " + memberCond
		args = append(args, memberArgs...)
	}
	if f.Since != 0 {
		q += " AND created_at >= ?"
		args = append(args, f.Since)
	}
	if f.Until != 0 {
		q += " AND created_at <= ?"
		args = append(args, f.Until)
	}
	return q, args
}

// AuditEntries lists a community's audit log newest first, filtered, with how many
// rows match in all. A member matches as the actor or as the subject "member:<id>".
func (tx *Tx) AuditEntries(ctx context.Context, community int64, f AuditFilter) ([]AuditEntry, int, error) {
	// The subject names a member as text.
	where, args := f.where(`FROM audit_log WHERE community_id = ?`, []any{community},
		`(actor_member_id = ? OR subject = ?)`, f.Member, fmt.Sprintf("member:%d", f.Member))
	var total int
	if err := tx.get(ctx, &total, `SELECT COUNT(*) `+where, args...); err != nil {
		return nil, 0, wrap(err, "audit count")
	}
	q := `SELECT * ` + where + ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var es []AuditEntry
	err := tx.sel(ctx, &es, q, args...)
	return es, total, wrap(err, "audit entries")
}

// CommunityDisclosures lists a community's disclosures newest first, filtered, with how
// many match in all. A member matches as the one whose data was seen or as the viewer.
func (tx *Tx) CommunityDisclosures(ctx context.Context, community int64, f AuditFilter) ([]Disclosure, int, error) {
	where, args := f.where(`FROM disclosures WHERE community_id = ?`, []any{community},
		`(subject_member_id = ? OR viewer_member_id = ?)`, f.Member, f.Member)
	var total int
	if err := tx.get(ctx, &total, `SELECT COUNT(*) `+where, args...); err != nil {
		return nil, 0, wrap(err, "disclosure count")
	}
	q := `SELECT * ` + where + ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var ds []Disclosure
	err := tx.sel(ctx, &ds, q, args...)
	return ds, total, wrap(err, "disclosures")
}
