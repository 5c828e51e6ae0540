package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Slot is the claimable unit of a request or an offer.
type Slot struct {
	ID        int64         `db:"id"`
	RequestID sql.NullInt64 `db:"request_id"`
	OfferID   sql.NullInt64 `db:"offer_id"`
	StartsAt  int64         `db:"starts_at"`
	EndsAt    int64         `db:"ends_at"`
	Capacity  int           `db:"capacity"`
	Taken     int           `db:"taken"`
}

// Claim is a person on a slot: a volunteer on a request's slot, a member on an offer's.
type Claim struct {
	ID           int64          `db:"id"`
	SlotID       int64          `db:"slot_id"`
	MemberID     int64          `db:"member_id"`
	State        string         `db:"state"`
	PrivateCT    []byte         `db:"private_ct"`
	PrivateKeyID sql.NullString `db:"private_key_id"`
	CreatedAt    int64          `db:"created_at"`
	UpdatedAt    int64          `db:"updated_at"`
	// A visit's sealed code word and what its helper reported (store/visits.go).
	CodeCT    []byte         `db:"code_ct"`
	CodeKeyID sql.NullString `db:"code_key_id"`
	ArrivedAt sql.NullInt64  `db:"arrived_at"`
	CheckedAt sql.NullInt64  `db:"checked_at"`
	AlertedAt sql.NullInt64  `db:"alerted_at"`
}

// Claim states.
const (
	ClaimOffered   = "offered"
	ClaimAccepted  = "accepted"
	ClaimDone      = "done"
	ClaimDeclined  = "declined"
	ClaimWithdrawn = "withdrawn"
	ClaimCancelled = "cancelled"
)

// LiveStates are the claim states that hold a place on a slot.
var LiveStates = []string{ClaimOffered, ClaimAccepted, ClaimDone}

// Errors the claim flow turns into kind messages.
var (
	ErrSlotFull       = errors.New("store: the slot is already taken")
	ErrAlreadyClaimed = errors.New("store: this person already holds this slot")
)

// Slot loads a slot.
func (tx *Tx) Slot(ctx context.Context, id int64) (Slot, error) {
	var s Slot
	err := tx.get(ctx, &s, `SELECT * FROM slots WHERE id = ?`, id)
	return s, wrap(err, "slot")
}

// SlotsOfRequest lists a request's slots in time order.
func (tx *Tx) SlotsOfRequest(ctx context.Context, request int64) ([]Slot, error) {
	var ss []Slot
	err := tx.sel(ctx, &ss, `SELECT * FROM slots WHERE request_id = ? ORDER BY starts_at, id`, request)
	return ss, wrap(err, "slots")
}

// SlotOfOffer returns an offer's slot.
func (tx *Tx) SlotOfOffer(ctx context.Context, offer int64) (Slot, error) {
	var s Slot
	err := tx.get(ctx, &s, `SELECT * FROM slots WHERE offer_id = ? ORDER BY id LIMIT 1`, offer)
	return s, wrap(err, "offer slot")
}

// TakeSlot claims a place on a slot for member. The place is taken by one conditional
// UPDATE, so the database, not the application, keeps the count within capacity; the
// partial unique index keeps a person from holding the same slot twice.
func (tx *Tx) TakeSlot(ctx context.Context, slot, member int64, private Private) (int64, error) {
	n, err := tx.exec(ctx, `UPDATE slots SET taken = taken + 1 WHERE id = ? AND taken < capacity
		AND NOT EXISTS (SELECT 1 FROM claims WHERE slot_id = ? AND member_id = ? AND state IN ('offered', 'accepted', 'done'))`,
		slot, slot, member)
	if err != nil {
		return 0, wrap(err, "take slot")
	}
	if n == 0 {
		// Only the refusal needs to know which refusal it is.
		var held int
		if err := tx.get(ctx, &held, `SELECT COUNT(*) FROM claims WHERE slot_id = ? AND member_id = ? AND state IN ('offered', 'accepted', 'done')`,
			slot, member); err != nil {
			return 0, wrap(err, "claim check")
		}
		if held > 0 {
			return 0, ErrAlreadyClaimed
		}
		return 0, ErrSlotFull
	}
	now := tx.Now()
	id, err := tx.insert(ctx, `INSERT INTO claims (slot_id, member_id, state, created_at, updated_at) VALUES (?, ?, 'offered', ?, ?)`,
		slot, member, now, now)
	if err != nil {
		if isUniqueViolation(err) {
			return 0, ErrAlreadyClaimed
		}
		return 0, wrap(err, "create claim")
	}
	ct, kid, err := tx.sealPrivate(private, claimContext(id))
	if err != nil {
		return 0, fmt.Errorf("store: seal claim: %w", err)
	}
	if ct != nil {
		if _, err := tx.exec(ctx, `UPDATE claims SET private_ct = ?, private_key_id = ? WHERE id = ?`, ct, kid, id); err != nil {
			return 0, wrap(err, "claim private part")
		}
	}
	return id, nil
}

