package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Member is one person in one community. Created only when they accept the notice.
type Member struct {
	ID            int64  `db:"id"`
	CommunityID   int64  `db:"community_id"`
	DisplayName   string `db:"display_name"`
	Locale        string `db:"locale"`
	NoticeVersion string `db:"notice_version"`
	AcceptedAt    int64  `db:"accepted_at"`
	CreatedAt     int64  `db:"created_at"`
	// A person asked for by someone else (store/people.go): who speaks for them, their
	// sealed name, and when their personal data was erased.
	ContactMemberID sql.NullInt64  `db:"contact_member_id"`
	PersonCT        []byte         `db:"person_ct"`
	PersonKeyID     sql.NullString `db:"person_key_id"`
	ErasedAt        sql.NullInt64  `db:"erased_at"`
}

// Identity maps a platform account to a member.
type Identity struct {
	CommunityID    int64  `db:"community_id"`
	Platform       string `db:"platform"`
	PlatformUserID string `db:"platform_user_id"`
	MemberID       int64  `db:"member_id"`
	CreatedAt      int64  `db:"created_at"`
	// LeftAt is when the account left its space (store/departures.go); null while there.
	LeftAt sql.NullInt64 `db:"left_at"`
}

// Evidence records how a consent was given.
type Evidence struct {
	NoticeVersion string `json:"notice_version,omitempty"`
	Surface       string `json:"surface"`
	EventID       string `json:"event_id,omitempty"`
	Action        string `json:"action,omitempty"`
}

// Consent is one purpose a member agreed to, possibly scoped to a request and a helper.
type Consent struct {
	ID             int64         `db:"id"`
	MemberID       int64         `db:"member_id"`
	Purpose        string        `db:"purpose"`
	ScopeRequestID sql.NullInt64 `db:"scope_request_id"`
	ScopeOfferID   sql.NullInt64 `db:"scope_offer_id"`
	ScopeMemberID  sql.NullInt64 `db:"scope_member_id"`
	GrantedAt      int64         `db:"granted_at"`
	WithdrawnAt    sql.NullInt64 `db:"withdrawn_at"`
	Evidence       string        `db:"evidence"`
}

// Consent purposes.
const (
	PurposeStoreProfile = "store_profile"
	PurposeShareDetails = "share_details_with_helper"
	PurposeFollowUp     = "follow_up"
	PurposePublicThanks = "public_thanks"
	// PurposeShareWithPartner lets a referral to one partner (Scope.Member holds the
	// partner id) carry the person's name and contact.
	PurposeShareWithPartner = "share_with_partner"
)

// MemberByIdentity resolves a platform account in a community.
func (tx *Tx) MemberByIdentity(ctx context.Context, community int64, platform, userID string) (Member, error) {
	var m Member
	err := tx.get(ctx, &m, `SELECT m.* FROM members m JOIN identities i ON i.member_id = m.id
		WHERE i.community_id = ? AND i.platform = ? AND i.platform_user_id = ?`, community, platform, userID)
	return m, wrap(err, "member")
}

// Member loads a member by id.
func (tx *Tx) Member(ctx context.Context, id int64) (Member, error) {
	return cached(tx, fmt.Sprint("member:", id), func() (Member, error) {
		var m Member
		err := tx.get(ctx, &m, `SELECT * FROM members WHERE id = ?`, id)
		return m, wrap(err, "member")
	})
}

// IdentitiesOf lists the platform accounts of a member.
func (tx *Tx) IdentitiesOf(ctx context.Context, member int64) ([]Identity, error) {
	return cached(tx, fmt.Sprint("identities:", member), func() ([]Identity, error) {
		var is []Identity
		err := tx.sel(ctx, &is, `SELECT * FROM identities WHERE member_id = ? ORDER BY platform, platform_user_id`, member)
		return is, wrap(err, "identities")
	})
}

