package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tend-community/tend/store"
)

// The statements of the bare baseline: exactly the rows one claim writes through tend
// (bot.App.handle, flows.Claim, store.TakeSlot, tx.Audit, bot.App.enqueue), without the
// reads, savepoints and Go around them.
const (
	sqlInbox  = `INSERT INTO inbox (platform, workspace, event_id, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (platform, workspace, event_id) DO NOTHING`
	sqlSlot   = `UPDATE slots SET taken = taken + 1 WHERE id = ? AND taken < capacity`
	sqlClaim  = `INSERT INTO claims (slot_id, member_id, state, created_at, updated_at) VALUES (?, ?, 'offered', ?, ?) RETURNING id`
	sqlAudit  = `INSERT INTO audit_log (community_id, actor_member_id, action, subject, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)`
	sqlOutbox = `INSERT INTO outbox (idem_key, platform, workspace, dest_kind, channel_id, user_id, user_name, member_id, lang, card_key, card, state, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id`
	sqlReply = `UPDATE inbox SET reply = ? WHERE platform = ? AND workspace = ? AND event_id = ?`
)

// claimTemplate is what one real claim of phase 2 wrote, replayed by the baseline.
type claimTemplate struct {
	reply   string
	outbox  []store.OutboxRow
	request int64
}

// baseline is phase 3: the bare baseline on the same database, with the same
// concurrency and for as long as phase 2, each transaction on its own slot.
func (r *run) baseline(ctx context.Context) error {
	tpl, err := r.template(ctx)
	if err != nil {
		return err
	}
	phase := r.o.Duration / 2
	n := min(max(2000, int(8*r.rep.ClaimsPerS*phase.Seconds())), 500000)
	slots, err := r.bareSlots(ctx, tpl.request, n)
	if err != nil {
		return err
	}
	// A claim schedules no job (its messages are outbox rows, which are their own
	// queue), so the baseline writes none either, with or without the job queue.
	writes := []string{"inbox insert", "slot update", "claim insert", "audit insert"}
	for range tpl.outbox {
		writes = append(writes, "outbox insert")
	}
	r.rep.BaselineWrites = append(writes, "inbox reply update")

	q := bareQueries{inbox: r.db.X.Rebind(sqlInbox), slot: r.db.X.Rebind(sqlSlot), claim: r.db.X.Rebind(sqlClaim),
		audit: r.db.X.Rebind(sqlAudit), outbox: r.db.X.Rebind(sqlOutbox), reply: r.db.X.Rebind(sqlReply)}
	var ok, bad atomic.Int64
	start := time.Now()
	stop := r.every(PhaseBaseline, start, func(p *Progress) { p.Events = int(ok.Load()) })
	r.closedLoop(ctx, start.Add(phase), len(slots), func(i int) {
		if err := r.bareClaim(ctx, q, tpl, slots[i], i); err != nil {
			r.noteErr(err)
			bad.Add(1)
			return
		}
		ok.Add(1)
	})
	elapsed := time.Since(start)
	stop()
	if err := ctx.Err(); err != nil {
		return err
	}
	r.rep.BaselineTxs = int(ok.Load())
	r.rep.BaselineErrors = int(bad.Load())
	r.rep.Errors += r.rep.BaselineErrors
	r.rep.BaselineSeconds = round(elapsed.Seconds(), 3)
	r.rep.BaselinePerS = perSecond(r.rep.BaselineTxs, elapsed)
	return r.forgetBaseline(ctx)
}

type bareQueries struct{ inbox, slot, claim, audit, outbox, reply string }

