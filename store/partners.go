package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// Partner route kinds.
const (
	RouteChannel = "channel"
	RouteWebhook = "webhook"
)

// Partner is a professional organisation in a community's directory.
type Partner struct {
	ID             int64          `db:"id"`
	CommunityID    int64          `db:"community_id"`
	Name           string         `db:"name"`
	Kind           string         `db:"kind"`
	Languages      string         `db:"languages"`
	Hours          string         `db:"hours"`
	RouteKind      string         `db:"route_kind"`
	RoutePlatform  string         `db:"route_platform"`
	RouteWorkspace string         `db:"route_workspace"`
	RouteChannel   string         `db:"route_channel"`
	WebhookURL     string         `db:"webhook_url"`
	SecretCT       []byte         `db:"webhook_secret_ct"`
	SecretKeyID    sql.NullString `db:"webhook_secret_key_id"`
	Active         bool           `db:"active"`
	CreatedAt      int64          `db:"created_at"`
	UpdatedAt      int64          `db:"updated_at"`
}

func secretContext(id int64) string { return "partners.webhook_secret:" + strconv.FormatInt(id, 10) }

// SavePartner adds a partner, or updates the one of that name; a webhook's signing
// secret is sealed (an empty secret keeps the one stored).
func (tx *Tx) SavePartner(ctx context.Context, p Partner, secret string) (int64, error) {
	now := tx.Now()
	var id int64
	err := tx.get(ctx, &id, `SELECT id FROM partners WHERE community_id = ? AND name = ?`, p.CommunityID, p.Name)
	switch {
	case err == ErrNotFound:
		id, err = tx.insert(ctx, `INSERT INTO partners (community_id, name, kind, languages, hours, route_kind, route_platform, route_workspace,
			route_channel, webhook_url, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.CommunityID, p.Name, p.Kind, p.Languages, p.Hours, p.RouteKind, p.RoutePlatform, p.RouteWorkspace, p.RouteChannel,
			p.WebhookURL, true, now, now)
	case err == nil:
		_, err = tx.exec(ctx, `UPDATE partners SET kind = ?, languages = ?, hours = ?, route_kind = ?, route_platform = ?, route_workspace = ?,
			route_channel = ?, webhook_url = ?, active = ?, updated_at = ? WHERE id = ?`,
			p.Kind, p.Languages, p.Hours, p.RouteKind, p.RoutePlatform, p.RouteWorkspace, p.RouteChannel, p.WebhookURL, true, now, id)
	}
	if err != nil {
		return 0, wrap(err, "save partner")
	}
	if secret != "" {
		ct, kid, err := tx.db.Keys.Seal([]byte(secret), secretContext(id))
		if err != nil {
			return 0, fmt.Errorf("store: seal webhook secret: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE partners SET webhook_secret_ct = ?, webhook_secret_key_id = ? WHERE id = ?`, ct, kid, id); err != nil {
			return 0, wrap(err, "save partner")
		}
	}
	return id, nil
}

// Partner loads a partner.
func (tx *Tx) Partner(ctx context.Context, id int64) (Partner, error) {
	var p Partner
	err := tx.get(ctx, &p, `SELECT * FROM partners WHERE id = ?`, id)
	return p, wrap(err, "partner")
}

// Partners lists a community's partners by name, active ones only unless all.
func (tx *Tx) Partners(ctx context.Context, community int64, all bool) ([]Partner, error) {
	q := `SELECT * FROM partners WHERE community_id = ?`
	if !all {
		q += ` AND active = ?`
	}
	q += ` ORDER BY name`
	args := []any{community}
	if !all {
		args = append(args, true)
	}
	var ps []Partner
	err := tx.sel(ctx, &ps, q, args...)
	return ps, wrap(err, "partners")
}

