package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Link code states.
const (
	LinkPending   = "pending"
	LinkEntered   = "entered"
	LinkLinked    = "linked"
	LinkCancelled = "cancelled"
	LinkBurnt     = "burnt"
)

// LinkCode is a one-time code for linking two accounts of one person: issued to the
// member's account on one platform (Platform, PlatformUserID), entered on another
// (TargetPlatform, TargetUserID) and confirmed there.
type LinkCode struct {
	ID             int64          `db:"id"`
	CommunityID    int64          `db:"community_id"`
	MemberID       int64          `db:"member_id"`
	Platform       string         `db:"platform"`
	PlatformUserID string         `db:"platform_user_id"`
	CodeHash       string         `db:"code_hash"`
	CodeCT         []byte         `db:"code_ct"`
	CodeKeyID      sql.NullString `db:"code_key_id"`
	State          string         `db:"state"`
	Attempts       int            `db:"attempts"`
	TargetPlatform string         `db:"target_platform"`
	TargetUserID   string         `db:"target_user_id"`
	CreatedAt      int64          `db:"created_at"`
	ExpiresAt      int64          `db:"expires_at"`
	EnteredAt      sql.NullInt64  `db:"entered_at"`
	EndedAt        sql.NullInt64  `db:"ended_at"`
}

func linkCodeContext(id int64) string { return "link_codes.code:" + strconv.FormatInt(id, 10) }

// HashLinkCode is the stored form of a code, by which it is found: a code is random
// and lives ten minutes, so a plain hash keeps it out of the database without a key
// that could rotate under it.
func HashLinkCode(code string) string {
	sum := sha256.Sum256([]byte("tend-link-code:" + code))
	return hex.EncodeToString(sum[:])
}

// IssueLinkCode ends any code of the member still on its way (at most one is) and
// records a new one, sealed so that its direct message can be rendered when it is sent.
func (tx *Tx) IssueLinkCode(ctx context.Context, c LinkCode, code string) (int64, error) {
	now := tx.Now()
	if _, err := tx.exec(ctx, `UPDATE link_codes SET state = 'cancelled', code_ct = NULL, code_key_id = NULL, ended_at = ?
		WHERE member_id = ? AND state IN ('pending', 'entered')`, now, c.MemberID); err != nil {
		return 0, wrap(err, "end earlier link codes")
	}
	id, err := tx.insert(ctx, `INSERT INTO link_codes (community_id, member_id, platform, platform_user_id, code_hash, state, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`, c.CommunityID, c.MemberID, c.Platform, c.PlatformUserID, HashLinkCode(code), now, c.ExpiresAt)
	if err != nil {
		return 0, wrap(err, "issue link code")
	}
	ct, kid, err := tx.db.Keys.Seal([]byte(code), linkCodeContext(id))
	if err != nil {
		return 0, fmt.Errorf("store: seal link code: %w", err)
	}
	if _, err := tx.exec(ctx, `UPDATE link_codes SET code_ct = ?, code_key_id = ? WHERE id = ?`, ct, kid, id); err != nil {
		return 0, wrap(err, "store link code")
	}
	return id, nil
}

// LinkCodeByID loads a code.
func (tx *Tx) LinkCodeByID(ctx context.Context, id int64) (LinkCode, error) {
	var c LinkCode
	err := tx.get(ctx, &c, `SELECT * FROM link_codes WHERE id = ?`, id)
	return c, wrap(err, "link code")
}

// LinkCodeByHash finds the newest code with this hash, in any state.
func (tx *Tx) LinkCodeByHash(ctx context.Context, hash string) (LinkCode, error) {
	var c LinkCode
	err := tx.get(ctx, &c, `SELECT * FROM link_codes WHERE code_hash = ? ORDER BY id DESC LIMIT 1`, hash)
	return c, wrap(err, "link code")
}

// OpenLinkCode returns a code in clear while its sealed copy exists (until it is
// entered or ends), else "".
func (tx *Tx) OpenLinkCode(c LinkCode) (string, error) {
	if len(c.CodeCT) == 0 || !c.CodeKeyID.Valid {
		return "", nil
	}
	b, err := tx.db.Keys.Open(c.CodeCT, c.CodeKeyID.String, linkCodeContext(c.ID))
	return string(b), err
}

// FailLinkAttempt counts a wrong code against every code waiting in the community: a
// wrong guess cannot say which code it aimed at, so each pending code bears it, and a
// code that has borne max is burnt.
func (tx *Tx) FailLinkAttempt(ctx context.Context, community int64, max int) error {
	if _, err := tx.exec(ctx, `UPDATE link_codes SET attempts = attempts + 1 WHERE community_id = ? AND state = 'pending'`, community); err != nil {
		return wrap(err, "link attempt")
	}
	_, err := tx.exec(ctx, `UPDATE link_codes SET state = 'burnt', code_ct = NULL, code_key_id = NULL, ended_at = ?
		WHERE community_id = ? AND state = 'pending' AND attempts >= ?`, tx.Now(), community, max)
	return wrap(err, "burn link codes")
}

