package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// Platform names the job queue in the inbox, where each job run is recorded like an
// event so a job the queue retries after a crash changes nothing twice.
const jobPlatform = "job"

// How long delivery records are kept: long enough to recognise any redelivery a platform
// makes and to show an undelivered message to its reader.
const (
	KeepDelivered   = 7 * 24 * time.Hour
	KeepUndelivered = 30 * 24 * time.Hour
)

// RunJob runs a scheduled flow job once (the job queue calls it). Its messages go
// through the outbox in the same transaction as its changes and its inbox row.
func (a *App) RunJob(ctx context.Context, job flows.Job, key string) error {
	return a.background(ctx, key, func(ctx context.Context) (flows.Result, error) {
		return a.flows.RunJob(ctx, job)
	})
}

// Periodic runs a periodic task ("digest", "purge") once per period key.
func (a *App) Periodic(ctx context.Context, task, key string) error {
	switch task {
	case "digest":
		ids, err := a.flows.Communities(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := a.background(ctx, fmt.Sprintf("%s/%d", key, id), func(ctx context.Context) (flows.Result, error) {
				return a.flows.Digest(ctx, id)
			}); err != nil {
				return err
			}
		}
		return nil
	case "purge":
		err := a.background(ctx, key, func(ctx context.Context) (flows.Result, error) {
			counts, err := a.flows.Purge(ctx, a.db.Now())
			if err == nil {
				a.log.Info("retention purge", "requests", counts.Requests, "claims", counts.Claims, "dialogues", counts.Dialogues)
			}
			return flows.Result{}, err
		})
		if err != nil {
			return err
		}
		in, out, err := a.db.Prune(ctx, KeepDelivered, KeepUndelivered)
		if err == nil {
			a.log.Info("delivery records pruned", "inbox", in, "outbox", out)
		}
		return err
	}
	return fmt.Errorf("bot: unknown periodic task %q", task)
}

// background runs fn as a job: once per key, in one transaction with its outbox rows
// and the jobs it schedules, then starts delivery.
func (a *App) background(ctx context.Context, key string, fn func(context.Context) (flows.Result, error)) error {
	var ids []int64
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		ids = nil
		fresh, _, err := tx.ClaimEvent(ctx, jobPlatform, "", key)
		if err != nil || !fresh {
			return err
		}
		tctx := store.WithTx(ctx, tx)
		res, err := fn(tctx)
		if err != nil {
			return err
		}
		sc := scene{ev: Event{ID: key, Platform: jobPlatform}}
		_, ids, err = a.commit(tctx, tx, sc, res)
		return err
	})
	if err != nil {
		return fmt.Errorf("bot: job %s: %w", key, err)
	}
	a.kick(ids)
	return nil
}

// RunOnce runs a flow step from outside a chat event (the command line) as a job does:
// once per key, in one transaction with the messages it sends, queued in the outbox for
// the running bot to deliver.
func (a *App) RunOnce(ctx context.Context, key string, fn func(context.Context) (flows.Result, error)) error {
	return a.background(ctx, key, fn)
}
