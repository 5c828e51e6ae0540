package store

import (
	"context"
	"fmt"
)

// Queries of the scheduled jobs: the digest, the nudges and the retention purge.

// Communities lists every community, in id order.
func (tx *Tx) Communities(ctx context.Context) ([]Community, error) {
	var cs []Community
	err := tx.sel(ctx, &cs, `SELECT * FROM communities ORDER BY id`)
	return cs, wrap(err, "communities")
}

// OpenRequestsWithPlace lists a community's open requests that still have a free place
// and have not ended by now, oldest first, at most limit of them, with how many there
// are in all.
func (tx *Tx) OpenRequestsWithPlace(ctx context.Context, community, now int64, limit int) ([]Request, int, error) {
	const where = `FROM requests r WHERE r.community_id = ? AND r.status = 'open' AND r.ends_at > ? AND NOT r.hidden AND r.paused_at IS NULL
		AND EXISTS (SELECT 1 FROM slots s WHERE s.request_id = r.id AND s.taken < s.capacity)`
	var total int
	if err := tx.get(ctx, &total, `SELECT COUNT(*) `+where, community, now); err != nil {
		return nil, 0, wrap(err, "open requests")
	}
	var rs []Request
	err := tx.sel(ctx, &rs, `SELECT `+requestColumns+` FROM requests r`+withLabels("r")+` WHERE r.id IN (SELECT r.id `+where+`)
		ORDER BY r.created_at, r.id LIMIT ?`, community, now, limit)
	return rs, total, wrap(err, "open requests")
}

// ClaimantsOfRequest lists everyone who ever offered to help with a request, in any
// state (declined and withdrawn included), so a nudge does not ask them again.
func (tx *Tx) ClaimantsOfRequest(ctx context.Context, request int64) ([]int64, error) {
	var ids []int64
	err := tx.sel(ctx, &ids, `SELECT DISTINCT c.member_id FROM claims c JOIN slots s ON s.id = c.slot_id
		WHERE s.request_id = ? ORDER BY c.member_id`, request)
	return ids, wrap(err, "claimants")
}

// closedRequests selects the requests of a community closed before a cutoff.
const closedRequests = `SELECT r.id FROM requests r WHERE r.community_id = ?
	AND r.status IN ('done', 'cancelled', 'expired') AND r.updated_at < ?`

// PurgeRequestPrivate erases the private part (address, phone, notes) of a community's
// requests closed (done, cancelled or expired) before cutoff. It returns how many
// requests held one.
func (tx *Tx) PurgeRequestPrivate(ctx context.Context, community, cutoff int64) (int64, error) {
	n, err := tx.exec(ctx, `UPDATE requests SET private_ct = NULL, private_key_id = NULL
		WHERE (private_ct IS NOT NULL OR private_key_id IS NOT NULL) AND id IN (`+closedRequests+`)`, community, cutoff)
	return n, wrap(err, "purge request details")
}

// PurgeClaimPrivate erases what members shared when claiming or joining, for claims on
// a community's requests closed before cutoff, on its offers that ended or closed before
// cutoff, and for claims that themselves ended (declined, withdrawn, cancelled) before
// cutoff. It returns how many claims held something.
func (tx *Tx) PurgeClaimPrivate(ctx context.Context, community, cutoff int64) (int64, error) {
	n, err := tx.exec(ctx, `UPDATE claims SET private_ct = NULL, private_key_id = NULL
		WHERE (private_ct IS NOT NULL OR private_key_id IS NOT NULL) AND (
			slot_id IN (SELECT s.id FROM slots s WHERE s.request_id IN (`+closedRequests+`))
			OR slot_id IN (SELECT s.id FROM slots s JOIN offers o ON o.id = s.offer_id WHERE o.community_id = ?
				AND (o.ends_at < ? OR (o.status IN ('done', 'cancelled') AND o.updated_at < ?)))
			OR (state IN ('declined', 'withdrawn', 'cancelled') AND updated_at < ? AND slot_id IN (
				SELECT s.id FROM slots s LEFT JOIN requests r ON r.id = s.request_id LEFT JOIN offers o ON o.id = s.offer_id
				WHERE r.community_id = ? OR o.community_id = ?)))`,
		community, cutoff, community, cutoff, cutoff, cutoff, community, community)
	return n, wrap(err, "purge claim details")
}

// PurgeDialogues deletes forms left half answered in a direct-message dialogue since
// before cutoff. It returns how many it deleted.
func (tx *Tx) PurgeDialogues(ctx context.Context, cutoff int64) (int64, error) {
	n, err := tx.exec(ctx, `DELETE FROM dialogues WHERE updated_at < ?`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: purge dialogues: %w", err)
	}
	return n, nil
}
