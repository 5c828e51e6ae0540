package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tend-community/tend/adapters/console"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/jobs"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// demoPeople are seeded on the console's first run: a moderator and two vetted
// volunteers, so a newcomer can play a whole exchange at once.
var demoPeople = []struct {
	user, name, categories, areas, days string
	moderator                           bool
}{
	{user: "maya", name: "Maya", moderator: true},
	{user: "bob", name: "Bob", categories: "ride,meal,groceries,visit,call,errand,grief_circle", areas: "any", days: "any"},
	{user: "carol", name: "Carol", categories: "ride,meal,visit,grief_circle", areas: "any", days: "any"},
}

// runConsole plays tend in the terminal: several people typing in one session, on the
// embedded SQLite with a demo community. With stdin not a terminal it reads a script.
func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	cat, err := catalog.New()
	if err != nil {
		return err
	}
	lang := catalog.Pick(getenv("TEND_LOCALE"), getenv("LANG"))
	say := func(id string, kv ...any) {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		fmt.Fprintln(stderr, cat.Localize(lang, id, m))
	}
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nowFlag := fs.String("now", "", cat.Localize(lang, "cli.console.flag_now", nil))
	fresh := fs.Bool("fresh", false, cat.Localize(lang, "cli.console.flag_fresh", nil))
	locale := fs.String("locale", "", cat.Localize(lang, "cli.console.flag_locale", nil))
	empty := fs.Bool("empty", false, cat.Localize(lang, "cli.console.flag_empty", nil))
	admins := fs.String("admins", "", cat.Localize(lang, "cli.console.flag_admins", nil))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := config.Load("", getenv)
	if err != nil {
		return err
	}
	if err := cfg.PrepareDataDir(); err != nil {
		return err
	}
	if *fresh && store.EngineOf(cfg.Database.URL) == store.SQLite {
		path := config.SQLitePath(cfg.Database.URL)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("console: start fresh: %w", err)
			}
		}
	}
	keys, err := consoleKeys(cfg, say)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.Database.URL, keys)
	if err != nil {
		return err
	}
	defer db.Close()
	clock, err := consoleClock(*nowFlag)
	if err != nil {
		return err
	}
	db.SetClock(clock.now)
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	communities := cfg.Communities
	demo := !*empty && !hasConsoleSpace(communities)
	if demo {
		communities = append(communities, config.Demo())
	}
	kept, err := applyCommunities(ctx, db, communities)
	if err != nil {
		return err
	}
	for _, k := range kept {
		say("cli.community.kept", "Slug", k.slug, "Parts", strings.Join(k.differs, ", "))
	}
	roles, err := communityRoles(ctx, db, communities)
	if err != nil {
		return err
	}
	ws, loc := consoleSpace(communities)
	if ws == "" {
		// No community for the console: its space waits for /tend setup.
		ws = console.Platform
		var bound bool
		if loc, bound, err = setUpZone(ctx, db, ws); err != nil {
			return err
		}
		if !bound {
			say("cli.console.empty")
		}
	}
	// Message numbers start again in every console session: cards posted by an earlier
	// session are not on this screen to edit.
	if err := db.ForgetPosted(ctx, console.Platform); err != nil {
		return err
	}
	if demo {
		seeded, err := seedDemo(ctx, db, ws)
		if err != nil {
			return err
		}
		if seeded {
			say("cli.console.seeded")
		}
	}
	// The terminal is the conversation; log lines go to a file beside the database.
	logFile, err := os.OpenFile(filepath.Join(cfg.DataDir, "console.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("console: log file: %w", err)
	}
	defer logFile.Close()
	log := cfg.Logger(logFile)
	app := bot.New(bot.Options{DB: db, Catalog: cat, Logger: log, Roles: roles})
	f, isFile := stdin.(*os.File)
	interactive := isFile && term.IsTerminal(int(f.Fd()))
	con := console.New(console.Options{Out: stdout, Catalog: cat, Locale: *locale, Workspace: ws, Board: "board",
		Echo: !interactive, SetClock: clock.set, Location: loc, Now: clock.now, Logger: log, Admins: adminList(*admins)})
	app.Attach(con)
	if err := safetyFor(ctx, app, db, communities, log); err != nil {
		return err
	}
	if clock.fixed != nil {
		// A session on a fixed clock replays word for word, code words included.
		app.Flows().SetCodeWordSource(zeroReader{})
	}
	// Jobs (nudges, reminders, expiry, retention) are always scheduled; they run only on
	// the real clock: with --now the session's time stands still and a transcript must
	// not depend on when it is played.
	runner, err := jobs.New(db, app, jobs.Options{Periodic: true, Logger: log})
	if err != nil {
		return err
	}
	app.UseScheduler(runner)
	if clock.fixed == nil {
		if err := runner.Start(ctx); err != nil {
			return err
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = runner.Stop(stopCtx)
		}()
	}
	return con.Run(ctx, stdin, app, interactive)
}