// bareClaim is one baseline transaction: the writes of one claim as plain SQL.
func (r *run) bareClaim(ctx context.Context, q bareQueries, tpl claimTemplate, slot int64, i int) error {
	tx, err := r.db.X.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	ev := "b" + strconv.Itoa(i)
	member := r.volunteers[i%len(r.volunteers)].member
	now := time.Now()
	if _, err := tx.ExecContext(ctx, q.inbox, Platform, r.ws, ev, now.UnixMilli()); err != nil {
		return fmt.Errorf("bench: baseline inbox: %w", err)
	}
	res, err := tx.ExecContext(ctx, q.slot, slot)
	if err != nil {
		return fmt.Errorf("bench: baseline slot: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("bench: baseline slot %d was already taken", slot)
	}
	var claim int64
	if err := tx.QueryRowxContext(ctx, q.claim, slot, member, now.Unix(), now.Unix()).Scan(&claim); err != nil {
		return fmt.Errorf("bench: baseline claim: %w", err)
	}
	if _, err := tx.ExecContext(ctx, q.audit, r.comm, member, "claim.offered", "claim:"+strconv.FormatInt(claim, 10),
		"request="+strconv.FormatInt(tpl.request, 10), now.Unix()); err != nil {
		return fmt.Errorf("bench: baseline audit: %w", err)
	}
	for k, o := range tpl.outbox {
		key := fmt.Sprintf("%s/%s/%s#%d", Platform, r.ws, ev, k+1)
		cardKey := o.CardKey
		if cardKey != "" {
			// Each claim is on its own request, so its board card has its own key.
			cardKey = "request:" + strconv.FormatInt(slot, 10)
		}
		var id int64
		if err := tx.QueryRowxContext(ctx, q.outbox, key, o.Platform, o.Workspace, o.DestKind, o.ChannelID, o.UserID, o.UserName,
			o.MemberID, o.Lang, cardKey, o.Card, now.UnixMilli(), now.UnixMilli()).Scan(&id); err != nil {
			return fmt.Errorf("bench: baseline outbox: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, q.reply, tpl.reply, Platform, r.ws, ev); err != nil {
		return fmt.Errorf("bench: baseline reply: %w", err)
	}
	return tx.Commit()
}

// forgetBaseline deletes the messages the baseline wrote: they copy a real claim's rows
// but nobody is waiting for them, and the drain must not count them.
func (r *run) forgetBaseline(ctx context.Context) error {
	if _, err := r.db.X.ExecContext(ctx, r.db.X.Rebind(`DELETE FROM outbox WHERE platform = ? AND workspace = ? AND idem_key LIKE ?`),
		Platform, r.ws, fmt.Sprintf("%s/%s/b%%", Platform, r.ws)); err != nil {
		return fmt.Errorf("bench: forget the baseline's outbox rows: %w", err)
	}
	return nil
}

// template reads back what the sample claim of phase 2 wrote: its stored reply and its
// outbox rows (the requester's direct message and the board card), so the baseline
// writes rows of the same shape and size.
func (r *run) template(ctx context.Context) (claimTemplate, error) {
	var t claimTemplate
	if err := r.db.X.GetContext(ctx, &t.reply, r.db.X.Rebind(`SELECT reply FROM inbox WHERE platform = ? AND workspace = ? AND event_id = ?`),
		Platform, r.ws, r.sample); err != nil {
		return t, fmt.Errorf("bench: the sample claim's inbox row: %w", err)
	}
	prefix := fmt.Sprintf("%s/%s/%s#", Platform, r.ws, r.sample)
	var rows []store.OutboxRow
	if err := r.db.X.SelectContext(ctx, &rows, r.db.X.Rebind(`SELECT * FROM outbox WHERE platform = ? AND workspace = ? AND idem_key LIKE ? ORDER BY id`),
		Platform, r.ws, prefix+"%"); err != nil {
		return t, fmt.Errorf("bench: the sample claim's outbox rows: %w", err)
	}
	for _, o := range rows {
		if strings.HasPrefix(o.IdemKey, prefix) {
			t.outbox = append(t.outbox, o)
		}
	}
	if len(t.outbox) == 0 {
		return t, fmt.Errorf("bench: the sample claim %s wrote no outbox rows", r.sample)
	}
	// The baseline's slots hang off one request of their own.
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		starts := time.Now().Add(24 * time.Hour).Truncate(time.Hour).Unix()
		id, err := tx.CreateRequest(ctx, store.NewRequest{CommunityID: r.comm, RequesterID: r.requesters[0].member, Category: "meal",
			Summary: "Baseline", Area: r.areas[0], StartsAt: starts, EndsAt: starts + 3600, Slots: 1})
		t.request = id
		return err
	})
	return t, err
}

// bareSlots adds n free single-place slots to the baseline's request, many rows per
// statement, and returns their ids.
func (r *run) bareSlots(ctx context.Context, request int64, n int) ([]int64, error) {
	const per = 200
	starts := time.Now().Add(24 * time.Hour).Truncate(time.Hour).Unix()
	ids := make([]int64, 0, n)
	for from := 0; from < n; from += per * 25 {
		var batch []int64
		err := r.db.InTx(ctx, func(tx *store.Tx) error {
			batch = batch[:0]
			for b := from; b < min(from+per*25, n); b += per {
				k := min(per, n-b)
				var sb strings.Builder
				sb.WriteString(`INSERT INTO slots (request_id, starts_at, ends_at, capacity, taken) VALUES `)
				args := make([]any, 0, 3*k)
				for j := 0; j < k; j++ {
					if j > 0 {
						sb.WriteString(", ")
					}
					sb.WriteString("(?, ?, ?, 1, 0)")
					args = append(args, request, starts, starts+3600)
				}
				sb.WriteString(" RETURNING id")
				var got []int64
				rows, err := tx.SQL().QueryContext(ctx, r.db.X.Rebind(sb.String()), args...)
				if err != nil {
					return fmt.Errorf("bench: baseline slots: %w", err)
				}
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						rows.Close()
						return err
					}
					got = append(got, id)
				}
				if err := rows.Close(); err != nil {
					return err
				}
				if err := rows.Err(); err != nil {
					return err
				}
				batch = append(batch, got...)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		ids = append(ids, batch...)
	}
	return ids, nil
}
