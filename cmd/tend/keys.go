package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tend-community/tend/store"
)

// keys runs `tend keys rotate|status`: key rotation while the bot serves, and what each
// key still holds. The work is in store (rotate.go, keystatus.go).
func (c *cli) keys(ctx context.Context, args []string) int {
	fs := c.flags("keys rotate|status")
	batch := fs.Int("batch", store.DefaultRotateBatch, c.t("cli.keys.flag.batch"))
	grace := fs.Duration("grace", store.DefaultRetireGrace, c.t("cli.keys.flag.grace"))
	masterOnly := fs.Bool("master-only", false, c.t("cli.keys.flag.master_only"))
	action, code := parseAction(fs, args, "rotate", "status")
	if code >= 0 {
		return code
	}
	if *batch < 1 {
		c.say(c.stderr, "cli.keys.batch_bad")
		return exitUsage
	}
	// Running processes look for a new key this often: erasing the old one sooner could
	// leave a value sealed with a key nobody has.
	if *grace <= store.DefaultKeyRefresh {
		c.say(c.stderr, "cli.keys.grace_short", "Refresh", store.DefaultKeyRefresh)
		return exitUsage
	}
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	db, ok := c.openKeyed(ctx, cfg)
	if !ok {
		return exitFailure
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		c.fail(redactErr(err, cfg.Database.URL))
		return exitFailure
	}
	if action == "status" {
		return c.keyStatus(ctx, db)
	}
	return c.rotate(ctx, db, store.RotateOptions{Batch: *batch, Grace: *grace, MasterOnly: *masterOnly})
}

func (c *cli) rotate(ctx context.Context, db *store.DB, opts store.RotateOptions) int {
	opts.Progress = func(e store.RotateEvent) {
		switch e.Kind {
		case store.RotateRewrapped:
			c.say(c.stdout, "cli.keys.rewrapped", "Count", e.Count, "Key", e.Key)
		case store.RotateStarted:
			c.say(c.stdout, "cli.keys.started", "Key", e.Key)
		case store.RotateResumed:
			c.say(c.stdout, "cli.keys.resumed", "Key", e.Key, "Since", stamp(e.Since.Unix()))
		case store.RotateColumn:
			if e.Stuck > 0 {
				c.say(c.stdout, "cli.keys.column_stuck", "Column", e.Column, "Count", e.Count, "Stuck", e.Stuck)
			} else {
				c.say(c.stdout, "cli.keys.column", "Column", e.Column, "Count", e.Count)
			}
		case store.RotateWaiting:
			c.say(c.stdout, "cli.keys.waiting", "Wait", e.Wait.Round(time.Second))
		case store.RotateRetired:
			c.say(c.stdout, "cli.keys.retired_key", "Key", e.Key)
		}
	}
	res, err := db.RotateKeys(ctx, opts)
	switch {
	case errors.Is(err, store.ErrRotationStuck):
		for _, s := range res.Stuck {
			c.say(c.stderr, "cli.keys.stuck", "Count", s.Count, "Column", s.Column, "Key", s.KeyID, "Error", s.Err)
		}
		c.say(c.stderr, "cli.keys.stuck_hint")
		return exitFailure
	case errors.Is(err, context.Canceled):
		c.say(c.stderr, "cli.keys.stopped")
		return exitFailure
	case err != nil:
		c.fail(err)
		c.say(c.stderr, "cli.keys.stopped")
		return exitFailure
	}
	if res.Started || res.Resumed {
		c.say(c.stdout, "cli.keys.done", "Count", res.Moved, "Key", res.Current)
	} else {
		c.say(c.stdout, "cli.keys.done_master", "Count", res.Moved, "Key", res.Current, "Master", db.Keys.MasterID())
	}
	// Say which earlier master keys can now go.
	st, err := db.KeyStatus(ctx)
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	for _, k := range st.Keys {
		if k.Kind == store.KindPreviousMaster && k.Total == 0 && k.Wraps == 0 {
			c.say(c.stdout, "cli.keys.master_free", "Key", k.ID)
		}
	}
	return exitOK
}

// kindIDs names each kind of key in the catalogue.
var kindIDs = map[string]string{
	store.KindMaster:         "cli.keys.kind.master",
	store.KindPreviousMaster: "cli.keys.kind.previous_master",
	store.KindData:           "cli.keys.kind.data",
	store.KindUnknown:        "cli.keys.kind.unknown",
}

var stateIDs = map[string]string{
	store.KeyCurrent:  "cli.keys.state.current",
	store.KeyRetiring: "cli.keys.state.retiring",
	store.KeyRetired:  "cli.keys.state.retired",
}

func (c *cli) keyStatus(ctx context.Context, db *store.DB) int {
	st, err := db.KeyStatus(ctx)
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.t("cli.keys.header"))
	for _, k := range st.Keys {
		state, created := "-", "-"
		if id, ok := stateIDs[k.State]; ok {
			state = c.t(id)
		}
		if k.CreatedAt != 0 {
			created = stamp(k.CreatedAt)
		}
		var notes []string
		if k.Sealing {
			notes = append(notes, c.t("cli.keys.sealing"))
		}
		if k.Wraps > 0 {
			notes = append(notes, c.t("cli.keys.wraps", "Count", k.Wraps))
		}
		note := strings.Join(notes, "; ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", k.ID, c.t(kindIDs[k.Kind]), state, created, k.Total, note)
	}
	if err := tw.Flush(); err != nil {
		c.fail(err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout)
	c.say(c.stdout, "cli.keys.per_column")
	tw = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	shown := false
	for _, k := range st.Keys {
		for _, u := range k.Values {
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", k.ID, u.Column, u.Count)
			shown = true
		}
	}
	if !shown {
		c.say(tw, "cli.keys.no_values")
	}
	if err := tw.Flush(); err != nil {
		c.fail(err)
		return exitFailure
	}
	for _, k := range st.Keys {
		switch {
		case k.Kind == store.KindUnknown:
			c.say(c.stdout, "cli.keys.unknown_key", "Key", k.ID, "Count", k.Total)
		case k.Problem != "" && k.State != store.KeyRetired:
			c.say(c.stdout, "cli.keys.key_problem", "Key", k.ID, "Error", k.Problem)
		}
	}
	if st.Rotation != nil {
		c.say(c.stdout, "cli.keys.unfinished", "Key", st.Rotation.NewKey, "Since", stamp(st.Rotation.StartedAt))
	}
	return exitOK
}

// stamp shows a Unix time the way `tend migrate status` does.
func stamp(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }
