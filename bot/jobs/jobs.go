// Package jobs is tend's durable job runner: River (github.com/riverqueue/river) over the
// same database as the store, so a job is written in the transaction of the change that
// calls for it, survives restarts, and runs once across replicas (River locks the rows it
// fetches). It runs the flows' scheduled jobs (nudge, escalate, expire, remind,
// follow_up) and the periodic digest and retention purge. Outbox deliveries are not jobs:
// the outbox table is its own durable queue (see the bot's delivery workers and sweep).
//
// The runner knows nothing about platforms or flows' insides: a Handler (the bot's App)
// does the work. Job arguments hold ids and times only, never a private detail.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// Handler does the work of each job. The bot's App implements it.
type Handler interface {
	// RunJob runs a scheduled flow job once; key is unique per River job
	// ("job:<kind>:<river id>") for idempotency.
	RunJob(ctx context.Context, job flows.Job, key string) error
	// Periodic runs a periodic task (TaskDigest daily, TaskPurge hourly) with an
	// idempotency key for that period ("purge:2026-11-25T09", "digest:2026-11-25").
	Periodic(ctx context.Context, task string, key string) error
}

// Periodic tasks.
const (
	TaskDigest = "digest"
	TaskPurge  = "purge"
)

// Kinds of River jobs besides the flows' own (flows.JobNudge and the others).
const (
	KindDigest = TaskDigest
	KindPurge  = TaskPurge
	// KindTask carries the flow jobs that have no kind of their own.
	KindTask = "flow_task"
)

// QueueDefault is the one queue every job runs on.
const QueueDefault = river.QueueDefault

// Retries.
const (
	// flowMaxAttempts and periodicMaxAttempts bound the retries of the jobs with River's
	// default back-off (attempt^4 seconds: about 1h20 over 8 attempts).
	flowMaxAttempts     = 8
	periodicMaxAttempts = 5
)

// Options tune the runner. The zero value is usable.
type Options struct {
	// PollInterval is how often the queue looks for due jobs (database/sql drivers
	// have no LISTEN/NOTIFY, so the runner polls). Default 100ms.
	PollInterval time.Duration
	// Workers is the number of jobs run at once. Default 10.
	Workers int
	// Periodic runs the daily digest and the hourly retention purge (the River leader
	// enqueues them, so one replica does).
	Periodic bool
	// DigestAt is the time of day, in UTC, of the daily digest. Default 13:00 UTC
	// (morning in the Americas, afternoon in Europe).
	DigestAt time.Duration
	// Logger receives job failures (kind and job id only). Nil discards.
	Logger *slog.Logger
	// Metrics counts job failures; may be nil.
	Metrics interface{ JobFailed(kind string) }
	// JobTimeout bounds one run of a job; its context is cancelled then. Default 20s: every
	// job is one short transaction.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken for lost (its
	// process died, kill -9) and run again; it must exceed JobTimeout. Default 45s, so a
	// job lost in a crash runs again within about a minute and a quarter.
	// The leader looks for such jobs when it starts and every 30 seconds.
	RescueAfter time.Duration
}

// Runner is the job queue: it schedules jobs in store transactions and works them.
type Runner struct {
	client  *river.Client[*sql.Tx]
	db      *store.DB
	h       Handler
	log     *slog.Logger
	metrics interface{ JobFailed(kind string) }
}

// New builds a runner on db for h. It does not start working jobs until Start.
func New(db *store.DB, h Handler, o Options) (*Runner, error) {
	if db == nil || h == nil {
		return nil, errors.New("jobs: a database and a handler are required")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.Workers <= 0 {
		o.Workers = 10
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 20 * time.Second
	}
	if o.RescueAfter <= o.JobTimeout {
		o.RescueAfter = max(45*time.Second, 2*o.JobTimeout)
	}
	if o.DigestAt <= 0 || o.DigestAt >= 24*time.Hour {
		o.DigestAt = 13 * time.Hour
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{db: db, h: h, log: log, metrics: o.Metrics}

	workers := river.NewWorkers()
	river.AddWorker(workers, &flowWorker[NudgeArgs]{r: r})
	river.AddWorker(workers, &flowWorker[EscalateArgs]{r: r})
	river.AddWorker(workers, &flowWorker[ExpireArgs]{r: r})
	river.AddWorker(workers, &flowWorker[RemindArgs]{r: r})
	river.AddWorker(workers, &flowWorker[FollowUpArgs]{r: r})
	river.AddWorker(workers, &taskWorker{r: r})
	river.AddWorker(workers, &periodicWorker[DigestArgs]{r: r})
	river.AddWorker(workers, &periodicWorker[PurgeArgs]{r: r})

	// Each fetch waits at least this long after the previous one; a quarter of the poll
	// interval keeps a busy queue draining while an idle one costs one query a poll.
	cooldown := min(max(o.PollInterval/4, time.Millisecond), 100*time.Millisecond)
	queue := river.QueueConfig{MaxWorkers: o.Workers, FetchPollInterval: o.PollInterval, FetchCooldown: cooldown}
	cfg := &river.Config{
		// River's own log lines carry error strings; only its warnings and errors
		// (which are about River itself) go through, and failures are logged below
		// with ids only.
		Logger:            slog.New(minLevel{log.Handler(), slog.LevelWarn}),
		PollOnly:          true,
		FetchPollInterval: o.PollInterval,
		FetchCooldown:     cooldown,
		Queues:            map[string]river.QueueConfig{QueueDefault: queue},
		Workers:           workers,
		ErrorHandler:      &errorHandler{r: r},
		MaxAttempts:       flowMaxAttempts,
		JobTimeout:        o.JobTimeout,
		// A job left running by a process that died is run again after this; the
		// handler's idempotency key is the same on that run.
		RescueStuckJobsAfter: o.RescueAfter,
	}
	if o.Periodic {
		cfg.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(dailyAt(o.DigestAt), func() (river.JobArgs, *river.InsertOpts) {
				return DigestArgs{}, nil
			}, &river.PeriodicJobOpts{ID: TaskDigest}),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
				return PurgeArgs{}, nil
			}, &river.PeriodicJobOpts{ID: TaskPurge, RunOnStart: true}),
		}
	}
	client, err := river.NewClient(db.JobDriver(), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	r.client = client
	return r, nil
}