// RetirePartner takes a partner out of the directory; past referrals keep pointing to it.
func (tx *Tx) RetirePartner(ctx context.Context, community int64, name string) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE partners SET active = ?, updated_at = ? WHERE community_id = ? AND name = ? AND active = ?`, false, tx.Now(), community, name, true)
	return n > 0, wrap(err, "retire partner")
}

// PartnerSecret is a webhook partner's signing secret, decrypted.
func (tx *Tx) PartnerSecret(ctx context.Context, id int64) ([]byte, error) {
	p, err := tx.Partner(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(p.SecretCT) == 0 || !p.SecretKeyID.Valid {
		return nil, fmt.Errorf("store: partner %d has no webhook secret: %w", id, ErrNotFound)
	}
	plain, err := tx.db.Keys.Open(p.SecretCT, p.SecretKeyID.String, secretContext(id))
	if err != nil {
		return nil, fmt.Errorf("store: open webhook secret: %w", err)
	}
	return plain, nil
}

// Referral states.
const (
	ReferralAsked        = "asked"
	ReferralSent         = "sent"
	ReferralAcknowledged = "acknowledged"
	ReferralDeclined     = "declined"
)

// Referral is a case referred to a partner.
type Referral struct {
	ID             int64          `db:"id"`
	EscalationID   int64          `db:"escalation_id"`
	PartnerID      int64          `db:"partner_id"`
	MemberID       sql.NullInt64  `db:"member_id"`
	Basis          string         `db:"basis"`
	ConsentID      sql.NullInt64  `db:"consent_id"`
	ReasonCT       []byte         `db:"reason_ct"`
	ReasonKeyID    sql.NullString `db:"reason_key_id"`
	Fields         string         `db:"fields"`
	ReferredBy     int64          `db:"referred_by"`
	State          string         `db:"state"`
	AcknowledgedAt sql.NullInt64  `db:"acknowledged_at"`
	CreatedAt      int64          `db:"created_at"`
	UpdatedAt      int64          `db:"updated_at"`
}

func reasonContext(caseID int64) string { return "referrals.reason:" + strconv.FormatInt(caseID, 10) }

// AddReferral records a referral; an emergency's written reason is sealed.
func (tx *Tx) AddReferral(ctx context.Context, r Referral, reason string) (int64, error) {
	now := tx.Now()
	var ct []byte
	var kid sql.NullString
	if reason != "" {
		c, k, err := tx.db.Keys.Seal([]byte(reason), reasonContext(r.EscalationID))
		if err != nil {
			return 0, fmt.Errorf("store: seal referral reason: %w", err)
		}
		ct, kid = c, sql.NullString{String: k, Valid: true}
	}
	id, err := tx.insert(ctx, `INSERT INTO referrals (escalation_id, partner_id, member_id, basis, consent_id, reason_ct, reason_key_id, fields,
		referred_by, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.EscalationID, r.PartnerID, r.MemberID, r.Basis, r.ConsentID, ct, kid, r.Fields, r.ReferredBy, r.State, now, now)
	return id, wrap(err, "add referral")
}

// Referral loads a referral.
func (tx *Tx) Referral(ctx context.Context, id int64) (Referral, error) {
	var r Referral
	err := tx.get(ctx, &r, `SELECT * FROM referrals WHERE id = ?`, id)
	return r, wrap(err, "referral")
}

// Referrals lists a case's referrals, oldest first.
func (tx *Tx) Referrals(ctx context.Context, caseID int64) ([]Referral, error) {
	var rs []Referral
	err := tx.sel(ctx, &rs, `SELECT * FROM referrals WHERE escalation_id = ? ORDER BY id`, caseID)
	return rs, wrap(err, "referrals")
}

// ReferralReason is an emergency referral's written reason, decrypted.
func (tx *Tx) ReferralReason(r Referral) (string, error) {
	if len(r.ReasonCT) == 0 || !r.ReasonKeyID.Valid {
		return "", nil
	}
	plain, err := tx.db.Keys.Open(r.ReasonCT, r.ReasonKeyID.String, reasonContext(r.EscalationID))
	if err != nil {
		return "", fmt.Errorf("store: open referral reason: %w", err)
	}
	return string(plain), nil
}

// MoveReferral changes a referral's state from one to another; ok is false when it was
// not in from (a second press changes nothing).
func (tx *Tx) MoveReferral(ctx context.Context, id int64, from, to string) (bool, error) {
	now := tx.Now()
	q := `UPDATE referrals SET state = ?, updated_at = ? WHERE id = ? AND state = ?`
	args := []any{to, now, id, from}
	if to == ReferralAcknowledged {
		q = `UPDATE referrals SET state = ?, acknowledged_at = ?, updated_at = ? WHERE id = ? AND state = ?`
		args = []any{to, now, now, id, from}
	}
	n, err := tx.exec(ctx, q, args...)
	return n == 1, wrap(err, "move referral")
}

// SetReferralConsent records the consent a referral goes out under.
func (tx *Tx) SetReferralConsent(ctx context.Context, id, consent int64) error {
	_, err := tx.exec(ctx, `UPDATE referrals SET consent_id = ?, updated_at = ? WHERE id = ?`, consent, tx.Now(), id)
	return wrap(err, "referral consent")
}
