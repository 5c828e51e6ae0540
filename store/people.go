package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// Person is what is kept about someone a member asks for: the name they like to be
// called and how the asker is related to them. It is sealed at rest.
type Person struct {
	Name         string `json:"name"`
	Relationship string `json:"relationship,omitempty"`
}

func personContext(id int64) string { return "members.person:" + strconv.FormatInt(id, 10) }

// IsBeneficiary reports whether the member is a person asked for by someone else, with
// no platform account of their own.
func (m Member) IsBeneficiary() bool { return m.ContactMemberID.Valid }

// CreateBeneficiary records a person without a platform account whom contact speaks
// for, with their name sealed, and the store_profile consent whose evidence says the
// contact stated it.
func (tx *Tx) CreateBeneficiary(ctx context.Context, community, contact int64, p Person, locale string, ev Evidence) (Member, error) {
	now := tx.Now()
	id, err := tx.insert(ctx, `INSERT INTO members (community_id, display_name, locale, notice_version, accepted_at, created_at, contact_member_id)
		VALUES (?, '', ?, ?, ?, ?, ?)`, community, locale, ev.NoticeVersion, now, now, contact)
	if err != nil {
		return Member{}, fmt.Errorf("store: create person: %w", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return Member{}, err
	}
	ct, kid, err := tx.db.Keys.Seal(b, personContext(id))
	if err != nil {
		return Member{}, fmt.Errorf("store: seal person: %w", err)
	}
	if _, err := tx.exec(ctx, `UPDATE members SET person_ct = ?, person_key_id = ? WHERE id = ?`, ct, kid, id); err != nil {
		return Member{}, fmt.Errorf("store: store person: %w", err)
	}
	if _, err := tx.GrantConsent(ctx, id, PurposeStoreProfile, 0, 0, ev); err != nil {
		return Member{}, err
	}
	return tx.Member(ctx, id)
}

// PersonOf opens what is kept about a person asked for by someone else; ok is false for
// a member with a platform account and for a person whose data was erased.
func (tx *Tx) PersonOf(m Member) (Person, bool, error) {
	var p Person
	if len(m.PersonCT) == 0 || !m.PersonKeyID.Valid {
		return p, false, nil
	}
	b, err := tx.db.Keys.Open(m.PersonCT, m.PersonKeyID.String, personContext(m.ID))
	if err != nil {
		return p, false, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, false, fmt.Errorf("store: person: %w", err)
	}
	return p, true, nil
}

// Beneficiaries lists the people a member speaks for whose data is still held, oldest
// first.
func (tx *Tx) Beneficiaries(ctx context.Context, contact int64) ([]Member, error) {
	var ms []Member
	err := tx.sel(ctx, &ms, `SELECT * FROM members WHERE contact_member_id = ? AND erased_at IS NULL ORDER BY id`, contact)
	return ms, wrap(err, "people")
}

// Speaker is the member who receives what is meant for member: the member themselves,
// or the contact who speaks for a person without a platform account.
func (tx *Tx) Speaker(ctx context.Context, member int64) (int64, error) {
	m, err := tx.Member(ctx, member)
	if err != nil {
		return 0, err
	}
	if m.ContactMemberID.Valid {
		return m.ContactMemberID.Int64, nil
	}
	return m.ID, nil
}

// RequestsFor lists the live requests of the people a member speaks for.
func (tx *Tx) RequestsFor(ctx context.Context, contact int64) ([]Request, error) {
	var rs []Request
	err := tx.sel(ctx, &rs, `SELECT `+requestColumns+` FROM requests r JOIN members m ON m.id = r.requester_id`+withLabels("r")+`
		WHERE m.contact_member_id = ? AND r.status IN ('open', 'matched') ORDER BY r.starts_at, r.id`, contact)
	return rs, wrap(err, "requests for others")
}

// Erasure counts what EraseMemberData erased.
type Erasure struct {
	Requests, Claims, Consents int64
}

// EraseMemberData erases one member's personal data and keeps the rows that figures are
// made of: the name goes (sealed or not), and so do the language, the private parts of
// their requests and of their claims, the code words of visits to them, their volunteer
// profile and half-answered forms; their consents are withdrawn. Requests, claims,
// disclosures and the audit trail stay, holding ids and public parts only. Closing open
// requests (and telling helpers) is the caller's, done before.
func (tx *Tx) EraseMemberData(ctx context.Context, member int64) (Erasure, error) {
	var e Erasure
	now := tx.Now()
	if _, err := tx.exec(ctx, `UPDATE members SET display_name = '', locale = '', person_ct = NULL, person_key_id = NULL, erased_at = ? WHERE id = ?`,
		now, member); err != nil {
		return e, wrap(err, "erase member")
	}
	n, err := tx.exec(ctx, `UPDATE requests SET private_ct = NULL, private_key_id = NULL, updated_at = ? WHERE requester_id = ? AND private_ct IS NOT NULL`,
		now, member)
	if err != nil {
		return e, wrap(err, "erase requests")
	}
	e.Requests = n
	if _, err := tx.exec(ctx, `UPDATE claims SET code_ct = NULL, code_key_id = NULL
		WHERE code_ct IS NOT NULL AND slot_id IN (SELECT s.id FROM slots s JOIN requests r ON r.id = s.request_id WHERE r.requester_id = ?)`, member); err != nil {
		return e, wrap(err, "erase code words")
	}
	if e.Claims, err = tx.exec(ctx, `UPDATE claims SET private_ct = NULL, private_key_id = NULL, code_ct = NULL, code_key_id = NULL
		WHERE member_id = ? AND (private_ct IS NOT NULL OR code_ct IS NOT NULL)`, member); err != nil {
		return e, wrap(err, "erase claims")
	}
	if e.Consents, err = tx.exec(ctx, `UPDATE consents SET withdrawn_at = ? WHERE member_id = ? AND withdrawn_at IS NULL`, now, member); err != nil {
		return e, wrap(err, "withdraw consents")
	}
	if _, err := tx.exec(ctx, `DELETE FROM volunteer_profiles WHERE member_id = ?`, member); err != nil {
		return e, wrap(err, "erase volunteer profile")
	}
	if _, err := tx.exec(ctx, `DELETE FROM dialogues WHERE EXISTS (SELECT 1 FROM identities i
		WHERE i.member_id = ? AND i.platform = dialogues.platform AND i.platform_user_id = dialogues.user_id)`, member); err != nil {
		return e, wrap(err, "erase dialogues")
	}
	tx.forget(member)
	return e, nil
}

// forget drops what the transaction cached about a member whose row just changed.
func (tx *Tx) forget(member int64) {
	delete(tx.cache, fmt.Sprint("member:", member))
	delete(tx.cache, fmt.Sprint("identities:", member))
}
