package store

import (
	"context"
)

// ClaimEvent records an event as handled inside the caller's transaction. It reports
// false with the stored reply when the event was handled before (a redelivery), so the
// second delivery gets the first one's answer and changes nothing.
func (tx *Tx) ClaimEvent(ctx context.Context, platform, workspace, eventID string) (fresh bool, reply string, err error) {
	n, err := tx.exec(ctx, `INSERT INTO inbox (platform, workspace, event_id, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (platform, workspace, event_id) DO NOTHING`, platform, workspace, eventID, tx.db.now().UnixMilli())
	if err != nil {
		return false, "", wrap(err, "inbox")
	}
	if n == 1 {
		return true, "", nil
	}
	err = tx.get(ctx, &reply, `SELECT reply FROM inbox WHERE platform = ? AND workspace = ? AND event_id = ?`, platform, workspace, eventID)
	return false, reply, wrap(err, "inbox reply")
}

// SetEventReply stores the answer given to an event, for redeliveries.
func (tx *Tx) SetEventReply(ctx context.Context, platform, workspace, eventID, reply string) error {
	_, err := tx.exec(ctx, `UPDATE inbox SET reply = ? WHERE platform = ? AND workspace = ? AND event_id = ?`, reply, platform, workspace, eventID)
	return wrap(err, "inbox reply")
}
