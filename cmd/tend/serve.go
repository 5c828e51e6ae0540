package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/obs"
	"github.com/tend-community/tend/store"
)

// component is something serve starts and stops in order: a platform adapter, the bot,
// the job runner, the outbox worker.
//
// Start brings the component up and returns once it runs; its ctx bounds the start only
// (it ends on SIGINT/SIGTERM), so a component must not tie its lifetime to it. When Start
// fails, the component cleans up after itself: Stop is called only after a successful
// Start. Stop ends intake, finishes in-flight work and flushes within ctx's deadline; when
// the deadline has passed it must return promptly.
type component interface {
	Name() string
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// serveEnv is what components are built from.
type serveEnv struct {
	db      *store.DB
	cfg     *config.Config
	metrics *obs.Metrics
	log     *slog.Logger
	cat     *catalog.Catalog
	// t localises a message for the operator, like cli.t.
	t func(id string, kv ...any) string

	// routes are HTTP handlers components serve on the operations listener (an
	// adapter's intake), registered while components are built.
	routes map[string]http.Handler

	fatal chan error
}

// abort tells serve that a component can no longer run (say, a platform revoked the
// token): serve shuts everything down and exits 1. Only the first call counts.
func (e *serveEnv) abort(name string, err error) {
	select {
	case e.fatal <- fmt.Errorf("%s: %w", name, err):
	default:
	}
}

// serveDeps is what serve is assembled from, so tests and later builds can plug in
// components without rewriting serve.
type serveDeps struct {
	// components builds the components in start order; stopping runs in reverse. nil,
	// or no components built, means this build cannot serve: serve says so and exits 1.
	components func(env *serveEnv) ([]component, error)
	// shutdownTimeout bounds stopping all components; 0 means defaultShutdownTimeout.
	shutdownTimeout time.Duration
}

const (
	// defaultShutdownTimeout bounds stopping the components; the HTTP server and the
	// database close after it.
	defaultShutdownTimeout = 20 * time.Second
	// stopGrace is how long a Stop called past the budget may take before serve moves on.
	stopGrace = time.Second
)

// serve runs the bot with the adapters this build has for the configured spaces; with
// none, after preparing the database and communities it says so rather than pretend to
// serve.
func (c *cli) serve(ctx context.Context, args []string) int {
	return c.serveWith(ctx, args, serveDeps{components: platformComponents})
}

// serveWith prepares the database and communities, starts the operations endpoint
// (/metrics, /healthz, /readyz) and the components, and runs until ctx ends or a
// component aborts; then it stops the components in reverse order, the endpoint and the
// database. It exits 0 after a clean shutdown.
func (c *cli) serveWith(ctx context.Context, args []string, deps serveDeps) int {
	fs := c.flags("serve")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	// Private fields cannot be written without a key: refuse before touching anything.
	db, ok := c.openKeyed(ctx, cfg)
	if !ok {
		return exitFailure
	}
	dbOpen := true
	defer func() {
		if dbOpen {
			_ = db.Close()
		}
	}()
	if err := c.migrateUp(ctx, db); err != nil {
		c.fail(redactErr(err, cfg.Database.URL))
		return exitFailure
	}
	if err := db.CheckSchema(ctx); err != nil {
		c.fail(err)
		return exitFailure
	}
	kept, err := applyCommunities(ctx, db, cfg.Communities)
	if err != nil {
		c.fail(redactErr(err, cfg.Database.URL))
		return exitFailure
	}
	for _, cm := range cfg.Communities {
		c.say(c.stdout, "cli.serve.community", "Slug", cm.Slug, "Name", cm.Name)
	}

	log := cfg.LoggerFor(c.stderr, "json")
	for _, k := range kept {
		log.Warn("this community's settings were changed from chat or the command line; the config file's values differ and are only its starting values",
			"community", k.slug, "differs", strings.Join(k.differs, ","))
	}
	metrics := obs.New()
	metrics.WatchDB(db.X.DB)
	env := &serveEnv{db: db, cfg: cfg, metrics: metrics, log: log, cat: c.cat, t: c.t, routes: map[string]http.Handler{}, fatal: make(chan error, 1)}
	var comps []component
	if deps.components != nil {
		var err error
		if comps, err = deps.components(env); err != nil {
			c.fail(redactErr(err, cfg.Database.URL))
			return exitFailure
		}
	}
	if len(comps) == 0 {
		return c.refuseServe(cfg)
	}

	// The operations endpoint comes up first so /healthz answers while components
	// start; /readyz says ready only once they all run.
	var phase atomic.Int32 // phaseStarting, phaseRunning, phaseStopping
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	httpDone := make(chan error, 1)
	if addr := cfg.HTTP.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			c.fail(errors.New(c.t("cli.serve.listen_failed", "Addr", addr, "Error", err.Error())))
			return exitFailure
		}
		mux := http.NewServeMux()
		for route, rh := range env.routes {
			mux.Handle(route, rh)
		}
		mux.Handle("/", obs.Handler(metrics, readiness(db, cfg, &phase, log)))
		var h http.Handler = mux
		go func() { httpDone <- obs.ServeListener(httpCtx, ln, h, log) }()
		c.say(c.stdout, "cli.serve.http", "URL", "http://"+ln.Addr().String())
	} else {
		httpDone <- nil
		log.Info("http server disabled", "field", "http.listen")
	}

	clean := true
	var started []component
	for _, comp := range comps {
		if ctx.Err() != nil {
			break // asked to stop while starting: stop what runs, cleanly
		}
		log.Info("starting component", "component", comp.Name())
		if err := comp.Start(ctx); err != nil {
			if ctx.Err() != nil {
				log.Info("component start interrupted", "component", comp.Name())
				break
			}
			err = redactErr(err, cfg.Database.URL)
			log.Error("component failed to start", "component", comp.Name(), "err", err.Error())
			c.fail(errors.New(c.t("cli.serve.start_failed", "Name", comp.Name(), "Error", err.Error())))
			clean = false
			break
		}
		log.Info("component started", "component", comp.Name())
		started = append(started, comp)
	}

	if clean && len(started) == len(comps) {
		phase.Store(phaseRunning)
		names := make([]string, len(comps))
		for i, comp := range comps {
			names[i] = comp.Name()
		}
		log.Info("serving", "components", names, "engine", string(db.Engine), "communities", len(cfg.Communities))
		c.say(c.stdout, "cli.serve.running", "Components", strings.Join(names, ", "))
		select {
		case <-ctx.Done():
			log.Info("shutdown requested", "cause", "signal")
		case err := <-env.fatal:
			log.Error("shutdown requested", "cause", "component aborted", "err", redactErr(err, cfg.Database.URL).Error())
			clean = false
		}
	}

	// Stop intake first (components in reverse order), then the endpoint, then the
	// database the components were writing to.
	phase.Store(phaseStopping)
	timeout := deps.shutdownTimeout
	if timeout <= 0 {
		timeout = defaultShutdownTimeout
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	for i := len(started) - 1; i >= 0; i-- {
		comp := started[i]
		log.Info("stopping component", "component", comp.Name())
		t0 := time.Now()
		if err := stopComponent(stopCtx, comp); err != nil {
			log.Error("component did not stop cleanly", "component", comp.Name(),
				"err", redactErr(err, cfg.Database.URL).Error(), "elapsed", time.Since(t0).String())
			clean = false
			continue
		}
		log.Info("component stopped", "component", comp.Name(), "elapsed", time.Since(t0).String())
	}
	stopHTTP()
	if err := <-httpDone; err != nil {
		log.Error("http server did not stop cleanly", "err", err.Error())
		clean = false
	}
	dbOpen = false
	if err := db.Close(); err != nil {
		log.Error("database did not close cleanly", "err", redactErr(err, cfg.Database.URL).Error())
		clean = false
	} else {
		log.Info("database closed")
	}
	if !clean {
		log.Error("shutdown complete", "clean", false)
		return exitFailure
	}
	log.Info("shutdown complete", "clean", true)
	c.say(c.stdout, "cli.serve.stopped")
	return exitOK
}