// Schedule inserts flow jobs in the caller's transaction, so they exist exactly when the
// change that called for them commits. A job whose At has passed runs now. Scheduling
// the same (kind, ref, at) twice inserts it once.
func (r *Runner) Schedule(ctx context.Context, tx *store.Tx, jobs []flows.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(jobs))
	for _, j := range jobs {
		args, err := argsFor(j)
		if err != nil {
			return err
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{ScheduledAt: scheduledAt(time.Unix(j.At, 0))}})
	}
	if _, err := r.client.InsertManyTx(ctx, tx.SQL(), params); err != nil {
		return fmt.Errorf("jobs: schedule: %w", err)
	}
	return nil
}

// scheduledAt leaves a due time unset so River makes the job available at once; River
// marks every job with an explicit time "scheduled", and only the leader's scheduler
// (every few seconds) would release it.
func scheduledAt(at time.Time) time.Time {
	if at.IsZero() || !at.After(time.Now()) {
		return time.Time{}
	}
	return at
}

// Start starts working jobs. Cancelling ctx stops the runner as Stop does, without a
// bound on running jobs.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish. When ctx ends first,
// running jobs are cancelled (River makes them available again for the next start) and
// ctx's error is returned.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.client.StopAndCancel(cctx)
	return ctx.Err()
}

func argsFor(j flows.Job) (river.JobArgs, error) {
	a := refArgs{Ref: j.Ref, At: j.At}
	switch j.Kind {
	case flows.JobNudge:
		return NudgeArgs(a), nil
	case flows.JobEscalate:
		return EscalateArgs(a), nil
	case flows.JobExpire:
		return ExpireArgs(a), nil
	case flows.JobRemind:
		return RemindArgs(a), nil
	case flows.JobFollowUp:
		return FollowUpArgs(a), nil
	}
	if j.Kind == "" {
		return nil, errors.New("jobs: a flow job without a kind")
	}
	return TaskArgs{Task: j.Kind, Ref: j.Ref, At: j.At}, nil
}

// TaskArgs: any other flow job (re-alerts of a case, an overdue visit): the flow's own
// kind travels in the arguments, so a flow area adds jobs without a River kind of its
// own.
type TaskArgs struct {
	Task string `json:"task"`
	Ref  int64  `json:"ref"`
	At   int64  `json:"at"`
}

// Kind is the River job kind.
func (TaskArgs) Kind() string { return KindTask }

// InsertOpts are the kind's defaults: unique per (task, ref, at).
func (TaskArgs) InsertOpts() river.InsertOpts { return flowInsertOpts }

// taskWorker runs a TaskArgs job through the handler under its flow kind.
type taskWorker struct {
	river.WorkerDefaults[TaskArgs]
	r *Runner
}

func (w *taskWorker) Work(ctx context.Context, job *river.Job[TaskArgs]) error {
	a := job.Args
	return w.r.h.RunJob(ctx, flows.Job{Kind: a.Task, Ref: a.Ref, At: a.At}, "job:"+a.Task+":"+strconv.FormatInt(job.ID, 10))
}

// refArgs are the arguments of every flow job: the row it is about and the time it was
// due. The due time is part of the arguments so that uniqueness is per (kind, ref, at):
// a reminder a day before and one an hour before are two jobs, the same one scheduled
// twice is one.
type refArgs struct {
	Ref int64 `json:"ref"`
	At  int64 `json:"at"`
}

