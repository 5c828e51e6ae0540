package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Risk levels of a category, lowest first: a check-in call, a doorstep errand, a ride, a
// home visit.
const (
	RiskCall     = "call"
	RiskDoorstep = "doorstep"
	RiskRide     = "ride"
	RiskHome     = "home"
)

// RiskLevels lists the levels in order.
var RiskLevels = []string{RiskCall, RiskDoorstep, RiskRide, RiskHome}

// LegacyRisks maps the first risk names, still accepted in config and found in older
// rows, to the levels they stand for.
var LegacyRisks = map[string]string{"low": RiskDoorstep, "medium": RiskRide, "high": RiskHome}

// NormalizeRisk returns the level a risk name stands for, or "" for an unknown name.
func NormalizeRisk(risk string) string {
	r := strings.ToLower(strings.TrimSpace(risk))
	if l, ok := LegacyRisks[r]; ok {
		return l
	}
	for _, l := range RiskLevels {
		if l == r {
			return l
		}
	}
	return ""
}

// RiskRank orders risk levels (0 for a call up to 3 for a home visit). An unknown name
// ranks as a home visit: a safety check too many is better than one too few.
func RiskRank(risk string) int {
	for i, l := range RiskLevels {
		if l == NormalizeRisk(risk) {
			return i
		}
	}
	return len(RiskLevels) - 1
}

// DefaultVisitGraceMinutes is how long after a visit's end the helper is asked whether
// all is well, when the community does not say.
const DefaultVisitGraceMinutes = 30

// VisitSettings are a community's safe-visit settings.
type VisitSettings struct {
	CommunityID int64 `db:"community_id"`
	// Rules are shown to helpers one per line; empty means the catalogue's defaults.
	Rules string `db:"rules"`
	// Contact is who to call, in the community's words; may be empty.
	Contact      string `db:"contact"`
	GraceMinutes int    `db:"grace_minutes"`
	// VettingValidDays is how long a vetting lasts when the moderator gives no date; 0
	// means it lasts until a moderator says otherwise.
	VettingValidDays int `db:"vetting_valid_days"`
}

