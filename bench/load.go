package bench

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/flows"
)

// Kinds of events in the open workload.
const (
	kindAsk    = "ask"
	kindAccept = "accept"
	kindClaim  = "claim"
	kindDone   = "done"
	kindMine   = "mine"
)

// tally counts events by kind and outcome.
type tally struct {
	mu       sync.Mutex
	byKind   map[string]int
	events   int
	refusals int
	errors   int
}

func (t *tally) add(kind string, o outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byKind == nil {
		t.byKind = map[string]int{}
	}
	t.byKind[kind]++
	t.events++
	switch o {
	case outRefused:
		t.refusals++
	case outFailed:
		t.errors++
	}
}

func (t *tally) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.events
}

// load is phase 1: the open workload. Every person acts on average every Think
// (exponential gaps, so arrivals are a Poisson stream independent of how fast the bot
// answers), for Duration, while delivery workers send what each event committed.
//
// A requester with a helper to accept presses accept (sharing their details); one with
// nothing open asks for a meal tomorrow at noon; one waiting for a helper looks at
// /tend mine. A volunteer with a done button presses it; otherwise presses "I can help"
// on a random card the board shows open (a card may already be taken by the time they
// press: a polite refusal); with nothing on the board, looks at /tend mine.
func (r *run) load(ctx context.Context) error {
	app := r.newApp()
	if r.o.Jobs {
		runner, err := r.newRunner(app)
		if err != nil {
			return err
		}
		app.UseScheduler(runner)
		jctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := runner.Start(jctx); err != nil {
			return err
		}
		defer stopRunner(runner)
	}
	stopDelivery := app.StartDelivery(r.o.Concurrency)
	defer stopDelivery()

	var (
		lat latencies
		t   tally
		wg  sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(r.o.Duration)
	stop := r.every(PhaseLoad, start, func(p *Progress) {
		p.Events = t.count()
		p.P99 = lat.recent()
	})
	for i, p := range r.people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))
			gap := func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(r.o.Think)) }
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for next := start.Add(gap()); next.Before(end); next = next.Add(gap()) {
				if wait := time.Until(next); wait > 0 {
					timer.Reset(wait)
					select {
					case <-ctx.Done():
						return
					case <-timer.C:
					}
				}
				if ctx.Err() != nil {
					return
				}
				kind, o, d := r.act(ctx, app, p, rng)
				lat.add(d)
				t.add(kind, o)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	if err := ctx.Err(); err != nil {
		return err
	}

	p50, p95, p99, pmax := lat.summary()
	r.rep.Events = t.events
	r.rep.EventRate = perSecond(t.events, elapsed)
	r.rep.OfferedRate = round(float64(r.o.People)/r.o.Think.Seconds(), 1)
	r.rep.AckP50, r.rep.AckP95, r.rep.AckP99, r.rep.AckMax = ms(p50), ms(p95), ms(p99), ms(pmax)
	r.rep.Errors += t.errors
	r.rep.Refusals = t.refusals
	for k, v := range t.byKind {
		r.rep.EventsByKind[k] = v
	}
	// Let delivery catch up before the next phase measures (not timed), and only then
	// stop the delivery workers: nothing of this run is in flight when they stop.
	if err := r.flush(ctx, app, r.o.Concurrency, time.Minute); err != nil {
		return err
	}
	stopDelivery()
	return nil
}

// act is one arrival of person p: what they do depends on what the bot sent them.
func (r *run) act(ctx context.Context, app *bot.App, p *person, rng *rand.Rand) (string, outcome, time.Duration) {
	if p.requester {
		if b, ok := r.rec.TakeButton(p.user, flows.ActAcceptShare); ok {
			_, o, d := r.handle(ctx, app, r.event("a", p, bot.Event{Kind: bot.EventButton, InDM: true, Action: b.Action, Payload: b.Payload}))
			// Accepted, or the offer went stale: either way nothing is waiting any more.
			p.open = false
			return kindAccept, o, d
		}
		// A request nobody claimed for a long while (its card never reached the board)
		// is given up on, so the person asks again.
		if !p.open || time.Since(p.openedAt) > 30*r.o.Think {
			reply, o, d := r.handle(ctx, app, r.event("q", p, bot.Event{Kind: bot.EventForm, FormID: flows.FormAsk, Values: r.askValues(p, rng)}))
			if o == outOK && hasButton(reply, flows.ActCancel) {
				p.open, p.openedAt = true, time.Now()
			}
			return kindAsk, o, d
		}
		return r.mine(ctx, app, p)
	}
	if b, ok := r.rec.TakeButton(p.user, flows.ActDone); ok {
		_, o, d := r.handle(ctx, app, r.event("d", p, bot.Event{Kind: bot.EventButton, InDM: true, Action: b.Action, Payload: b.Payload}))
		return kindDone, o, d
	}
	if slot, ok := r.rec.RandomOpen(rng); ok {
		_, o, d := r.handle(ctx, app, r.event("c", p, bot.Event{Kind: bot.EventButton, Action: flows.ActClaim, Payload: slot}))
		return kindClaim, o, d
	}
	return r.mine(ctx, app, p)
}

func (r *run) mine(ctx context.Context, app *bot.App, p *person) (string, outcome, time.Duration) {
	_, o, d := r.handle(ctx, app, r.event("m", p, bot.Event{Kind: bot.EventCommand, Command: "mine"}))
	return kindMine, o, d
}

var summaries = []string{"Soup for two", "A hot meal after surgery", "Dinner for a family of four", "Lunch for a neighbour recovering at home"}

// askValues is an ask form as a modal submits it: a meal tomorrow at noon in the
// person's area, named on the board, with an address shared once they accept a helper.
func (r *run) askValues(p *person, rng *rand.Rand) map[string]string {
	return map[string]string{
		"category": "meal", "when": "tomorrow 12:00", "until": "13:00", "area": p.area,
		"summary": summaries[rng.IntN(len(summaries))], "address": "12 Rue Rachel Est, apt 3", "phone": "514-555-0199",
		"notes": "Ring twice; the bell is faint", "show_name": flows.ShowName, "may_share": flows.Yes, "follow_up": flows.No,
	}
}

func hasButton(reply bot.Reply, action string) bool {
	for _, m := range reply.Messages {
		for _, b := range m.Buttons {
			if b.Action == action {
				return true
			}
		}
	}
	return false
}
