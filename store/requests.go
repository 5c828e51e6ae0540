package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
)

// Request is a need. Its public part is plain; its private part is sealed.
type Request struct {
	ID           int64          `db:"id"`
	CommunityID  int64          `db:"community_id"`
	RequesterID  int64          `db:"requester_id"`
	Category     string         `db:"category"`
	Summary      string         `db:"summary"`
	Area         string         `db:"area"`
	StartsAt     int64          `db:"starts_at"`
	EndsAt       int64          `db:"ends_at"`
	ShowName     bool           `db:"show_name"`
	MayShare     bool           `db:"may_share"`
	Status       string         `db:"status"`
	PrivateCT    []byte         `db:"private_ct"`
	PrivateKeyID sql.NullString `db:"private_key_id"`
	CreatedAt    int64          `db:"created_at"`
	UpdatedAt    int64          `db:"updated_at"`
	// Hidden is set by a moderator: the item stays but leaves the board.
	Hidden bool `db:"hidden"`
	// PausedAt is set while the request is paused because its requester left
	// (store/departures.go).
	PausedAt sql.NullInt64 `db:"paused_at"`
	// OriginPlatform and OriginWorkspace are the space it was asked in ("" before spaces
	// were remembered: every board shows it); Shared says its requester chose to show it
	// in the community's other spaces too (store.RequestSpaces).
	OriginPlatform  string `db:"origin_platform"`
	OriginWorkspace string `db:"origin_workspace"`
	Shared          bool   `db:"shared"`
	// CategoryEN and CategoryFR are the community's own names for the category, when it
	// gave some (read with requestColumns).
	CategoryEN string `db:"category_label_en"`
	CategoryFR string `db:"category_label_fr"`
}

// requestColumns and offerColumns read a request (r) or an offer (o) with its category's
// own labels, from a join on categories k (withLabels).
const (
	requestColumns = `r.*, COALESCE(k.label_en, '') AS category_label_en, COALESCE(k.label_fr, '') AS category_label_fr`
	offerColumns   = `o.*, COALESCE(k.label_en, '') AS category_label_en, COALESCE(k.label_fr, '') AS category_label_fr`
)

// withLabels joins the category of the row aliased as alias, for its labels.
func withLabels(alias string) string {
	return ` LEFT JOIN categories k ON k.community_id = ` + alias + `.community_id AND k.key = ` + alias + `.category`
}

// Private is the private part of a request or of a claim on an offer: exact address,
// phone, health and access notes, free text. It exists in clear only in memory.
type Private struct {
	Address string `json:"address,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Notes   string `json:"notes,omitempty"`
}

// Empty reports whether nothing private was given.
func (p Private) Empty() bool { return p.Address == "" && p.Phone == "" && p.Notes == "" }

// Fields names the private fields present, for disclosure rows.
func (p Private) Fields() string {
	var fs []string
	if p.Address != "" {
		fs = append(fs, "address")
	}
	if p.Phone != "" {
		fs = append(fs, "phone")
	}
	if p.Notes != "" {
		fs = append(fs, "notes")
	}
	return JoinList(fs)
}

func (tx *Tx) sealPrivate(p Private, context string) ([]byte, sql.NullString, error) {
	if p.Empty() {
		return nil, sql.NullString{}, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, sql.NullString{}, err
	}
	ct, kid, err := tx.db.Keys.Seal(b, context)
	if err != nil {
		return nil, sql.NullString{}, err
	}
	return ct, sql.NullString{String: kid, Valid: true}, nil
}

func (db *DB) openPrivate(ct []byte, kid sql.NullString, context string) (Private, error) {
	var p Private
	if len(ct) == 0 || !kid.Valid {
		return p, nil
	}
	b, err := db.Keys.Open(ct, kid.String, context)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("store: private part: %w", err)
	}
	return p, nil
}

// Sealing contexts bind ciphertext to the row it belongs to.
func requestContext(id int64) string { return "requests.private:" + strconv.FormatInt(id, 10) }
func claimContext(id int64) string   { return "claims.private:" + strconv.FormatInt(id, 10) }

// NewRequest is what the ask flow records.
type NewRequest struct {
	CommunityID int64
	RequesterID int64
	Category    string
	Summary     string
	Area        string
	StartsAt    int64
	EndsAt      int64
	ShowName    bool
	MayShare    bool
	Slots       int
	// Capacity is the places of each slot: the helpers one slot needs (default 1).
	Capacity int
	Private  Private
	// OriginPlatform and OriginWorkspace name the space it is asked in; Shared shows it in
	// the community's other spaces too.
	OriginPlatform, OriginWorkspace string
	Shared                          bool
}

// CreateRequest records a request with its sealed private part and its slots.
func (tx *Tx) CreateRequest(ctx context.Context, r NewRequest) (int64, error) {
	now := tx.Now()
	id, err := tx.insert(ctx, `INSERT INTO requests (community_id, requester_id, category, summary, area, starts_at, ends_at, show_name, may_share, status, created_at, updated_at,
		origin_platform, origin_workspace, shared)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
		r.CommunityID, r.RequesterID, r.Category, r.Summary, r.Area, r.StartsAt, r.EndsAt, r.ShowName, r.MayShare, now, now,
		r.OriginPlatform, r.OriginWorkspace, r.Shared)
	if err != nil {
		return 0, fmt.Errorf("store: create request: %w", err)
	}
	// The row id is part of the sealing context, so the private part is written second.
	ct, kid, err := tx.sealPrivate(r.Private, requestContext(id))
	if err != nil {
		return 0, fmt.Errorf("store: seal request: %w", err)
	}
	if ct != nil {
		if _, err := tx.exec(ctx, `UPDATE requests SET private_ct = ?, private_key_id = ? WHERE id = ?`, ct, kid, id); err != nil {
			return 0, fmt.Errorf("store: store private part: %w", err)
		}
	}
	slots := r.Slots
	if slots < 1 {
		slots = 1
	}
	for i := 0; i < slots; i++ {
		if _, err := tx.insert(ctx, `INSERT INTO slots (request_id, starts_at, ends_at, capacity, taken) VALUES (?, ?, ?, ?, 0)`,
			id, r.StartsAt, r.EndsAt, max(r.Capacity, 1)); err != nil {
			return 0, fmt.Errorf("store: create slot: %w", err)
		}
	}
	return id, nil
}

