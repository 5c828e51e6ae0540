package store

import (
	"context"
	"database/sql"
	"fmt"
)

// memberColumn is a column that holds a member id, and how a merge moves it: a plain
// UPDATE, or one with a condition (only rows where the column means a member).
type memberColumn struct {
	table, column string
	// where narrows the rows whose value is a member id ("" for all).
	where string
}

// memberColumns are every column that names a member, with or without a foreign key.
// MergeMember moves each; a test compares this list with the schema, so a new column
// that names a member cannot be forgotten. Tables that need more than an UPDATE
// (volunteer_profiles, suspensions, claims, link_codes) are prepared first.
var memberColumns = []memberColumn{
	{"identities", "member_id", ""},
	{"consents", "member_id", ""},
	// A partner's id for share_with_partner; the helper's member id otherwise.
	{"consents", "scope_member_id", "purpose <> '" + PurposeShareWithPartner + "'"},
	{"volunteer_profiles", "member_id", ""},
	{"vettings", "member_id", ""},
	{"vettings", "verified_by", ""},
	{"requests", "requester_id", ""},
	{"offers", "volunteer_id", ""},
	{"claims", "member_id", ""},
	{"disclosures", "subject_member_id", ""},
	{"disclosures", "viewer_member_id", ""},
	{"escalations", "member_id", ""},
	{"escalations", "reporter_id", ""},
	{"escalations", "acknowledged_by", ""},
	{"escalations", "resolved_by", ""},
	{"escalations", "subject_id", "subject_kind = 'member'"},
	{"escalation_events", "actor_id", ""},
	{"referrals", "member_id", ""},
	{"referrals", "referred_by", ""},
	{"suspensions", "member_id", ""},
	{"suspensions", "suspended_by", ""},
	{"members", "contact_member_id", ""},
	{"link_codes", "member_id", ""},
	{"member_links", "member_id", ""},
	{"audit_log", "actor_member_id", ""},
	{"departures", "member_id", ""},
	{"join_codes", "created_by", ""},
	// Messages on their way to the merged member are rendered for the one they joined.
	{"outbox", "member_id", ""},
}

// notMemberColumns are left alone by a merge: the historical record of which member was
// merged, and columns whose names only look like a member's (wrapped_by is a key id).
var notMemberColumns = []string{"member_links.merged_member_id", "data_keys.wrapped_by"}

// MergedColumns lists the "table.column"s a merge moves, and those it leaves on purpose.
func MergedColumns() (moved, kept []string) {
	for _, c := range memberColumns {
		moved = append(moved, c.table+"."+c.column)
	}
	return moved, append([]string(nil), notMemberColumns...)
}

// MergeMember moves everything of member from into member into, in the caller's
// transaction, and deletes from's row: accounts, requests, offers, claims, consents,
// vettings, disclosures (as subject and as viewer), cases, audit actor ids and every
// other column that names a member. Where both have a volunteer profile the fuller one
// is kept ("into" or "from" says whose; "" when at most one had one). Where both hold
// a place on the same slot, from's is given back. A suspension of either stays, the
// longer one.
func (tx *Tx) MergeMember(ctx context.Context, from, into int64) (profileKept string, err error) {
	if from == into || from == 0 || into == 0 {
		return "", fmt.Errorf("store: cannot merge member %d into %d", from, into)
	}
	if profileKept, err = tx.mergeProfiles(ctx, from, into); err != nil {
		return "", err
	}
	if err := tx.mergeSuspensions(ctx, from, into); err != nil {
		return "", err
	}
	// Both holding the same slot: from's place is given back, as a withdrawal would.
	var dup []int64
	if err := tx.sel(ctx, &dup, `SELECT c.id FROM claims c WHERE c.member_id = ? AND c.state IN ('offered', 'accepted', 'done')
		AND EXISTS (SELECT 1 FROM claims o WHERE o.slot_id = c.slot_id AND o.member_id = ? AND o.state IN ('offered', 'accepted', 'done'))`, from, into); err != nil {
		return "", wrap(err, "merge claims")
	}
	for _, id := range dup {
		if _, err := tx.MoveClaim(ctx, id, ClaimCancelled, LiveStates...); err != nil {
			return "", err
		}
	}
	// At most one code on its way per member: from's end.
	if _, err := tx.exec(ctx, `UPDATE link_codes SET state = 'cancelled', code_ct = NULL, code_key_id = NULL, ended_at = ?
		WHERE member_id = ? AND state IN ('pending', 'entered')`, tx.Now(), from); err != nil {
		return "", wrap(err, "merge link codes")
	}
	for _, c := range memberColumns {
		q := `UPDATE ` + c.table + ` SET ` + c.column + ` = ? WHERE ` + c.column + ` = ?`
		if c.where != "" {
			q += ` AND ` + c.where
		}
		if _, err := tx.exec(ctx, q, into, from); err != nil {
			return "", fmt.Errorf("store: merge %s.%s: %w", c.table, c.column, err)
		}
	}
	if _, err := tx.exec(ctx, `DELETE FROM members WHERE id = ?`, from); err != nil {
		return "", wrap(err, "merge: delete merged member")
	}
	tx.forget(from)
	tx.forget(into)
	return profileKept, nil
}

// mergeProfiles keeps the fuller of two volunteer profiles (more categories, areas and
// days; into's on a tie) and deletes the other.
func (tx *Tx) mergeProfiles(ctx context.Context, from, into int64) (string, error) {
	pf, errF := tx.VolunteerProfile(ctx, from)
	pi, errI := tx.VolunteerProfile(ctx, into)
	for _, err := range []error{errF, errI} {
		if err != nil && !isNotFound(err) {
			return "", err
		}
	}
	if errF != nil || errI != nil {
		return "", nil
	}
	fuller := func(p VolunteerProfile) int { return len(p.CategoryList()) + len(p.AreaList()) + len(p.DayList()) }
	drop, kept := from, "into"
	if fuller(pf) > fuller(pi) {
		drop, kept = into, "from"
	}
	_, err := tx.exec(ctx, `DELETE FROM volunteer_profiles WHERE member_id = ?`, drop)
	return kept, wrap(err, "merge volunteer profiles")
}

// mergeSuspensions keeps one suspension when both members have one: the one that lasts
// longer (no end date lasts longest).
func (tx *Tx) mergeSuspensions(ctx context.Context, from, into int64) error {
	var until []sql.NullInt64
	if err := tx.sel(ctx, &until, `SELECT until_at FROM suspensions WHERE member_id IN (?, ?) ORDER BY CASE WHEN member_id = ? THEN 0 ELSE 1 END`,
		from, into, from); err != nil {
		return wrap(err, "merge suspensions")
	}
	if len(until) < 2 {
		return nil
	}
	longer := func(a, b sql.NullInt64) bool { return !a.Valid && b.Valid || a.Valid && b.Valid && a.Int64 > b.Int64 }
	drop := from
	if longer(until[0], until[1]) {
		drop = into
	}
	_, err := tx.exec(ctx, `DELETE FROM suspensions WHERE member_id = ?`, drop)
	return wrap(err, "merge suspensions")
}