// MoveClaim changes a claim's state if it is in one of from, giving its place on the slot
// back when the new state is not live. It reports whether the claim moved.
func (tx *Tx) MoveClaim(ctx context.Context, id int64, to string, from ...string) (bool, error) {
	c, err := tx.Claim(ctx, id)
	if err != nil {
		return false, err
	}
	if !contains(from, c.State) {
		return false, nil
	}
	if !isLive(c.State) && isLive(to) {
		// Coming back to life would need a place; flows never do it, so refuse.
		return false, fmt.Errorf("store: claim %d cannot move from %s to %s", id, c.State, to)
	}
	// The state read above is checked again in the UPDATE, so two concurrent moves cannot
	// both release the same place.
	n, err := tx.exec(ctx, `UPDATE claims SET state = ?, updated_at = ? WHERE id = ? AND state = ?`, to, tx.Now(), id, c.State)
	if err != nil {
		return false, wrap(err, "move claim")
	}
	if n == 0 {
		return false, nil
	}
	if isLive(c.State) && !isLive(to) {
		if _, err := tx.exec(ctx, `UPDATE slots SET taken = taken - 1 WHERE id = ? AND taken > 0`, c.SlotID); err != nil {
			return false, wrap(err, "release slot")
		}
	}
	return true, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func isLive(state string) bool {
	for _, s := range LiveStates {
		if s == state {
			return true
		}
	}
	return false
}

// Claim loads a claim.
func (tx *Tx) Claim(ctx context.Context, id int64) (Claim, error) {
	var c Claim
	err := tx.get(ctx, &c, `SELECT * FROM claims WHERE id = ?`, id)
	return c, wrap(err, "claim")
}

// ClaimPrivate decrypts what a member shared when joining an offer.
func (tx *Tx) ClaimPrivate(c Claim) (Private, error) {
	return tx.db.openPrivate(c.PrivateCT, c.PrivateKeyID, claimContext(c.ID))
}

// LiveClaimsOnSlot lists the live claims on a slot.
func (tx *Tx) LiveClaimsOnSlot(ctx context.Context, slot int64) ([]Claim, error) {
	var cs []Claim
	err := tx.sel(ctx, &cs, `SELECT * FROM claims WHERE slot_id = ? AND state IN ('offered', 'accepted', 'done') ORDER BY id`, slot)
	return cs, wrap(err, "claims")
}

// LiveClaimsOnRequest lists the live claims on every slot of a request.
func (tx *Tx) LiveClaimsOnRequest(ctx context.Context, request int64) ([]Claim, error) {
	var cs []Claim
	err := tx.sel(ctx, &cs, `SELECT c.* FROM claims c JOIN slots s ON s.id = c.slot_id
		WHERE s.request_id = ? AND c.state IN ('offered', 'accepted', 'done') ORDER BY c.id`, request)
	return cs, wrap(err, "claims")
}

// ClaimsBy lists a member's live claims.
func (tx *Tx) ClaimsBy(ctx context.Context, member int64) ([]Claim, error) {
	var cs []Claim
	err := tx.sel(ctx, &cs, `SELECT * FROM claims WHERE member_id = ? AND state IN ('offered', 'accepted') ORDER BY id`, member)
	return cs, wrap(err, "claims")
}

func isUniqueViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint") || strings.Contains(s, "23505") ||
		strings.Contains(s, "duplicate key")
}
