package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// ErrRevealRefused is returned when a card carrying private details was addressed to a
// place that is not one person's direct messages. It is a bug guard: flows never do it.
var ErrRevealRefused = errors.New("bot: private details may only go to a direct message")

// ErrSecretRefused is returned when a card showing a one-time secret was addressed
// anywhere but the interaction's own answer, which is never stored. A bug guard too.
var ErrSecretRefused = errors.New("bot: a one-time secret may only answer the actor")

// SafetyNet is how long a row waits when this process has no adapter for its platform,
// before the sweep (here or on another replica) looks at it again.
const SafetyNet = 10 * time.Second

// commit turns a flow's result into the reply for the interaction and outbox rows for
// everything else, in the event's transaction, with the jobs the flow asked for.
func (a *App) commit(ctx context.Context, tx *store.Tx, sc scene, res flows.Result) (Reply, []int64, error) {
	reply := Reply{InDM: sc.ev.InDM}
	if err := a.forms(ctx, tx, sc, &res, &reply); err != nil {
		return reply, nil, err
	}
	if len(res.Errors) > 0 {
		reply.FieldErrors = map[string]string{}
		lang := a.lang(sc)
		card := ui.Card{Title: ui.T("form.errors")}
		for _, e := range res.Errors {
			reply.FieldErrors[e.Field] = a.localize(lang, e.Msg)
			card.Body = append(card.Body, e.Msg)
		}
		reply.Messages = append(reply.Messages, a.render(lang, card))
	}
	var members []int64
	for _, o := range res.Outs {
		if o.To.Kind == ui.ToMember {
			members = append(members, o.To.MemberID)
		}
	}
	if err := tx.PreloadMembers(ctx, members); err != nil {
		return reply, nil, err
	}
	var rows []store.OutboxRow
	for _, o := range res.Outs {
		if o.To.Kind == ui.ToActor {
			card, sealed, err := a.unseal(ctx, sc.actor.MemberID, sc.ev.InDM, o.Card)
			if err != nil {
				return reply, nil, err
			}
			// A reply that shows a sealed value is never stored, as one with private details.
			reply.private = reply.private || sealed
			msg := a.render(a.lang(sc), card)
			if o.Card.Reveal != 0 {
				// Only an undelivered direct message shown to its own reader gets here;
				// reveal checks the viewer, and the reply is never stored.
				fields, err := a.reveal(ctx, sc.actor.MemberID, a.lang(sc), o.Card.Reveal)
				if err != nil {
					return reply, nil, err
				}
				msg.Fields = append(msg.Fields, fields...)
				reply.private = true
			}
			if o.Card.CodeWord != 0 {
				fields, err := a.codeWord(ctx, sc.actor.MemberID, a.lang(sc), o.Card.CodeWord)
				if err != nil {
					return reply, nil, err
				}
				msg.Fields = append(msg.Fields, fields...)
				reply.private = true
			}
			if o.Card.Secret {
				// A one-time secret answers the actor once and is never kept for a
				// redelivery.
				reply.private = true
			}
			reply.Messages = append(reply.Messages, msg)
			continue
		}
		targets, err := a.targets(ctx, tx, sc, o.To)
		if err != nil {
			return reply, nil, err
		}
		for _, t := range targets {
			row, err := outboxRow(fmt.Sprintf("%s/%s/%s#%d", sc.ev.Platform, sc.ev.Workspace, sc.ev.ID, len(rows)+1), t, o)
			if err != nil {
				return reply, nil, err
			}
			rows = append(rows, row)
		}
	}
	ids, err := tx.EnqueueMany(ctx, rows)
	if err != nil {
		return reply, nil, err
	}
	if len(res.Jobs) > 0 {
		if a.jobs == nil {
			a.log.Warn("jobs dropped: no job queue attached", "count", len(res.Jobs))
		} else if err := a.jobs.Schedule(ctx, tx, res.Jobs); err != nil {
			return reply, nil, err
		}
	}
	return reply, ids, nil
}

