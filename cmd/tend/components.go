package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	discordad "github.com/tend-community/tend/adapters/discord"
	"github.com/tend-community/tend/adapters/loopback"
	mattermostad "github.com/tend-community/tend/adapters/mattermost"
	slackad "github.com/tend-community/tend/adapters/slack"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/jobs"
	"github.com/tend-community/tend/store"
)

// EnvLoopbackURL is where the loopback adapter delivers messages (POST).
const EnvLoopbackURL = "TEND_LOOPBACK_URL"

// deliveryWorkers is how many goroutines send committed messages at once.
const deliveryWorkers = 8

// servedPlatforms are the platforms serve connects to: those of the config's spaces,
// those of spaces bound from chat or the command line, and those whose tokens are all
// set, so that a deployment can be set up from chat before any space is bound.
func servedPlatforms(ctx context.Context, env *serveEnv) (map[string]int, error) {
	out := usedPlatforms(env.cfg)
	err := env.db.InTx(ctx, func(tx *store.Tx) error {
		bound, err := tx.BoundPlatforms(ctx)
		for p, n := range bound {
			if p != "console" {
				out[p] += n
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	ready := map[string]bool{}
	for _, t := range env.cfg.PlatformTokens() {
		if !t.Needed {
			continue
		}
		if _, seen := ready[t.Platform]; !seen {
			ready[t.Platform] = true
		}
		ready[t.Platform] = ready[t.Platform] && t.Set && t.Err == nil
	}
	for p, ok := range ready {
		if _, listed := out[p]; ok && !listed {
			out[p] = 0
		}
	}
	return out, nil
}

// platformComponents builds what serve runs: the job queue, the delivery workers, the
// outbox gauges and every platform adapter this build has for the configured spaces.
// With no adapter to run it builds nothing, and serve says what is missing.
func platformComponents(env *serveEnv) ([]component, error) {
	var (
		adapters []bot.Adapter
		sl       *slackad.Adapter
		dc       *discordad.Adapter
		mm       *mattermostad.Adapter
	)
	served, err := servedPlatforms(context.Background(), env)
	if err != nil {
		return nil, err
	}
	// In a fixed order, so that the first problem reported is the same on every run.
	for _, platform := range slices.Sorted(maps.Keys(served)) {
		switch platform {
		case loopback.Platform:
			url, err := env.cfg.Secret(EnvLoopbackURL)
			if err != nil {
				return nil, err
			}
			if url == "" {
				return nil, fmt.Errorf("the loopback platform needs %s (where to deliver messages)", EnvLoopbackURL)
			}
			adapters = append(adapters, loopback.New(url, nil))
		case slackad.Platform:
			ad, err := slackAdapter(env)
			if err != nil {
				return nil, err
			}
			sl = ad
			adapters = append(adapters, ad)
		case discordad.Platform:
			ad, err := discordAdapter(env.cfg, env.log, env.t)
			if err != nil {
				return nil, err
			}
			dc = ad
			adapters = append(adapters, ad)
		case mattermostad.Platform:
			ad, err := mattermostAdapter(env.cfg, env.log, env.t, true)
			if err != nil {
				return nil, err
			}
			mm = ad
			adapters = append(adapters, ad)
		default:
			env.log.Warn("no adapter for this platform in this build; its spaces are not served", "platform", platform)
		}
	}
	if len(adapters) == 0 {
		return nil, nil
	}
	configRoles, err := communityRoles(context.Background(), env.db, env.cfg.Communities)
	if err != nil {
		return nil, err
	}
	groups := &slackRoles{ad: sl, log: env.log}
	platformRoles := map[string]func(user string) (bool, bool){slackad.Platform: groups.of}
	if dc != nil {
		platformRoles[discordad.Platform] = dc.Roles
	}
	if mm != nil {
		platformRoles[mattermostad.Platform] = mm.Roles
	}
	roles := mergeRoles(configRoles, platformRoles)
	app := bot.New(bot.Options{DB: env.db, Catalog: env.cat, Logger: env.log, Roles: roles, Metrics: env.metrics})
	for _, ad := range adapters {
		app.Attach(ad)
	}
	if err := safetyFor(context.Background(), app, env.db, env.cfg.Communities, env.log); err != nil {
		return nil, err
	}
	runner, err := jobs.New(env.db, app, jobs.Options{Periodic: true, Logger: env.log, Metrics: env.metrics})
	if err != nil {
		return nil, err
	}
	app.UseScheduler(runner)
	comps := []component{
		&jobsComponent{runner: runner},
		&deliveryComponent{app: app},
		&backlogComponent{db: env.db, metrics: env.metrics},
	}
	for _, ad := range adapters {
		if ad.Platform() == loopback.Platform {
			in := &intakeComponent{name: "loopback intake", handler: loopback.Intake(app)}
			env.routes["/loopback/events"] = in
			comps = append(comps, in)
		}
	}
	if sl != nil {
		comps = append(comps, groups)
		if env.cfg.Slack.Mode == slackad.ModeHTTP {
			in := &intakeComponent{name: "slack http", handler: sl.HTTPHandler(app)}
			env.routes["/slack/"] = in
			comps = append(comps, in)
		} else {
			comps = append(comps, &connComponent{name: "slack socket mode", run: sl.Run, h: app, env: env})
		}
	}
	if dc != nil {
		comps = append(comps, &connComponent{name: "discord gateway", run: dc.Run, h: app, env: env})
	}
	if mm != nil {
		// Mattermost calls tend's HTTP listener for the slash command, buttons and
		// dialogs; what people write to the bot comes over the websocket.
		in := &intakeComponent{name: "mattermost http", handler: mm.HTTPHandler(app)}
		env.routes[mattermostad.PathPrefix] = in
		comps = append(comps, &mattermostRuntime{ad: mm, teams: mattermostTeams(env.cfg), log: env.log}, in,
			&connComponent{name: "mattermost websocket", run: mm.Run, h: app, env: env})
	}
	return comps, nil
}

// mergeRoles adds the roles a platform grants (members of Slack user groups, holders of
// Discord server roles) to those the config names: either source makes a moderator or a
// vetted volunteer.
func mergeRoles(configRoles bot.Roles, platformRoles map[string]func(user string) (bool, bool)) bot.Roles {
	return func(community int64, platform, user string) (bool, bool) {
		mod, vetted := configRoles(community, platform, user)
		if of := platformRoles[platform]; of != nil {
			pm, pv := of(user)
			mod, vetted = mod || pm, vetted || pv
		}
		return mod, vetted
	}
}

// slackAdapter builds the Slack adapter from the config and the secrets.
func slackAdapter(env *serveEnv) (*slackad.Adapter, error) {
	get := func(name string) (string, error) { return env.cfg.Secret(name) }
	botToken, err := get("TEND_SLACK_BOT_TOKEN")
	if err != nil {
		return nil, err
	}
	appToken, err := get("TEND_SLACK_APP_TOKEN")
	if err != nil {
		return nil, err
	}
	secret, err := get("TEND_SLACK_SIGNING_SECRET")
	if err != nil {
		return nil, err
	}
	locale := ""
	for _, c := range env.cfg.Communities {
		for _, sp := range c.Spaces {
			if sp.Platform == slackad.Platform && locale == "" {
				locale = c.Locale
			}
		}
	}
	return slackad.New(slackad.Config{BotToken: botToken, AppToken: appToken, SigningSecret: secret, Mode: env.cfg.Slack.Mode,
		ModeratorGroups: env.cfg.Slack.ModeratorGroups, VettedGroups: env.cfg.Slack.VettedGroups, Locale: locale}, env.log)
}

// connComponent holds a platform connection an adapter keeps by itself until its context
// ends (Slack Socket Mode, the Discord gateway): the library reconnects on its own, and a
// connection that cannot be made at all (a revoked token) stops serve.
type connComponent struct {
	name   string
	run    func(context.Context, bot.Handler) error
	h      bot.Handler
	env    *serveEnv
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *connComponent) Name() string { return s.name }

func (s *connComponent) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.run(ctx, s.h); err != nil && ctx.Err() == nil {
			s.env.abort(s.Name(), err)
		}
	}()
	return nil
}

func (s *connComponent) Stop(ctx context.Context) error {
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// slackRoles keeps the members of the configured Slack user groups, refreshed every few
// minutes; a failed refresh keeps the last known members and says so in the log.
type slackRoles struct {
	ad     *slackad.Adapter
	log    interface{ Warn(string, ...any) }
	mu     sync.Mutex
	mods   map[string]bool
	vetted map[string]bool
	periodic
}

func (r *slackRoles) of(user string) (bool, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mods[user], r.vetted[user]
}

func (r *slackRoles) refresh(ctx context.Context) {
	mods, vetted, err := r.ad.Roles(ctx)
	if err != nil {
		r.log.Warn("slack user groups could not be read; keeping the last known roles", "err", err)
		return
	}
	r.mu.Lock()
	r.mods, r.vetted = mods, vetted
	r.mu.Unlock()
}

func (r *slackRoles) Name() string { return "slack roles" }

func (r *slackRoles) Start(ctx context.Context) error {
	r.loop(ctx, 5*time.Minute, r.refresh)
	return nil
}

// periodic runs a refresh at once and then on a ticker until stopped: the loop of the
// components that keep platform roles fresh.
type periodic struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *periodic) loop(ctx context.Context, interval time.Duration, refresh func(context.Context)) {
	refresh(ctx)
	runCtx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				refresh(runCtx)
			}
		}
	}()
}