// Phases of serve, for /readyz.
const (
	phaseStarting int32 = iota
	phaseRunning
	phaseStopping
)

// stopComponent calls Stop and waits for it until ctx's deadline plus stopGrace, so one
// stuck component cannot hold the shutdown forever.
func stopComponent(ctx context.Context, comp component) error {
	done := make(chan error, 1)
	go func() { done <- comp.Stop(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		if err == nil {
			err = ctx.Err()
		}
		return err
	case <-grace.C:
		return fmt.Errorf("did not stop within the shutdown budget: %w", ctx.Err())
	}
}

// readiness is /readyz's check: every component running, the database answering and
// its schema current. Changes of state are logged, with the cause, once each.
func readiness(db *store.DB, cfg *config.Config, phase *atomic.Int32, log *slog.Logger) func(context.Context) error {
	var last atomic.Value // string: "" when ready, else the reason
	last.Store("ready?")  // log the first state whatever it is
	return func(ctx context.Context) error {
		var err error
		switch phase.Load() {
		case phaseStarting:
			err = obs.Reason("starting")
		case phaseStopping:
			err = obs.Reason("shutting down")
		default:
			if perr := db.X.PingContext(ctx); perr != nil {
				err = fmt.Errorf("%w: %w", obs.Reason("database unreachable"), redactErr(perr, cfg.Database.URL))
			} else if serr := db.CheckSchema(ctx); serr != nil {
				err = fmt.Errorf("%w: %w", obs.Reason("database schema not current"), redactErr(serr, cfg.Database.URL))
			}
		}
		state := ""
		if err != nil {
			state = err.Error()
		}
		if prev := last.Swap(state); prev != state {
			switch {
			case err == nil:
				log.Info("ready")
			case phase.Load() == phaseRunning:
				log.Warn("not ready", "err", state)
			default:
				log.Info("not ready", "err", state)
			}
		}
		return err
	}
}

// refuseServe is this build's honest answer when no component can run: it lists the
// configured platforms and their tokens, says no adapter serves them, and exits 1.
func (c *cli) refuseServe(cfg *config.Config) int {
	used := usedPlatforms(cfg)
	if len(used) == 0 {
		c.fail(errors.New(c.t("cli.serve.no_platform")))
		return exitFailure
	}
	tokens := map[string][]string{}
	for _, t := range cfg.PlatformTokens() {
		state := c.t("cli.serve.token_missing", "Name", t.Env)
		if t.Set {
			state = c.t("cli.serve.token_set", "Name", t.Env)
		}
		tokens[t.Platform] = append(tokens[t.Platform], state)
	}
	platforms := make([]string, 0, len(used))
	for p := range used {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	for _, p := range platforms {
		c.say(c.stdout, "cli.serve.platform", "Platform", p, "N", fmt.Sprint(used[p]), "Tokens", strings.Join(tokens[p], ", "))
	}
	c.fail(errors.New(c.t("cli.serve.no_adapter")))
	return exitFailure
}

// openReady is openKeyed for the commands that change communities: the config loaded,
// the schema brought up to date and the configured communities applied first, like
// serve does, so a directory can be set up before the first start.
func (c *cli) openReady(ctx context.Context) (*config.Config, *store.DB, bool) {
	cfg, ok := c.loadConfig()
	if !ok {
		return nil, nil, false
	}
	db, ok := c.openKeyed(ctx, cfg)
	if !ok {
		return nil, nil, false
	}
	if _, err := db.Migrate(ctx); err != nil {
		c.fail(err)
		_ = db.Close()
		return nil, nil, false
	}
	if _, err := applyCommunities(ctx, db, cfg.Communities); err != nil {
		c.fail(err)
		_ = db.Close()
		return nil, nil, false
	}
	return cfg, db, true
}

// openKeyed opens the database with the configured encryption key, saying kindly when
// there is none; ok is false after it printed why.
func (c *cli) openKeyed(ctx context.Context, cfg *config.Config) (*store.DB, bool) {
	keys, err := cfg.Keyring()
	if errors.Is(err, config.ErrNoKey) {
		c.fail(errors.New(c.t("cli.no_key")))
		return nil, false
	}
	if err != nil {
		c.fail(err)
		return nil, false
	}
	db, err := openDB(ctx, cfg, keys)
	if err != nil {
		c.fail(err)
		return nil, false
	}
	return db, true
}