// outboxRow is the row for one Out to one target; private details stay a reference.
func outboxRow(key string, t target, o ui.Out) (store.OutboxRow, error) {
	if (o.Card.Reveal != 0 || o.Card.CodeWord != 0) && (t.dest.Kind != DestDM || t.member == 0) {
		return store.OutboxRow{}, ErrRevealRefused
	}
	if o.Card.Secret {
		return store.OutboxRow{}, ErrSecretRefused
	}
	card, err := json.Marshal(o.Card)
	if err != nil {
		return store.OutboxRow{}, fmt.Errorf("bot: encode card: %w", err)
	}
	row := store.OutboxRow{IdemKey: key, Platform: t.platform, Workspace: t.dest.Workspace, DestKind: string(t.dest.Kind),
		ChannelID: t.dest.ChannelID, UserID: t.dest.UserID, UserName: t.dest.UserName, Lang: t.lang, CardKey: o.Key, Card: string(card)}
	if t.unkeyed {
		row.CardKey = ""
	}
	if t.member != 0 {
		row.MemberID.Int64, row.MemberID.Valid = t.member, true
	}
	return row, nil
}

// enqueue writes one outbox row (the outbox row is its own durable queue entry: the
// workers take it at once, and every replica's sweep takes it again after a crash).
func (a *App) enqueue(ctx context.Context, tx *store.Tx, key string, t target, o ui.Out) (int64, error) {
	row, err := outboxRow(key, t, o)
	if err != nil {
		return 0, err
	}
	return tx.Enqueue(ctx, row)
}

// kick hands freshly committed rows to the delivery workers, if they run; otherwise the
// sweep or a Flush delivers them.
func (a *App) kick(ids []int64) {
	for _, id := range ids {
		select {
		case a.kicks <- id:
		default:
			// Full: the next sweep delivers it.
		}
	}
}