var flowInsertOpts = river.InsertOpts{
	Queue:       QueueDefault,
	MaxAttempts: flowMaxAttempts,
	UniqueOpts:  river.UniqueOpts{ByArgs: true},
}

// NudgeArgs: remind matching volunteers of an unclaimed request (Ref: request id).
type NudgeArgs refArgs

// Kind is the River job kind.
func (NudgeArgs) Kind() string { return flows.JobNudge }

// InsertOpts are the kind's defaults.
func (NudgeArgs) InsertOpts() river.InsertOpts { return flowInsertOpts }

// EscalateArgs: tell the moderators a request is still unclaimed (Ref: request id).
type EscalateArgs refArgs

// Kind is the River job kind.
func (EscalateArgs) Kind() string { return flows.JobEscalate }

// InsertOpts are the kind's defaults.
func (EscalateArgs) InsertOpts() river.InsertOpts { return flowInsertOpts }

// ExpireArgs: close a request whose window has passed (Ref: request id).
type ExpireArgs refArgs

// Kind is the River job kind.
func (ExpireArgs) Kind() string { return flows.JobExpire }

// InsertOpts are the kind's defaults.
func (ExpireArgs) InsertOpts() river.InsertOpts { return flowInsertOpts }

// RemindArgs: remind helper and requester before a claimed slot (Ref: claim id).
type RemindArgs refArgs

// Kind is the River job kind.
func (RemindArgs) Kind() string { return flows.JobRemind }

// InsertOpts are the kind's defaults.
func (RemindArgs) InsertOpts() river.InsertOpts { return flowInsertOpts }

// FollowUpArgs: ask the requester how it went (Ref: request id).
type FollowUpArgs refArgs

// Kind is the River job kind.
func (FollowUpArgs) Kind() string { return flows.JobFollowUp }

// InsertOpts are the kind's defaults.
func (FollowUpArgs) InsertOpts() river.InsertOpts { return flowInsertOpts }

// DigestArgs: the daily digest of open requests on each board.
type DigestArgs struct{}

// Kind is the River job kind.
func (DigestArgs) Kind() string { return KindDigest }

// InsertOpts: one digest a day, whichever replica leads.
func (DigestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: periodicMaxAttempts,
		UniqueOpts: river.UniqueOpts{ByPeriod: 24 * time.Hour}}
}

// PurgeArgs: the hourly retention purge.
type PurgeArgs struct{}

// Kind is the River job kind.
func (PurgeArgs) Kind() string { return KindPurge }

// InsertOpts: one purge an hour, however often a leader starts.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: periodicMaxAttempts,
		UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// flowWorker runs one kind of flow job through the handler.
type flowWorker[T interface {
	river.JobArgs
	~struct {
		Ref int64 `json:"ref"`
		At  int64 `json:"at"`
	}
}] struct {
	river.WorkerDefaults[T]
	r *Runner
}

func (w *flowWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	a := refArgs(job.Args)
	return w.r.h.RunJob(ctx, flows.Job{Kind: job.Kind, Ref: a.Ref, At: a.At}, "job:"+job.Kind+":"+strconv.FormatInt(job.ID, 10))
}

// periodicWorker runs a periodic task with a key naming its period.
type periodicWorker[T interface {
	river.JobArgs
	~struct{}
}] struct {
	river.WorkerDefaults[T]
	r *Runner
}

func (w *periodicWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	return w.r.h.Periodic(ctx, job.Kind, periodKey(job.Kind, job.ScheduledAt))
}

// periodKey names the period a periodic job belongs to: the day of a digest, the hour of
// a purge, in UTC.
func periodKey(task string, at time.Time) string {
	at = at.UTC()
	if task == TaskPurge {
		return task + ":" + at.Truncate(time.Hour).Format("2006-01-02T15")
	}
	return task + ":" + at.Format("2006-01-02")
}

// dailyAt is a schedule that fires once a day at a fixed time of day in UTC, so restarts
// do not push the digest back as an interval from start would.
type dailyAt time.Duration

func (d dailyAt) Next(t time.Time) time.Time {
	t = t.UTC()
	next := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Add(time.Duration(d))
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}

// errorHandler counts and logs failed attempts: kind and ids only, never arguments or
// error text (which could one day echo a platform's answer).
type errorHandler struct{ r *Runner }

func (e *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, _ error) *river.ErrorHandlerResult {
	e.r.failed(ctx, job, "error")
	return nil
}

func (e *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, _ any, _ string) *river.ErrorHandlerResult {
	e.r.failed(ctx, job, "panic")
	return nil
}

func (r *Runner) failed(ctx context.Context, job *rivertype.JobRow, how string) {
	if r.metrics != nil {
		r.metrics.JobFailed(job.Kind)
	}
	r.log.WarnContext(ctx, "job failed", slog.String("kind", job.Kind), slog.Int64("job_id", job.ID),
		slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts), slog.String("outcome", how))
}

// minLevel passes on records at or above a level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(as), m.level}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.level}
}
