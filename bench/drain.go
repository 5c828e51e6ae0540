package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// drain is phase 4: the delivery workers start (App.StartDelivery: workers for the rows
// kicked to them as they were committed, and a sweep for every other due row; with
// --jobs the job queue's delivery jobs as well) and the rate is the backlog phase 2 left
// over the time until none of this run's rows is left undelivered.
func (r *run) drain(ctx context.Context) error {
	app := r.app2
	if app == nil {
		return nil
	}
	backlog, err := r.ourBacklog(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	if r.runner2 != nil {
		jctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := r.runner2.Start(jctx); err != nil {
			return err
		}
		defer stopRunner(r.runner2)
	}
	stopDelivery := app.StartDelivery(r.o.Concurrency)
	defer stopDelivery()
	var left atomic.Int64
	left.Store(int64(backlog))
	stop := r.every(PhaseDrain, start, func(p *Progress) {
		p.Backlog = int(left.Load())
		p.Events = backlog - p.Backlog
	})
	defer stop()
	timeout := max(time.Minute, 10*r.o.Duration)
	for {
		n, err := r.ourBacklog(ctx)
		if err != nil {
			return err
		}
		left.Store(int64(n))
		if n == 0 {
			break
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("bench: %d of %d outbox rows still undelivered after %s", n, backlog, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		// Counting is a scan of this run's rows: often enough for a rate over seconds,
		// rarely enough not to compete with the delivery it measures.
		case <-time.After(100 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	r.rep.DrainRows = backlog
	r.rep.DrainSeconds = round(elapsed.Seconds(), 3)
	r.rep.DrainPerS = perSecond(backlog, elapsed)
	return nil
}
