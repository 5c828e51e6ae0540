package store

import (
	"context"
	"database/sql"
)

// Departures: accounts that left their space, requests paused while their requester is
// away, and a row per member who left with no account of theirs still present.

// Departure is one member leaving: what was handed back, and when they came back.
type Departure struct {
	ID                 int64         `db:"id"`
	CommunityID        int64         `db:"community_id"`
	MemberID           int64         `db:"member_id"`
	LeftAt             int64         `db:"left_at"`
	Claims             int           `db:"claims"`
	Offers             int           `db:"offers"`
	Requests           int           `db:"requests"`
	VolunteeringPaused bool          `db:"volunteering_paused"`
	ReturnedAt         sql.NullInt64 `db:"returned_at"`
}

// MarkLeft records that a platform account left its space. It reports false when the
// account is unknown or had already left, so a second leave event changes nothing.
func (tx *Tx) MarkLeft(ctx context.Context, community int64, platform, userID string) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE identities SET left_at = ? WHERE community_id = ? AND platform = ? AND platform_user_id = ? AND left_at IS NULL`,
		tx.Now(), community, platform, userID)
	return n > 0, wrap(err, "mark left")
}

// ClearLeft records that an account which had left is back; it reports whether it had left.
func (tx *Tx) ClearLeft(ctx context.Context, community int64, platform, userID string) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE identities SET left_at = NULL WHERE community_id = ? AND platform = ? AND platform_user_id = ? AND left_at IS NOT NULL`,
		community, platform, userID)
	return n > 0, wrap(err, "clear left")
}

// PresentIdentities counts a member's accounts still in a space bound to their community:
// while one is, the member has not left.
func (tx *Tx) PresentIdentities(ctx context.Context, member int64) (int, error) {
	var n int
	err := tx.get(ctx, &n, `SELECT COUNT(*) FROM identities i WHERE i.member_id = ? AND i.left_at IS NULL
		AND EXISTS (SELECT 1 FROM space_bindings b WHERE b.community_id = i.community_id AND b.platform = i.platform)`, member)
	return n, wrap(err, "present identities")
}

// PauseRequest pauses a live request; it reports false when it was paused already or is
// no longer live.
func (tx *Tx) PauseRequest(ctx context.Context, id int64) (bool, error) {
	now := tx.Now()
	n, err := tx.exec(ctx, `UPDATE requests SET paused_at = ?, updated_at = ? WHERE id = ? AND paused_at IS NULL AND status IN ('open', 'matched')`,
		now, now, id)
	return n > 0, wrap(err, "pause request")
}

// ResumeRequest ends a request's pause; it reports false when it was not paused.
func (tx *Tx) ResumeRequest(ctx context.Context, id int64) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE requests SET paused_at = NULL, updated_at = ? WHERE id = ? AND paused_at IS NOT NULL`, tx.Now(), id)
	return n > 0, wrap(err, "resume request")
}

// PausedRequestsBy lists a member's live requests that are paused, oldest first.
func (tx *Tx) PausedRequestsBy(ctx context.Context, member int64) ([]Request, error) {
	var rs []Request
	err := tx.sel(ctx, &rs, `SELECT `+requestColumns+` FROM requests r`+withLabels("r")+`
		WHERE r.requester_id = ? AND r.status IN ('open', 'matched') AND r.paused_at IS NOT NULL ORDER BY r.starts_at, r.id`, member)
	return rs, wrap(err, "paused requests")
}

// EndDialoguesOf deletes the half-answered forms and drafts of every account of a member.
func (tx *Tx) EndDialoguesOf(ctx context.Context, member int64) (int64, error) {
	n, err := tx.exec(ctx, `DELETE FROM dialogues WHERE EXISTS (SELECT 1 FROM identities i
		WHERE i.member_id = ? AND i.platform = dialogues.platform AND i.platform_user_id = dialogues.user_id)`, member)
	return n, wrap(err, "end dialogues")
}

// AddDeparture records a departure.
func (tx *Tx) AddDeparture(ctx context.Context, d Departure) (int64, error) {
	id, err := tx.insert(ctx, `INSERT INTO departures (community_id, member_id, left_at, claims, offers, requests, volunteering_paused)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, d.CommunityID, d.MemberID, d.LeftAt, d.Claims, d.Offers, d.Requests, d.VolunteeringPaused)
	return id, wrap(err, "add departure")
}

// LatestDeparture loads a member's most recent departure.
func (tx *Tx) LatestDeparture(ctx context.Context, member int64) (Departure, error) {
	var d Departure
	err := tx.get(ctx, &d, `SELECT * FROM departures WHERE member_id = ? ORDER BY id DESC LIMIT 1`, member)
	return d, wrap(err, "departure")
}

// MarkReturned records that a member who left is back; it reports false when their
// latest departure already says so (or there is none).
func (tx *Tx) MarkReturned(ctx context.Context, departure int64) (bool, error) {
	n, err := tx.exec(ctx, `UPDATE departures SET returned_at = ? WHERE id = ? AND returned_at IS NULL`, tx.Now(), departure)
	return n > 0, wrap(err, "mark returned")
}

// Departure loads a departure.
func (tx *Tx) Departure(ctx context.Context, id int64) (Departure, error) {
	var d Departure
	err := tx.get(ctx, &d, `SELECT * FROM departures WHERE id = ?`, id)
	return d, wrap(err, "departure")
}