// StartDelivery runs n workers that deliver rows as soon as they are committed. The
// returned stop ends them and waits for the sends in flight. Without workers (the
// console, tests), Flush delivers.
func (a *App) StartDelivery(n int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-a.kicks:
					// A send in flight finishes even when stopping: its row must not be
					// left leased with the message half out.
					if err := a.Deliver(context.WithoutCancel(ctx), id, false); err != nil {
						a.log.Debug("delivery postponed", "outbox", id, "err", err)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(SweepEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := a.sweep(ctx); err != nil && ctx.Err() == nil {
					a.log.Warn("outbox sweep failed", "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// Flush delivers every row that is due now, oldest first, and returns when none is left
// that it could take.
func (a *App) Flush(ctx context.Context) error {
	// Drop kicks: Flush is doing their work.
	for len(a.kicks) > 0 {
		<-a.kicks
	}
	return a.sweep(ctx)
}

// sweep delivers due rows until none it can take is left.
func (a *App) sweep(ctx context.Context) error {
	for {
		ids, err := a.db.Due(ctx, a.platforms(), 200)
		if err != nil || len(ids) == 0 {
			return err
		}
		progressed := false
		for _, id := range ids {
			r, ok, err := a.db.Lease(ctx, id, Lease)
			if err != nil {
				return err
			}
			if ok {
				progressed = true
				// A leased row is finished even when stopping: a cancel between the
				// platform's accept and the record of it would send it twice.
				if err := a.send(context.WithoutCancel(ctx), r, false); err != nil {
					a.log.Debug("delivery postponed", "outbox", id, "err", err)
				}
			}
		}
		if !progressed {
			return nil
		}
	}
}

// Deliver sends one outbox row if it is due and free (the job queue and the workers call
// it). It returns nil when the row is sent, already handled, or failed for good and
// handled; a *RateLimitError or another error means "try again later". final says the
// caller will not retry: a failure then is handled as permanent.
func (a *App) Deliver(ctx context.Context, id int64, final bool) error {
	r, ok, err := a.db.Lease(ctx, id, Lease)
	if err != nil {
		return err
	}
	if !ok {
		row, err := a.db.OutboxRowByID(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		case row.State == store.OutboxSent || row.State == store.OutboxFailed:
			return nil
		}
		// Someone holds it, or an older message for the same card goes first, or it is
		// waiting for its back-off: try again later (the sweep also will).
		return ErrBusy
	}
	return a.send(ctx, r, final)
}

// ErrBusy says an outbox row could not be taken now; it will be delivered later.
var ErrBusy = errors.New("bot: outbox row is not free yet")

// Lease is how long a sender holds a row; a sender that crashed loses it after this.
const Lease = 30 * time.Second

// SweepEvery is how often delivery workers look for rows that are due and free (back-
// offs that ended, leases of crashed senders).
const SweepEvery = 2 * time.Second

// MaxAttempts is how many times a message is tried before it counts as undeliverable
// and its reader or the moderators are told instead.
const MaxAttempts = 10

// send renders a leased row for its reader and hands it to the adapter.
func (a *App) send(ctx context.Context, r store.OutboxRow, final bool) error {
	final = final || r.Attempts >= MaxAttempts
	ad, ok := a.adapters[r.Platform]
	if !ok {
		// Another replica may serve this platform; give it back.
		return a.db.Retry(ctx, r.ID, a.db.Now().Add(SafetyNet), "no adapter here")
	}
	if until, paused := a.paused(r.Platform); paused {
		// The platform asked everyone to wait: don't spend a request finding out again.
		if err := a.db.Retry(ctx, r.ID, until, "platform rate limit"); err != nil {
			return err
		}
		return &RateLimitError{RetryAfter: until.Sub(a.db.Now())}
	}
	d, err := a.renderRow(ctx, r)
	if err != nil {
		return a.failed(ctx, r, err)
	}
	msgID, err := a.transmit(ctx, ad, r, d)
	var rl *RateLimitError
	switch {
	case err == nil:
		a.metrics.Delivery(r.Platform, "sent")
		if err := a.db.Sent(ctx, r.ID, msgID); err != nil {
			return err
		}
		if r.CardKey != "" && msgID != "" {
			return a.db.RememberPosted(ctx, store.Posted{Platform: r.Platform, Workspace: r.Workspace, CardKey: r.CardKey, ChannelID: r.ChannelID, MessageID: msgID})
		}
		return nil
	case errors.Is(err, ErrPermanent) || final:
		return a.failed(ctx, r, err)
	case errors.As(err, &rl):
		a.metrics.Delivery(r.Platform, "rate_limited")
		if rl.Bucket == "" {
			a.pause(r.Platform, a.db.Now().Add(rl.RetryAfter))
		}
		if rerr := a.db.Retry(ctx, r.ID, a.db.Now().Add(rl.RetryAfter), "rate limited"); rerr != nil {
			return rerr
		}
		return err
	default:
		a.metrics.Delivery(r.Platform, "retry")
		if rerr := a.db.Retry(ctx, r.ID, a.db.Now().Add(backoff(r.Attempts)), err.Error()); rerr != nil {
			return rerr
		}
		return err
	}
}

// transmit sends or, for a card already posted, edits in place.
func (a *App) transmit(ctx context.Context, ad Adapter, r store.OutboxRow, d Delivery) (string, error) {
	if ed, ok := ad.(Editor); ok && r.CardKey != "" {
		p, err := a.db.PostedMessage(ctx, r.Platform, r.Workspace, r.CardKey)
		if err == nil {
			d.To.ChannelID = p.ChannelID
			return p.MessageID, ed.Edit(ctx, d, p.MessageID)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	if d.To.Kind == DestDM {
		if dm, ok := ad.(DirectMessenger); !ok || !dm.CanDM() {
			return "", fmt.Errorf("%w: %s cannot send direct messages", ErrPermanent, ad.Platform())
		}
	}
	return ad.Send(ctx, d)
}

// backoff is exponential with jitter: about 1 s, 2 s, 4 s... up to 5 minutes.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 9)
	d = min(d, 5*time.Minute)
	return d/2 + time.Duration(jitter(int64(d/2)))
}

// renderRow decodes a row's card and renders it, decrypting private details now.
func (a *App) renderRow(ctx context.Context, r store.OutboxRow) (Delivery, error) {
	var card ui.Card
	if err := json.Unmarshal([]byte(r.Card), &card); err != nil {
		return Delivery{}, fmt.Errorf("bot: outbox %d card: %w", r.ID, err)
	}
	card, _, err := a.unseal(ctx, r.MemberID.Int64, r.DestKind == string(DestDM), card)
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Key: r.IdemKey, Msg: a.render(r.Lang, card),
		To: Destination{Kind: DestKind(r.DestKind), Workspace: r.Workspace, ChannelID: r.ChannelID, UserID: r.UserID, UserName: r.UserName}}
	if card.Reveal != 0 {
		if d.To.Kind != DestDM || !r.MemberID.Valid {
			return d, ErrRevealRefused
		}
		fields, err := a.reveal(ctx, r.MemberID.Int64, r.Lang, card.Reveal)
		if err != nil {
			return d, err
		}
		d.Msg.Fields = append(d.Msg.Fields, fields...)
	}
	if card.CodeWord != 0 {
		if d.To.Kind != DestDM || !r.MemberID.Valid {
			return d, ErrRevealRefused
		}
		fields, err := a.codeWord(ctx, r.MemberID.Int64, r.Lang, card.CodeWord)
		if err != nil {
			return d, err
		}
		d.Msg.Fields = append(d.Msg.Fields, fields...)
	}
	return d, nil
}

// reveal decrypts the private details a disclosure row allows, only for the very member
// the disclosure names as viewer.
func (a *App) reveal(ctx context.Context, viewer int64, lang string, disclosure int64) ([]RenderedField, error) {
	var fields []RenderedField
	err := a.inEvent(ctx, func(tx *store.Tx) error {
		if _, err := viewerDisclosure(ctx, tx, disclosure, viewer); err != nil {
			return err
		}
		p, err := tx.DisclosedPrivate(ctx, disclosure)
		if err != nil {
			return err
		}
		fields = a.revealFields(lang, p)
		return nil
	})
	return fields, err
}

func actorDest(ev Event) Destination {
	if ev.InDM {
		return Destination{Kind: DestDM, Workspace: ev.Workspace, UserID: ev.UserID, UserName: ev.UserName}
	}
	return Destination{Kind: DestEphemeral, Workspace: ev.Workspace, ChannelID: ev.ChannelID, UserID: ev.UserID, UserName: ev.UserName}
}

// viewerDisclosure loads a disclosure row and checks that it names viewer.
func viewerDisclosure(ctx context.Context, tx *store.Tx, id, viewer int64) (store.Disclosure, error) {
	d, err := tx.Disclosure(ctx, id)
	if err != nil {
		return d, err
	}
	if d.ViewerMemberID != viewer {
		return d, ErrRevealRefused
	}
	return d, nil
}

// pause holds every delivery on a platform until a global rate limit has passed; a
// limit on one route or channel only holds the row that met it.
func (a *App) pause(platform string, until time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if until.After(a.pausedUntil[platform]) {
		a.pausedUntil[platform] = until
	}
}

func (a *App) paused(platform string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.pausedUntil[platform]
	return until, ok && until.After(a.db.Now())
}

// platforms lists the platforms this App has adapters for; it delivers only theirs.
func (a *App) platforms() []string {
	out := make([]string, 0, len(a.adapters))
	for p := range a.adapters {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
