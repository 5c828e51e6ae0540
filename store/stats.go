package store

import (
	"context"
	"strconv"
	"strings"
)

// The raw rows behind a community's impact figures. Months are bucketed by the caller,
// in the community's time zone, from these Unix times: SQLite and PostgreSQL have no
// date function in common.

// StatRequest is a request as the figures count it.
type StatRequest struct {
	ID          int64  `db:"id"`
	RequesterID int64  `db:"requester_id"`
	Category    string `db:"category"`
	Status      string `db:"status"`
	CreatedAt   int64  `db:"created_at"`
}

// StatClaim is a claim on a request's place, with its request.
type StatClaim struct {
	ID          int64  `db:"id"`
	MemberID    int64  `db:"member_id"`
	State       string `db:"state"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
	RequestID   int64  `db:"request_id"`
	Category    string `db:"category"`
	RequesterID int64  `db:"requester_id"`
}

// StatOffer is an offer as the figures count it.
type StatOffer struct {
	Category  string `db:"category"`
	CreatedAt int64  `db:"created_at"`
}

// StatFollowUp is a follow-up sent about a request.
type StatFollowUp struct {
	RequestID int64
	CreatedAt int64
}

// StatRows are all of a community's rows the figures are computed from.
type StatRows struct {
	Requests  []StatRequest
	Claims    []StatClaim
	Offers    []StatOffer
	FollowUps []StatFollowUp
}

// ImpactRows loads the rows behind the figures: every request, every claim on a
// request, every offer, and every follow-up sent. Claims are ordered by time, so the
// first claim of a request comes first; the caller keeps the months it reports.
func (tx *Tx) ImpactRows(ctx context.Context, community int64) (StatRows, error) {
	var out StatRows
	if err := tx.sel(ctx, &out.Requests, `SELECT id, requester_id, category, status, created_at FROM requests
		WHERE community_id = ? ORDER BY id`, community); err != nil {
		return out, wrap(err, "stat requests")
	}
	if err := tx.sel(ctx, &out.Claims, `SELECT c.id, c.member_id, c.state, c.created_at, c.updated_at, r.id AS request_id,
		r.category, r.requester_id FROM claims c JOIN slots s ON s.id = c.slot_id JOIN requests r ON r.id = s.request_id
		WHERE r.community_id = ? ORDER BY c.created_at, c.id`, community); err != nil {
		return out, wrap(err, "stat claims")
	}
	if err := tx.sel(ctx, &out.Offers, `SELECT category, created_at FROM offers WHERE community_id = ? ORDER BY id`, community); err != nil {
		return out, wrap(err, "stat offers")
	}
	// A follow-up leaves an audit row naming its request ("request:<id>"); the answers
	// themselves are not stored.
	var rows []struct {
		Subject   string `db:"subject"`
		CreatedAt int64  `db:"created_at"`
	}
	if err := tx.sel(ctx, &rows, `SELECT subject, created_at FROM audit_log WHERE community_id = ? AND action = ? ORDER BY id`,
		community, "request.followed_up"); err != nil {
		return out, wrap(err, "stat follow-ups")
	}
	for _, r := range rows {
		id, err := strconv.ParseInt(strings.TrimPrefix(r.Subject, "request:"), 10, 64)
		if err == nil {
			out.FollowUps = append(out.FollowUps, StatFollowUp{RequestID: id, CreatedAt: r.CreatedAt})
		}
	}
	return out, nil
}
