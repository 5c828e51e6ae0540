package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Disclosure records one reveal of private data: who saw what, when, on what basis.
type Disclosure struct {
	ID              int64         `db:"id"`
	CommunityID     int64         `db:"community_id"`
	SubjectMemberID int64         `db:"subject_member_id"`
	ViewerMemberID  int64         `db:"viewer_member_id"`
	RequestID       sql.NullInt64 `db:"request_id"`
	ClaimID         sql.NullInt64 `db:"claim_id"`
	Fields          string        `db:"fields"`
	Basis           string        `db:"basis"`
	ConsentID       sql.NullInt64 `db:"consent_id"`
	CreatedAt       int64         `db:"created_at"`
}

// AddDisclosure writes a disclosure row and returns its id.
func (tx *Tx) AddDisclosure(ctx context.Context, d Disclosure) (int64, error) {
	id, err := tx.insert(ctx, `INSERT INTO disclosures (community_id, subject_member_id, viewer_member_id, request_id, claim_id, fields, basis, consent_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.CommunityID, d.SubjectMemberID, d.ViewerMemberID, d.RequestID, d.ClaimID,
		d.Fields, d.Basis, d.ConsentID, tx.Now())
	return id, wrap(err, "disclosure")
}

// Disclosure loads a disclosure row.
func (tx *Tx) Disclosure(ctx context.Context, id int64) (Disclosure, error) {
	var d Disclosure
	err := tx.get(ctx, &d, `SELECT * FROM disclosures WHERE id = ?`, id)
	return d, wrap(err, "disclosure")
}

// Disclosures lists the reveals of a member's private data.
func (tx *Tx) Disclosures(ctx context.Context, subject int64) ([]Disclosure, error) {
	var ds []Disclosure
	err := tx.sel(ctx, &ds, `SELECT * FROM disclosures WHERE subject_member_id = ? ORDER BY id`, subject)
	return ds, wrap(err, "disclosures")
}

// DisclosedPrivate returns the private details a disclosure row revealed, decrypted now,
// as the disclosure allowed: the request's private part, or what a member shared when
// joining an offer.
func (tx *Tx) DisclosedPrivate(ctx context.Context, id int64) (Private, error) {
	d, err := tx.Disclosure(ctx, id)
	if err != nil {
		return Private{}, err
	}
	if d.Basis == "consent" && d.ConsentID.Valid {
		// A consent withdrawn before the message is rendered means nothing is revealed.
		if live, err := tx.consentLive(ctx, d.ConsentID.Int64); err != nil || !live {
			return Private{}, err
		}
	}
	if d.RequestID.Valid {
		r, err := tx.Request(ctx, d.RequestID.Int64)
		if err != nil {
			return Private{}, err
		}
		return tx.RequestPrivate(r)
	}
	if d.ClaimID.Valid {
		c, err := tx.Claim(ctx, d.ClaimID.Int64)
		if err != nil {
			return Private{}, err
		}
		return tx.ClaimPrivate(c)
	}
	return Private{}, fmt.Errorf("store: disclosure %d names nothing to reveal", id)
}

// AuditEntry is one line of the audit log. Detail holds ids and states, never private text.
type AuditEntry struct {
	ID            int64         `db:"id"`
	CommunityID   int64         `db:"community_id"`
	ActorMemberID sql.NullInt64 `db:"actor_member_id"`
	Action        string        `db:"action"`
	Subject       string        `db:"subject"`
	Detail        string        `db:"detail"`
	CreatedAt     int64         `db:"created_at"`
}

// Audit appends to the audit log.
func (tx *Tx) Audit(ctx context.Context, community, actor int64, action, subject, detail string) error {
	_, err := tx.exec(ctx, `INSERT INTO audit_log (community_id, actor_member_id, action, subject, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		community, nullID(actor), action, subject, detail, tx.Now())
	return wrap(err, "audit")
}

// AuditLog lists a community's audit log, oldest first.
func (tx *Tx) AuditLog(ctx context.Context, community int64) ([]AuditEntry, error) {
	var es []AuditEntry
	err := tx.sel(ctx, &es, `SELECT * FROM audit_log WHERE community_id = ? ORDER BY id`, community)
	return es, wrap(err, "audit log")
}
