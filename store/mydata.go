package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// What a member may see and take away about themselves (flows/mydata.go): every row
// that names them, whatever its state, and the erasure of the accounts behind them.

// AllRequestsBy lists every request a member made, live or closed, oldest first.
func (tx *Tx) AllRequestsBy(ctx context.Context, member int64) ([]Request, error) {
	var rs []Request
	err := tx.sel(ctx, &rs, `SELECT `+requestColumns+` FROM requests r`+withLabels("r")+`
		WHERE r.requester_id = ? ORDER BY r.id`, member)
	return rs, wrap(err, "requests")
}

// AllOffersBy lists every offer a volunteer made, live or closed, oldest first.
func (tx *Tx) AllOffersBy(ctx context.Context, member int64) ([]Offer, error) {
	var os []Offer
	err := tx.sel(ctx, &os, `SELECT `+offerColumns+` FROM offers o`+withLabels("o")+`
		WHERE o.volunteer_id = ? ORDER BY o.id`, member)
	return os, wrap(err, "offers")
}

// AllClaimsBy lists every claim a member made, whatever its state, oldest first.
func (tx *Tx) AllClaimsBy(ctx context.Context, member int64) ([]Claim, error) {
	var cs []Claim
	err := tx.sel(ctx, &cs, `SELECT * FROM claims WHERE member_id = ? ORDER BY id`, member)
	return cs, wrap(err, "claims")
}

// Consent loads one consent.
func (tx *Tx) Consent(ctx context.Context, id int64) (Consent, error) {
	var c Consent
	err := tx.get(ctx, &c, `SELECT * FROM consents WHERE id = ?`, id)
	return c, wrap(err, "consent")
}

// WithdrawConsent withdraws one live consent now; it reports whether it was live.
func (tx *Tx) WithdrawConsent(ctx context.Context, id int64) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE consents SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL`, tx.Now(), id)
	return n > 0, wrap(err, "withdraw consent")
}

// consentLive reports whether a consent is still given (not withdrawn).
func (tx *Tx) consentLive(ctx context.Context, id int64) (bool, error) {
	c, err := tx.Consent(ctx, id)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil && !c.WithdrawnAt.Valid, err
}

// EraseAccounts removes a member's platform accounts and every trace that names them,
// after EraseMemberData: the identities go, and so do the platform ids and the name in
// the rows that keep history (outbox, stored replies, link codes, linked accounts,
// safety cases, moderator lists), so the member id names no one. Messages still waiting
// for them are dropped; messages about them name "a neighbour".
func (tx *Tx) EraseAccounts(ctx context.Context, member int64, name string) error {
	ids, err := tx.IdentitiesOf(ctx, member)
	if err != nil {
		return err
	}
	steps := []sqlStep{
		{"outbox", `UPDATE outbox SET state = 'failed', last_error = 'erased' WHERE member_id = ? AND state IN ('pending', 'sending')`, []any{member}},
		{"outbox", `UPDATE outbox SET user_id = '', user_name = '', channel_id = '' WHERE member_id = ?`, []any{member}},
		{"link codes", `UPDATE link_codes SET platform_user_id = '', target_user_id = '', code_ct = NULL, code_key_id = NULL,
			state = CASE WHEN state IN ('pending', 'entered') THEN 'cancelled' ELSE state END WHERE member_id = ?`, []any{member}},
		{"linked accounts", `UPDATE member_links SET platform_user_id = '', profile_kept = '' WHERE member_id = ?`, []any{member}},
		{"safety cases", `UPDATE escalations SET platform_user_id = '' WHERE member_id = ?`, []any{member}},
	}
	for _, i := range ids {
		steps = append(steps,
			sqlStep{"outbox", `UPDATE outbox SET user_id = '', user_name = '', channel_id = '', state = CASE WHEN state IN ('pending', 'sending') THEN 'failed' ELSE state END
				WHERE platform = ? AND user_id = ? AND dest_kind <> 'channel'`, []any{i.Platform, i.PlatformUserID}},
			sqlStep{"dialogues", `DELETE FROM dialogues WHERE platform = ? AND user_id = ?`, []any{i.Platform, i.PlatformUserID}},
			sqlStep{"moderators", `DELETE FROM community_moderators WHERE community_id = ? AND platform = ? AND platform_user_id = ?`, []any{i.CommunityID, i.Platform, i.PlatformUserID}},
			sqlStep{"link targets", `UPDATE link_codes SET target_user_id = '' WHERE target_platform = ? AND target_user_id = ?`, []any{i.Platform, i.PlatformUserID}},
			sqlStep{"safety cases", `UPDATE escalations SET platform_user_id = '' WHERE platform = ? AND platform_user_id = ?`, []any{i.Platform, i.PlatformUserID}},
		)
	}
	steps = append(steps, sqlStep{"identities", `DELETE FROM identities WHERE member_id = ?`, []any{member}})
	for _, s := range steps {
		if _, err := tx.exec(ctx, s.q, s.args...); err != nil {
			return wrap(err, "erase "+s.what)
		}
	}
	// Replies kept for redeliveries are rendered text: one that names the member or
	// their account is dropped (a redelivery then gets no reply, as a private one).
	words := []string{name}
	for _, i := range ids {
		words = append(words, i.PlatformUserID)
	}
	for _, w := range words {
		if strings.TrimSpace(w) == "" {
			continue
		}
		if _, err := tx.exec(ctx, `UPDATE inbox SET reply = '' WHERE reply LIKE ? ESCAPE '\'`, likeAny(w)); err != nil {
			return wrap(err, "erase stored replies")
		}
	}
	// Cards name people as user text ({"u":"name"}): the erased name becomes "a
	// neighbour" in every card kept or waiting.
	if strings.TrimSpace(name) != "" {
		b, err := json.Marshal(name)
		if err != nil {
			return err
		}
		was := `{"u":` + string(b) + `}`
		if _, err := tx.exec(ctx, `UPDATE outbox SET card = REPLACE(card, ?, ?) WHERE card LIKE ? ESCAPE '\'`,
			was, `{"t":{"id":"request.neighbour"}}`, likeAny(was)); err != nil {
			return wrap(err, "erase name in messages")
		}
	}
	tx.forget(member)
	return nil
}

// sqlStep is one statement of a multi-step erase, named for its error.
type sqlStep struct {
	what, q string
	args    []any
}

// likeAny is a LIKE pattern matching s anywhere, its wildcards escaped with '\'.
func likeAny(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// MemberByRef finds a member by "platform:user_id" in a community.
func (tx *Tx) MemberByRef(ctx context.Context, community int64, ref string) (Member, error) {
	platform, user, ok := strings.Cut(ref, ":")
	if !ok || platform == "" || user == "" {
		return Member{}, fmt.Errorf("store: member %q: want platform:user_id: %w", ref, ErrNotFound)
	}
	return tx.MemberByIdentity(ctx, community, platform, user)
}