// RuleList splits the stored rules into lines.
func (v VisitSettings) RuleList() []string {
	var out []string
	for _, l := range strings.Split(v.Rules, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// applyVisitSettings writes a community's visit settings (ApplyCommunity calls it).
func (tx *Tx) applyVisitSettings(ctx context.Context, community int64, v VisitSettings) error {
	if v.GraceMinutes <= 0 {
		v.GraceMinutes = DefaultVisitGraceMinutes
	}
	if v.VettingValidDays < 0 {
		v.VettingValidDays = 0
	}
	n, err := tx.exec(ctx, `UPDATE visit_settings SET rules = ?, contact = ?, grace_minutes = ?, vetting_valid_days = ? WHERE community_id = ?`,
		v.Rules, v.Contact, v.GraceMinutes, v.VettingValidDays, community)
	if err == nil && n == 0 {
		_, err = tx.exec(ctx, `INSERT INTO visit_settings (community_id, rules, contact, grace_minutes, vetting_valid_days) VALUES (?, ?, ?, ?, ?)`,
			community, v.Rules, v.Contact, v.GraceMinutes, v.VettingValidDays)
	}
	return wrap(err, "visit settings")
}

// VisitSettings loads a community's visit settings; a community without a row gets the
// defaults.
func (tx *Tx) VisitSettings(ctx context.Context, community int64) (VisitSettings, error) {
	return cached(tx, fmt.Sprint("visits:", community), func() (VisitSettings, error) {
		v := VisitSettings{CommunityID: community, GraceMinutes: DefaultVisitGraceMinutes}
		err := tx.get(ctx, &v, `SELECT * FROM visit_settings WHERE community_id = ?`, community)
		if isNotFound(err) {
			return v, nil
		}
		return v, wrap(err, "visit settings")
	})
}

func codeWordContext(claim int64) string { return "claims.code_word:" + strconv.FormatInt(claim, 10) }

// SetCodeWord seals a match's code word on its claim.
func (tx *Tx) SetCodeWord(ctx context.Context, claim int64, word string) error {
	ct, kid, err := tx.db.Keys.Seal([]byte(word), codeWordContext(claim))
	if err != nil {
		return fmt.Errorf("store: seal code word: %w", err)
	}
	_, err = tx.exec(ctx, `UPDATE claims SET code_ct = ?, code_key_id = ? WHERE id = ?`, ct, kid, claim)
	return wrap(err, "code word")
}

// CodeWord opens a claim's code word; "" when it has none.
func (tx *Tx) CodeWord(c Claim) (string, error) {
	if len(c.CodeCT) == 0 || !c.CodeKeyID.Valid {
		return "", nil
	}
	b, err := tx.db.Keys.Open(c.CodeCT, c.CodeKeyID.String, codeWordContext(c.ID))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// ErrNotViewer is returned when someone other than a claim's helper or its requester
// would be shown its code word. It is a bug guard: flows never address it elsewhere.
var ErrNotViewer = errors.New("store: only the helper and the requester may see a code word")

// CodeWordFor opens a claim's code word for a viewer, who must be its helper or the
// requester. A claim that is no longer accepted or done shows none ("").
func (tx *Tx) CodeWordFor(ctx context.Context, claim, viewer int64) (string, error) {
	c, err := tx.Claim(ctx, claim)
	if err != nil {
		return "", err
	}
	requester := int64(0)
	if err := tx.get(ctx, &requester, `SELECT r.requester_id FROM requests r JOIN slots s ON s.request_id = r.id WHERE s.id = ?`, c.SlotID); err != nil && !isNotFound(err) {
		return "", wrap(err, "code word requester")
	}
	if viewer == 0 {
		return "", ErrNotViewer
	}
	if viewer != c.MemberID && viewer != requester {
		// The member who speaks for a requester without an account reads it for them.
		if requester == 0 {
			return "", ErrNotViewer
		}
		if sp, err := tx.Speaker(ctx, requester); err != nil || sp != viewer {
			return "", errors.Join(ErrNotViewer, err)
		}
	}
	if c.State != ClaimAccepted && c.State != ClaimDone {
		return "", nil
	}
	return tx.CodeWord(c)
}

// MarkArrived records the helper's "I've arrived" on an accepted claim, once; it reports
// whether this call recorded it.
func (tx *Tx) MarkArrived(ctx context.Context, claim int64) (bool, error) {
	return tx.markOnce(ctx, claim, "arrived_at")
}

// MarkChecked records that the helper was asked whether all is well, once.
func (tx *Tx) MarkChecked(ctx context.Context, claim int64) (bool, error) {
	return tx.markOnce(ctx, claim, "checked_at")
}

// MarkAlerted records that the moderators were told the helper did not answer, once.
func (tx *Tx) MarkAlerted(ctx context.Context, claim int64) (bool, error) {
	return tx.markOnce(ctx, claim, "alerted_at")
}

// markOnce sets a time column of an accepted claim if it is still empty; the condition
// in the UPDATE keeps a second press or a rerun job from doing anything.
func (tx *Tx) markOnce(ctx context.Context, claim int64, col string) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE claims SET `+col+` = ? WHERE id = ? AND state = 'accepted' AND `+col+` IS NULL`, tx.Now(), claim)
	return n > 0, wrap(err, col)
}

// LockSlot takes a slot's row lock until the transaction ends, so that acceptances on
// the same slot count each other's helpers (PostgreSQL; SQLite has one writer anyway).
func (tx *Tx) LockSlot(ctx context.Context, slot int64) error {
	_, err := tx.exec(ctx, `UPDATE slots SET taken = taken WHERE id = ?`, slot)
	return wrap(err, "lock slot")
}

// VettingsOf lists a member's vetting records, newest first.
func (tx *Tx) VettingsOf(ctx context.Context, member int64) ([]Vetting, error) {
	var vs []Vetting
	err := tx.sel(ctx, &vs, `SELECT * FROM vettings WHERE member_id = ? ORDER BY verified_at DESC, id DESC`, member)
	return vs, wrap(err, "vettings")
}

// PurgeCodeWords erases the code words of a community's claims that ended (done,
// declined, withdrawn, cancelled) before cutoff: once a visit is over its word has no use.
func (tx *Tx) PurgeCodeWords(ctx context.Context, community, cutoff int64) (int64, error) {
	n, err := tx.exec(ctx, `UPDATE claims SET code_ct = NULL, code_key_id = NULL
		WHERE code_ct IS NOT NULL AND state NOT IN ('offered', 'accepted') AND updated_at < ?
		AND slot_id IN (SELECT s.id FROM slots s JOIN requests r ON r.id = s.request_id WHERE r.community_id = ?)`, cutoff, community)
	return n, wrap(err, "purge code words")
}