// PreloadMembers reads many members and their identities in two queries and keeps them
// for the rest of the transaction, so addressing a message to each costs nothing more.
func (tx *Tx) PreloadMembers(ctx context.Context, ids []int64) error {
	var want []any
	for _, id := range ids {
		if _, ok := tx.cache[fmt.Sprint("identities:", id)]; !ok {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return nil
	}
	in := "(?" + repeat(", ?", len(want)-1) + ")"
	var ms []Member
	if err := tx.sel(ctx, &ms, `SELECT * FROM members WHERE id IN `+in, want...); err != nil {
		return wrap(err, "members")
	}
	var is []Identity
	if err := tx.sel(ctx, &is, `SELECT * FROM identities WHERE member_id IN `+in+` ORDER BY member_id, platform, platform_user_id`, want...); err != nil {
		return wrap(err, "identities")
	}
	if tx.cache == nil {
		tx.cache = map[string]any{}
	}
	for _, m := range ms {
		tx.cache[fmt.Sprint("member:", m.ID)] = m
	}
	byMember := map[int64][]Identity{}
	for _, i := range is {
		byMember[i.MemberID] = append(byMember[i.MemberID], i)
	}
	for _, id := range want {
		tx.cache[fmt.Sprint("identities:", id)] = byMember[id.(int64)]
	}
	return nil
}

// CreateMember records a member who accepted the notice, with their identity and the
// store_profile consent. If the identity already exists, its member is returned and
// nothing is written: a second "I accept" is harmless.
func (tx *Tx) CreateMember(ctx context.Context, community int64, platform, userID, name, locale, notice string, ev Evidence) (Member, bool, error) {
	if m, err := tx.MemberByIdentity(ctx, community, platform, userID); err == nil {
		return m, false, nil
	} else if !isNotFound(err) {
		return Member{}, false, err
	}
	now := tx.Now()
	id, err := tx.insert(ctx, `INSERT INTO members (community_id, display_name, locale, notice_version, accepted_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, community, name, locale, notice, now, now)
	if err != nil {
		return Member{}, false, fmt.Errorf("store: create member: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO identities (community_id, platform, platform_user_id, member_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		community, platform, userID, id, now); err != nil {
		return Member{}, false, fmt.Errorf("store: create identity: %w", err)
	}
	ev.NoticeVersion = notice
	if _, err := tx.GrantConsent(ctx, id, PurposeStoreProfile, 0, 0, ev); err != nil {
		return Member{}, false, err
	}
	m, err := tx.Member(ctx, id)
	return m, true, err
}

// Scope narrows a consent to a request or an offer and to the member it covers; zero
// ids mean unscoped.
type Scope struct {
	Request int64
	Offer   int64
	Member  int64
}

// GrantConsent records a consent with its evidence. Scope ids of 0 mean unscoped.
func (tx *Tx) GrantConsent(ctx context.Context, member int64, purpose string, request, scopeMember int64, ev Evidence) (int64, error) {
	return tx.GrantScopedConsent(ctx, member, purpose, Scope{Request: request, Member: scopeMember}, ev)
}

// GrantScopedConsent records a consent for a scope with the evidence of how it was given.
func (tx *Tx) GrantScopedConsent(ctx context.Context, member int64, purpose string, sc Scope, ev Evidence) (int64, error) {
	b, _ := json.Marshal(ev)
	id, err := tx.insert(ctx, `INSERT INTO consents (member_id, purpose, scope_request_id, scope_offer_id, scope_member_id, granted_at, evidence)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, member, purpose, nullID(sc.Request), nullID(sc.Offer), nullID(sc.Member), tx.Now(), string(b))
	if err != nil {
		return 0, fmt.Errorf("store: grant consent %s: %w", purpose, err)
	}
	return id, nil
}

// ActiveConsent finds a consent that is granted and not withdrawn for the given scope.
func (tx *Tx) ActiveConsent(ctx context.Context, member int64, purpose string, request, scopeMember int64) (Consent, error) {
	var c Consent
	err := tx.get(ctx, &c, `SELECT * FROM consents WHERE member_id = ? AND purpose = ? AND withdrawn_at IS NULL
		AND COALESCE(scope_request_id, 0) = ? AND COALESCE(scope_member_id, 0) = ? ORDER BY id DESC LIMIT 1`,
		member, purpose, request, scopeMember)
	return c, wrap(err, "consent")
}

// Consents lists all of a member's consents, newest first.
func (tx *Tx) Consents(ctx context.Context, member int64) ([]Consent, error) {
	var cs []Consent
	err := tx.sel(ctx, &cs, `SELECT * FROM consents WHERE member_id = ? ORDER BY id DESC`, member)
	return cs, wrap(err, "consents")
}

// VolunteerProfile is a member's offer to help: categories, coarse areas, availability.
type VolunteerProfile struct {
	MemberID     int64  `db:"member_id"`
	Categories   string `db:"categories"`
	Areas        string `db:"areas"`
	Availability string `db:"availability"`
	Paused       bool   `db:"paused"`
	CreatedAt    int64  `db:"created_at"`
	UpdatedAt    int64  `db:"updated_at"`
}

// CategoryList, AreaList and DayList split the stored comma lists.
func (p VolunteerProfile) CategoryList() []string { return splitList(p.Categories) }

// AreaList is the profile's coarse areas.
func (p VolunteerProfile) AreaList() []string { return splitList(p.Areas) }

// DayList is the profile's available weekdays (mon..sun).
func (p VolunteerProfile) DayList() []string { return splitList(p.Availability) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// JoinList writes a list the way profiles store it.
func JoinList(xs []string) string { return strings.Join(xs, ",") }

// VolunteerProfile loads a member's profile.
func (tx *Tx) VolunteerProfile(ctx context.Context, member int64) (VolunteerProfile, error) {
	var p VolunteerProfile
	err := tx.get(ctx, &p, `SELECT * FROM volunteer_profiles WHERE member_id = ?`, member)
	return p, wrap(err, "volunteer profile")
}

// SaveVolunteerProfile creates or replaces a member's profile; it reports whether it was new.
func (tx *Tx) SaveVolunteerProfile(ctx context.Context, p VolunteerProfile) (bool, error) {
	now := tx.Now()
	n, err := tx.exec(ctx, `UPDATE volunteer_profiles SET categories = ?, areas = ?, availability = ?, paused = ?, updated_at = ? WHERE member_id = ?`,
		p.Categories, p.Areas, p.Availability, p.Paused, now, p.MemberID)
	if err != nil {
		return false, fmt.Errorf("store: update volunteer profile: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	_, err = tx.exec(ctx, `INSERT INTO volunteer_profiles (member_id, categories, areas, availability, paused, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.MemberID, p.Categories, p.Areas, p.Availability, p.Paused, now, now)
	if err != nil {
		return false, fmt.Errorf("store: create volunteer profile: %w", err)
	}
	return true, nil
}

// SetPaused pauses or resumes a volunteer; it reports whether anything changed.
func (tx *Tx) SetPaused(ctx context.Context, member int64, paused bool) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE volunteer_profiles SET paused = ?, updated_at = ? WHERE member_id = ? AND paused <> ?`,
		paused, tx.Now(), member, paused)
	return n > 0, wrap(err, "pause volunteer")
}

// MatchingVolunteers lists unpaused volunteers of a community (other than exclude) whose
// profile covers the category, the area and the weekday.
func (tx *Tx) MatchingVolunteers(ctx context.Context, community int64, category, area, weekday string, exclude int64) ([]VolunteerProfile, error) {
	var ps []VolunteerProfile
	if err := tx.sel(ctx, &ps, `SELECT p.* FROM volunteer_profiles p JOIN members m ON m.id = p.member_id
		WHERE m.community_id = ? AND p.paused = ? AND p.member_id <> ? ORDER BY p.member_id`, community, false, exclude); err != nil {
		return nil, wrap(err, "matching volunteers")
	}
	var out []VolunteerProfile
	for _, p := range ps {
		if covers(p.CategoryList(), category) && covers(p.AreaList(), area) && covers(p.DayList(), weekday) {
			out = append(out, p)
		}
	}
	return out, nil
}

// covers is true when the list holds the value, or "any".
func covers(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) || x == "any" {
			return true
		}
	}
	return false
}

// Vetting is a moderator's record that a step was verified; never the check's content.
type Vetting struct {
	ID         int64         `db:"id"`
	MemberID   int64         `db:"member_id"`
	Step       string        `db:"step"`
	VerifiedBy sql.NullInt64 `db:"verified_by"`
	VerifiedAt int64         `db:"verified_at"`
	ExpiresAt  sql.NullInt64 `db:"expires_at"`
}

// AddVetting records a vetting step.
func (tx *Tx) AddVetting(ctx context.Context, v Vetting) (int64, error) {
	id, err := tx.insert(ctx, `INSERT INTO vettings (member_id, step, verified_by, verified_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		v.MemberID, v.Step, v.VerifiedBy, v.VerifiedAt, v.ExpiresAt)
	return id, wrap(err, "add vetting")
}

// IsVetted reports whether the member holds an unexpired vetting record.
func (tx *Tx) IsVetted(ctx context.Context, member int64) (bool, error) {
	var n int
	err := tx.get(ctx, &n, `SELECT COUNT(*) FROM vettings WHERE member_id = ? AND (expires_at IS NULL OR expires_at > ?)`, member, tx.Now())
	return n > 0, wrap(err, "vetting")
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