func (p *periodic) Stop(ctx context.Context) error {
	p.cancel()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jobsComponent runs the durable job queue.
type jobsComponent struct{ runner *jobs.Runner }

func (j *jobsComponent) Name() string                    { return "jobs" }
func (j *jobsComponent) Start(ctx context.Context) error { return j.runner.Start(ctx) }
func (j *jobsComponent) Stop(ctx context.Context) error  { return j.runner.Stop(ctx) }

// deliveryComponent sends messages as soon as they are committed; on stop it lets sends
// in flight finish and flushes what is due, within the shutdown budget. What it cannot
// send in time stays in the outbox for the job queue, here or on another replica.
type deliveryComponent struct {
	app  *bot.App
	stop func()
}

func (d *deliveryComponent) Name() string { return "delivery" }

func (d *deliveryComponent) Start(context.Context) error {
	d.stop = d.app.StartDelivery(deliveryWorkers)
	return nil
}

func (d *deliveryComponent) Stop(ctx context.Context) error {
	d.stop()
	if err := d.app.Flush(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// backlogComponent keeps the outbox gauges current.
type backlogComponent struct {
	db      *store.DB
	metrics interface{ Outbox(int, time.Duration) }
	cancel  context.CancelFunc
	done    chan struct{}
}

func (b *backlogComponent) Name() string { return "outbox gauges" }

func (b *backlogComponent) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.done = cancel, make(chan struct{})
	go func() {
		defer close(b.done)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			if n, age, err := b.db.OutboxBacklog(ctx); err == nil {
				b.metrics.Outbox(n, age)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

func (b *backlogComponent) Stop(ctx context.Context) error {
	b.cancel()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// intakeComponent takes events over HTTP while running: before Start and after Stop it
// answers 503 with Retry-After, so the sender retries elsewhere or later, and Stop waits
// for the events in flight to commit.
type intakeComponent struct {
	name     string
	handler  http.Handler
	open     atomic.Bool
	inflight sync.WaitGroup
	mu       sync.Mutex
}

func (i *intakeComponent) Name() string { return i.name }

func (i *intakeComponent) Start(context.Context) error {
	i.open.Store(true)
	return nil
}

func (i *intakeComponent) Stop(ctx context.Context) error {
	i.mu.Lock()
	i.open.Store(false)
	i.mu.Unlock()
	done := make(chan struct{})
	go func() { i.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (i *intakeComponent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The lock orders Add against Stop's Wait: no event starts after Stop closed the door.
	i.mu.Lock()
	if !i.open.Load() {
		i.mu.Unlock()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "not taking events right now", http.StatusServiceUnavailable)
		return
	}
	i.inflight.Add(1)
	i.mu.Unlock()
	defer i.inflight.Done()
	i.handler.ServeHTTP(w, r)
}
