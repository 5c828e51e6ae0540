package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// claims is phase 2: closed-loop claims per second at saturation. Concurrency workers
// press "I can help" as fast as the bot answers, each press on a different open
// single-slot request, so every press should succeed. Delivery is paused (this App has
// no delivery workers yet), so the outbox backlog builds up for phase 4.
func (r *run) claims(ctx context.Context) error {
	app := r.newApp()
	r.app2 = app
	if r.o.Jobs {
		runner, err := r.newRunner(app)
		if err != nil {
			return err
		}
		// Written to in each claim's transaction; started only in the drain phase.
		app.UseScheduler(runner)
		r.runner2 = runner
	}
	phase := r.o.Duration / 2

	// A short warm-up sizes the pool of requests: enough for the measured run at the
	// warm-up's pace with room to spare. Running out early only shortens the run.
	warm, err := r.createRequests(ctx, max(400, 100*r.o.Concurrency))
	if err != nil {
		return err
	}
	n, _, _, el, _ := r.claimLoop(ctx, app, warm, min(time.Second, phase/4), nil)
	if err := ctx.Err(); err != nil {
		return err
	}
	rate := float64(n) / max(el.Seconds(), 0.001)
	size := min(int(rate*phase.Seconds()*1.5)+50*r.o.Concurrency, 300000)
	slots, err := r.createRequests(ctx, size)
	if err != nil {
		return err
	}

	var lat latencies
	start := time.Now()
	var done atomic.Int64
	stop := r.every(PhaseClaims, start, func(p *Progress) { p.Events = int(done.Load()) })
	ok, refused, failed, elapsed, sample := r.claimLoop(ctx, app, slots, phase, func(o outcome, d time.Duration) {
		lat.add(d)
		if o == outOK {
			done.Add(1)
		}
	})
	stop()
	if err := ctx.Err(); err != nil {
		return err
	}
	p50, _, p99, _ := lat.summary()
	r.rep.Claims, r.rep.ClaimRefusals, r.rep.ClaimErrors = ok, refused, failed
	r.rep.Errors += failed
	r.rep.ClaimSeconds = round(elapsed.Seconds(), 3)
	r.rep.ClaimsPerS = perSecond(ok, elapsed)
	r.rep.ClaimP50, r.rep.ClaimP99 = ms(p50), ms(p99)
	r.sample = sample
	if sample == "" {
		r.errMu.Lock()
		defer r.errMu.Unlock()
		return fmt.Errorf("bench: no claim succeeded (%d refused, %d failed): %s", refused, failed, r.firstErr)
	}
	return nil
}

// claimLoop runs the closed loop over slots for at most d and returns the successful
// claims, refusals, failures, the time taken and the event id of one successful claim.
func (r *run) claimLoop(ctx context.Context, app *bot.App, slots []int64, d time.Duration, each func(outcome, time.Duration)) (ok, refused, failed int, elapsed time.Duration, sample string) {
	var (
		nOK, nRef, nKO atomic.Int64
		sampleOnce     sync.Once
	)
	start := time.Now()
	r.closedLoop(ctx, start.Add(d), len(slots), func(i int) {
		v := r.volunteers[i%len(r.volunteers)]
		ev := r.event("k", v, bot.Event{Kind: bot.EventButton, Action: flows.ActClaim, Payload: strconv.FormatInt(slots[i], 10)})
		_, o, took := r.handle(ctx, app, ev)
		switch o {
		case outOK:
			nOK.Add(1)
			sampleOnce.Do(func() { sample = ev.ID })
		case outRefused:
			nRef.Add(1)
		default:
			nKO.Add(1)
		}
		if each != nil {
			each(o, took)
		}
	})
	return int(nOK.Load()), int(nRef.Load()), int(nKO.Load()), time.Since(start), sample
}

// closedLoop runs Concurrency workers that call work on items 0, 1, 2... as fast as they
// can, until n items are done or the deadline passes; it returns when all have stopped.
func (r *run) closedLoop(ctx context.Context, deadline time.Time, n int, work func(i int)) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for w := 0; w < r.o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				work(i)
			}
		}()
	}
	wg.Wait()
}

// createRequests writes n open single-slot meal requests through the store, spread over
// the requesters, each with a sealed private part as a real ask has, and returns their
// slots.
func (r *run) createRequests(ctx context.Context, n int) ([]int64, error) {
	const batch = 200
	starts := time.Now().Add(24 * time.Hour).Truncate(time.Hour).Unix()
	slots := make([]int64, n)
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for w := 0; w < min(4, r.o.Concurrency); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := int(next.Add(batch)) - batch
				if from >= n || ctx.Err() != nil {
					return
				}
				to := min(from+batch, n)
				err := r.db.InTx(ctx, func(tx *store.Tx) error {
					for i := from; i < to; i++ {
						p := r.requesters[i%len(r.requesters)]
						id, err := tx.CreateRequest(ctx, store.NewRequest{CommunityID: r.comm, RequesterID: p.member, Category: "meal",
							Summary: summaries[i%len(summaries)], Area: p.area, StartsAt: starts, EndsAt: starts + 3600, ShowName: true,
							MayShare: true, Slots: 1, Private: store.Private{Address: "12 Rue Rachel Est, apt 3", Phone: "514-555-0199"}})
						if err != nil {
							return err
						}
						ss, err := tx.SlotsOfRequest(ctx, id)
						if err != nil {
							return err
						}
						slots[i] = ss[0].ID
					}
					return nil
				})
				if err != nil {
					errOnce.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return slots, ctx.Err()
}
