package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
)

// doctor checks the installation, one line per check, and never prints a secret.
func (c *cli) doctor(ctx context.Context, args []string) int {
	fs := c.flags("doctor")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	d := &report{c: c}
	defer d.flush()

	cfg, err := config.Load(c.configPath, c.getenv)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			d.problem("cli.doctor.config_bad", "Error", line)
		}
		d.problem("cli.doctor.skipped")
		return exitFailure
	}
	if cfg.Path == "" {
		d.ok("cli.doctor.config_defaults")
	} else {
		d.ok("cli.doctor.config_ok", "Path", cfg.Path, "N", len(cfg.Communities))
	}

	c.doctorDatabase(ctx, d, cfg)
	c.doctorKey(d, cfg)
	if !d.failed {
		c.doctorDataKeys(ctx, d, cfg)
	}
	c.doctorTokens(d, cfg)
	if d.failed {
		return exitFailure
	}
	return exitOK
}

func (c *cli) doctorDatabase(ctx context.Context, d *report, cfg *config.Config) {
	dsn := cfg.Database.URL
	engine := store.EngineOf(dsn)
	// Opening SQLite would create an empty file; say what to do instead.
	if p := config.SQLitePath(dsn); p != "" {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			d.problem("cli.doctor.db_missing", "Path", p)
			return
		}
	}
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		d.problem("cli.doctor.db_bad", "Engine", engine, "DSN", config.RedactDSN(dsn), "Error", redactErr(err, dsn))
		return
	}
	defer db.Close()
	d.ok("cli.doctor.db_ok", "Engine", engine, "DSN", config.RedactDSN(dsn))
	if err := db.CheckSchema(ctx); err != nil {
		d.problem("cli.doctor.schema_bad", "Error", redactErr(err, dsn))
		return
	}
	d.ok("cli.doctor.schema_ok", "Version", store.LatestVersion())
}

func (c *cli) doctorKey(d *report, cfg *config.Config) {
	kr, err := cfg.Keyring()
	if errors.Is(err, config.ErrNoKey) {
		d.problem("cli.no_key")
		return
	}
	if err != nil {
		d.problem("cli.doctor.key_bad", "Error", err)
		return
	}
	// A round trip proves the key works, not just that it parses.
	const probe, use = "tend doctor", "doctor.probe"
	ct, id, err := kr.Seal([]byte(probe), use)
	if err == nil {
		var pt []byte
		if pt, err = kr.Open(ct, id, use); err == nil && string(pt) != probe {
			err = errors.New("round trip changed the value")
		}
	}
	if err != nil {
		d.problem("cli.doctor.key_bad", "Error", err)
		return
	}
	from, path := cfg.KeySource()
	d.ok("cli.doctor.key_ok", "ID", kr.CurrentID(), "From", from, "Path", path, "N", len(cfg.Encryption.PreviousKeyFiles))
}

// doctorDataKeys checks that the configured key opens the data keys in the database
// (after a restore, that the right key came with the copy) and that no value is under a
// key nobody has.
func (c *cli) doctorDataKeys(ctx context.Context, d *report, cfg *config.Config) {
	kr, err := cfg.Keyring()
	if err != nil {
		return // doctorKey has said why
	}
	db, err := store.Open(ctx, cfg.Database.URL, kr)
	if err != nil {
		d.problem("cli.doctor.db_bad", "Engine", store.EngineOf(cfg.Database.URL), "DSN", config.RedactDSN(cfg.Database.URL),
			"Error", redactErr(err, cfg.Database.URL))
		return
	}
	defer db.Close()
	st, err := db.KeyStatus(ctx)
	if err != nil {
		d.problem("cli.doctor.data_keys_bad", "Error", redactErr(err, cfg.Database.URL))
		return
	}
	live, bad := 0, false
	for _, k := range st.Keys {
		switch {
		case k.Kind == store.KindUnknown:
			d.problem("cli.doctor.key_unknown", "Key", k.ID, "Count", k.Total)
			bad = true
		case k.Kind == store.KindData && k.State != store.KeyRetired:
			live++
			if k.Problem != "" {
				d.problem("cli.doctor.data_key_bad", "Key", k.ID, "Error", k.Problem)
				bad = true
			}
		}
	}
	switch {
	case bad:
	case live == 0:
		d.ok("cli.doctor.data_keys_none")
	default:
		d.ok("cli.doctor.data_keys_ok", "Count", live, "Key", db.Keys.CurrentID())
	}
	if st.Rotation != nil {
		d.ok("cli.doctor.rotation_unfinished", "Key", st.Rotation.NewKey, "Since", stamp(st.Rotation.StartedAt))
	}
}

func (c *cli) doctorTokens(d *report, cfg *config.Config) {
	used := usedPlatforms(cfg)
	for _, t := range cfg.PlatformTokens() {
		name := t.Env
		if t.FromFile {
			name += "_FILE"
		}
		switch {
		case t.Err != nil:
			d.problem("cli.doctor.token_bad", "Name", name, "Error", t.Err)
		case t.Set:
			d.ok("cli.doctor.token_set", "Name", name)
		case used[t.Platform] > 0 && t.Needed:
			d.problem("cli.doctor.token_missing", "Name", t.Env, "Platform", t.Platform)
		case used[t.Platform] > 0:
			d.ok("cli.doctor.token_not_needed", "Name", t.Env, "Platform", t.Platform)
		default:
			d.ok("cli.doctor.token_unused", "Name", t.Env, "Platform", t.Platform)
		}
	}
}

// usedPlatforms counts the configured spaces per chat platform, the console aside.
func usedPlatforms(cfg *config.Config) map[string]int {
	n := map[string]int{}
	for _, cm := range cfg.Communities {
		for _, sp := range cm.Spaces {
			if sp.Platform != "console" {
				n[sp.Platform]++
			}
		}
	}
	return n
}

// report collects doctor's lines so the status column can be aligned in any language.
type report struct {
	c      *cli
	lines  [][2]string
	failed bool
}

func (r *report) ok(id string, kv ...any) {
	r.lines = append(r.lines, [2]string{r.c.t("cli.doctor.ok"), r.c.t(id, kv...)})
}

func (r *report) problem(id string, kv ...any) {
	r.failed = true
	r.lines = append(r.lines, [2]string{r.c.t("cli.doctor.problem"), r.c.t(id, kv...)})
}

func (r *report) flush() {
	width := 0
	for _, l := range r.lines {
		width = max(width, utf8.RuneCountInString(l[0]))
	}
	var b bytes.Buffer
	for _, l := range r.lines {
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(l[0]))
		fmt.Fprintf(&b, "%s%s  %s\n", l[0], pad, l[1])
	}
	_, _ = r.c.stdout.Write(b.Bytes())
}