// consoleKeys uses the configured key, or creates a local one on first run (mode 0600).
func consoleKeys(cfg *config.Config, say func(string, ...any)) (*store.Keyring, error) {
	if cfg.HasKey() {
		return cfg.Keyring()
	}
	path := filepath.Join(cfg.DataDir, "console.key")
	created, err := config.EnsureLocalKey(path)
	if err != nil {
		return nil, err
	}
	if created {
		say("cli.console.key_created", "Path", path)
	}
	key, err := config.LoadKeyFile(path)
	if err != nil {
		return nil, err
	}
	return store.NewKeyring(key)
}

// settableClock is the console's clock: real time, or a fixed time moved by !clock.
type settableClock struct{ fixed *time.Time }

func (c *settableClock) now() time.Time {
	if c.fixed != nil {
		return *c.fixed
	}
	return time.Now()
}

func (c *settableClock) set(t time.Time) { c.fixed = &t }

func consoleClock(s string) (*settableClock, error) {
	c := &settableClock{}
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			c.set(t)
			return c, nil
		}
	}
	return nil, fmt.Errorf("console: --now %q: use 2026-11-23 10:00 or RFC 3339", s)
}

func hasConsoleSpace(cs []config.Community) bool {
	for _, c := range cs {
		for _, s := range c.Spaces {
			if s.Platform == console.Platform {
				return true
			}
		}
	}
	return false
}

// consoleSpace is the console workspace of the first community bound to the console, and
// that community's time zone.
func consoleSpace(cs []config.Community) (string, *time.Location) {
	for _, c := range cs {
		for _, s := range c.Spaces {
			if s.Platform == console.Platform {
				loc, err := time.LoadLocation(c.Timezone)
				if err != nil {
					loc = time.UTC
				}
				return s.Workspace, loc
			}
		}
	}
	return "", time.UTC
}

// seedDemo adds the demo moderator and volunteers the first time, and reports whether
// it did. Their consent evidence says they were seeded, not that they clicked.
func seedDemo(ctx context.Context, db *store.DB, ws string) (bool, error) {
	seeded := false
	err := db.InTx(ctx, func(tx *store.Tx) error {
		b, err := tx.BindingFor(ctx, console.Platform, ws)
		if err != nil {
			return err
		}
		var mod int64
		for _, p := range demoPeople {
			m, created, err := tx.CreateMember(ctx, b.CommunityID, console.Platform, p.user, p.name, "", flows.NoticeVersion,
				store.Evidence{Surface: "console-demo-seed"})
			if err != nil {
				return err
			}
			if !created {
				continue
			}
			seeded = true
			if p.moderator {
				mod = m.ID
				continue
			}
			if _, err := tx.SaveVolunteerProfile(ctx, store.VolunteerProfile{MemberID: m.ID, Categories: p.categories, Areas: p.areas, Availability: p.days}); err != nil {
				return err
			}
			if _, err := tx.AddVetting(ctx, store.Vetting{MemberID: m.ID, Step: "demo", VerifiedBy: sql.NullInt64{Int64: mod, Valid: mod != 0}, VerifiedAt: tx.Now()}); err != nil {
				return err
			}
		}
		if seeded {
			// A partner to refer to, reached in the console's #partners channel.
			if _, err := tx.SavePartner(ctx, store.Partner{CommunityID: b.CommunityID, Name: "Hospice Saint-Michel", Kind: "palliative",
				Languages: "fr, en", Hours: "24/7", RouteKind: store.RouteChannel, RoutePlatform: console.Platform, RouteWorkspace: ws,
				RouteChannel: "partners"}, ""); err != nil {
				return err
			}
		}
		return nil
	})
	return seeded, err
}

// setUpZone is the time zone of the community set up in the console's space from chat,
// UTC while there is none (bound false).
func setUpZone(ctx context.Context, db *store.DB, ws string) (loc *time.Location, bound bool, err error) {
	loc = time.UTC
	err = db.InTx(ctx, func(tx *store.Tx) error {
		b, err := tx.BindingFor(ctx, console.Platform, ws)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		bound = true
		c, err := tx.Community(ctx, b.CommunityID)
		if err != nil {
			return err
		}
		if l, err := time.LoadLocation(c.Timezone); err == nil {
			loc = l
		}
		return nil
	})
	return loc, bound, err
}

// adminList reads --admins: user names, comma-separated, in lower case like the
// console's user ids; nil when none are named.
func adminList(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// zeroReader gives the same "random" bytes every time.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