// Request loads a request.
func (tx *Tx) Request(ctx context.Context, id int64) (Request, error) {
	var r Request
	err := tx.get(ctx, &r, `SELECT `+requestColumns+` FROM requests r`+withLabels("r")+` WHERE r.id = ?`, id)
	return r, wrap(err, "request")
}

// RequestPrivate decrypts a request's private part.
func (tx *Tx) RequestPrivate(r Request) (Private, error) {
	return tx.db.openPrivate(r.PrivateCT, r.PrivateKeyID, requestContext(r.ID))
}

// SetRequestStatus moves a request from one of the given states to another. It reports
// whether the row changed, so a second press of the same button is recognised.
func (tx *Tx) SetRequestStatus(ctx context.Context, id int64, to string, from ...string) (bool, error) {
	q := `UPDATE requests SET status = ?, updated_at = ? WHERE id = ?`
	args := []any{to, tx.Now(), id}
	q, args = inStates(q, "status", args, from)
	n, err := tx.exec(ctx, q, args...)
	return n > 0, wrap(err, "request status")
}

// RequestsBy lists a member's requests that are still live.
func (tx *Tx) RequestsBy(ctx context.Context, member int64) ([]Request, error) {
	var rs []Request
	err := tx.sel(ctx, &rs, `SELECT `+requestColumns+` FROM requests r`+withLabels("r")+`
		WHERE r.requester_id = ? AND r.status IN ('open', 'matched') ORDER BY r.starts_at, r.id`, member)
	return rs, wrap(err, "requests")
}

// Offer is a volunteer's standing offer of help with a capacity.
type Offer struct {
	ID          int64  `db:"id"`
	CommunityID int64  `db:"community_id"`
	VolunteerID int64  `db:"volunteer_id"`
	Category    string `db:"category"`
	Summary     string `db:"summary"`
	Area        string `db:"area"`
	StartsAt    int64  `db:"starts_at"`
	EndsAt      int64  `db:"ends_at"`
	Status      string `db:"status"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
	// Hidden is set by a moderator: the item stays but leaves the board.
	Hidden bool `db:"hidden"`
	// CategoryEN and CategoryFR are the community's own names for the category.
	CategoryEN string `db:"category_label_en"`
	CategoryFR string `db:"category_label_fr"`
}

// CreateOffer records an offer and its one slot of the given capacity.
func (tx *Tx) CreateOffer(ctx context.Context, o Offer, capacity int) (int64, int64, error) {
	now := tx.Now()
	id, err := tx.insert(ctx, `INSERT INTO offers (community_id, volunteer_id, category, summary, area, starts_at, ends_at, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`, o.CommunityID, o.VolunteerID, o.Category, o.Summary, o.Area, o.StartsAt, o.EndsAt, now, now)
	if err != nil {
		return 0, 0, fmt.Errorf("store: create offer: %w", err)
	}
	slot, err := tx.insert(ctx, `INSERT INTO slots (offer_id, starts_at, ends_at, capacity, taken) VALUES (?, ?, ?, ?, 0)`,
		id, o.StartsAt, o.EndsAt, capacity)
	if err != nil {
		return 0, 0, fmt.Errorf("store: create offer slot: %w", err)
	}
	return id, slot, nil
}

// Offer loads an offer.
func (tx *Tx) Offer(ctx context.Context, id int64) (Offer, error) {
	var o Offer
	err := tx.get(ctx, &o, `SELECT `+offerColumns+` FROM offers o`+withLabels("o")+` WHERE o.id = ?`, id)
	return o, wrap(err, "offer")
}

// SetOfferStatus moves an offer between states, reporting whether it changed.
func (tx *Tx) SetOfferStatus(ctx context.Context, id int64, to string, from ...string) (bool, error) {
	q := `UPDATE offers SET status = ?, updated_at = ? WHERE id = ?`
	args := []any{to, tx.Now(), id}
	q, args = inStates(q, "status", args, from)
	n, err := tx.exec(ctx, q, args...)
	return n > 0, wrap(err, "offer status")
}

// OffersBy lists a volunteer's live offers.
func (tx *Tx) OffersBy(ctx context.Context, member int64) ([]Offer, error) {
	var os []Offer
	err := tx.sel(ctx, &os, `SELECT `+offerColumns+` FROM offers o`+withLabels("o")+`
		WHERE o.volunteer_id = ? AND o.status IN ('open', 'full') ORDER BY o.starts_at, o.id`, member)
	return os, wrap(err, "offers")
}

func inStates(q, col string, args []any, states []string) (string, []any) {
	if len(states) == 0 {
		return q, args
	}
	q += " AND " + col + " IN (?" + repeat(", ?", len(states)-1) + ")"
	for _, s := range states {
		args = append(args, s)
	}
	return q, args
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}