// EnterLinkCode binds a pending, unexpired code to the account that typed it, once: the
// code is then used, and its sealed copy goes. It reports whether this call bound it.
func (tx *Tx) EnterLinkCode(ctx context.Context, id int64, platform, user string) (bool, error) {
	now := tx.Now()
	n, err := tx.exec(ctx, `UPDATE link_codes SET state = 'entered', target_platform = ?, target_user_id = ?, entered_at = ?,
		code_ct = NULL, code_key_id = NULL WHERE id = ? AND state = 'pending' AND expires_at > ?`, platform, user, now, id, now)
	return n > 0, wrap(err, "enter link code")
}

// EndLinkCode moves a code from one of the given states to an end state (linked,
// cancelled, burnt), reporting whether it moved.
func (tx *Tx) EndLinkCode(ctx context.Context, id int64, to string, from ...string) (bool, error) {
	q := `UPDATE link_codes SET state = ?, code_ct = NULL, code_key_id = NULL, ended_at = ? WHERE id = ?`
	args := []any{to, tx.Now(), id}
	q, args = inStates(q, "state", args, from)
	n, err := tx.exec(ctx, q, args...)
	return n > 0, wrap(err, "end link code")
}

// MemberLink records an account linked to a member.
type MemberLink struct {
	ID             int64         `db:"id"`
	CommunityID    int64         `db:"community_id"`
	MemberID       int64         `db:"member_id"`
	MergedMemberID sql.NullInt64 `db:"merged_member_id"`
	Platform       string        `db:"platform"`
	PlatformUserID string        `db:"platform_user_id"`
	ProfileKept    string        `db:"profile_kept"`
	LinkedAt       int64         `db:"linked_at"`
	UnlinkedAt     sql.NullInt64 `db:"unlinked_at"`
}

// LinkResult says what linking an account did: the member merged in (0 when the
// account was new to tend) and whose volunteer profile was kept when both had one.
type LinkResult struct {
	Merged      int64
	ProfileKept string
}

// LinkAccount makes the account (platform, user) of community one of member's
// accounts: a new identity when the account was not a member, or, when it belonged to
// another member, that member merged into this one (MergeMember). A link row records
// it. The caller has checked that the account is not already the member's.
func (tx *Tx) LinkAccount(ctx context.Context, community, member int64, platform, user string) (LinkResult, error) {
	var res LinkResult
	other, err := tx.MemberByIdentity(ctx, community, platform, user)
	switch {
	case isNotFound(err):
		if _, err := tx.exec(ctx, `INSERT INTO identities (community_id, platform, platform_user_id, member_id, created_at) VALUES (?, ?, ?, ?, ?)`,
			community, platform, user, member, tx.Now()); err != nil {
			return res, wrap(err, "link identity")
		}
	case err != nil:
		return res, err
	case other.ID == member:
		return res, fmt.Errorf("store: account is already member %d's", member)
	default:
		if res.ProfileKept, err = tx.MergeMember(ctx, other.ID, member); err != nil {
			return res, err
		}
		res.Merged = other.ID
	}
	tx.forget(member)
	_, err = tx.insert(ctx, `INSERT INTO member_links (community_id, member_id, merged_member_id, platform, platform_user_id, profile_kept, linked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, community, member, nullID(res.Merged), platform, user, res.ProfileKept, tx.Now())
	return res, wrap(err, "link row")
}

// UnlinkAccount detaches one account from its member: the identity goes, so the
// account is a newcomer again who must accept the privacy notice, and everything done
// so far stays with the member. It reports whether the account was linked.
func (tx *Tx) UnlinkAccount(ctx context.Context, community, member int64, platform, user string) (bool, error) {
	n, err := tx.exec(ctx, `DELETE FROM identities WHERE community_id = ? AND platform = ? AND platform_user_id = ? AND member_id = ?`,
		community, platform, user, member)
	if err != nil || n == 0 {
		return false, wrap(err, "unlink identity")
	}
	if _, err := tx.exec(ctx, `UPDATE member_links SET unlinked_at = ? WHERE member_id = ? AND platform = ? AND platform_user_id = ? AND unlinked_at IS NULL`,
		tx.Now(), member, platform, user); err != nil {
		return false, wrap(err, "unlink row")
	}
	tx.forget(member)
	return true, nil
}
