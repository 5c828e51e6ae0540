package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
)

// migrate runs `tend migrate up` and `tend migrate status`.
func (c *cli) migrate(ctx context.Context, args []string) int {
	fs := c.flags("migrate up|status")
	action, code := parseAction(fs, args, "up", "status")
	if code >= 0 {
		return code
	}
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	// Migrations do not encrypt, but a configured key is passed on so a future data
	// migration can; a broken configured key is worth hearing about either way.
	var keys *store.Keyring
	if cfg.HasKey() {
		var err error
		if keys, err = cfg.Keyring(); err != nil {
			c.fail(err)
			return exitFailure
		}
	}
	db, err := openDB(ctx, cfg, keys)
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	defer db.Close()
	if action == "up" {
		err = c.migrateUp(ctx, db)
	} else {
		err = c.migrateStatus(ctx, db)
	}
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	return exitOK
}

func (c *cli) migrateUp(ctx context.Context, db *store.DB) error {
	names := map[int]string{}
	ms, err := store.Migrations(db.Engine)
	if err != nil {
		return err
	}
	for _, m := range ms {
		names[m.Version] = m.Name
	}
	applied, err := db.Migrate(ctx)
	// Report what was applied even when a later migration failed.
	for _, v := range applied {
		c.say(c.stdout, "cli.migrate.applied", "Version", fmt.Sprintf("%04d", v), "Name", names[v])
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		c.say(c.stdout, "cli.migrate.up_to_date", "Version", store.LatestVersion())
	}
	return nil
}

func (c *cli) migrateStatus(ctx context.Context, db *store.DB) error {
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\t%s\n", c.t("cli.migrate.col_version"), c.t("cli.migrate.col_name"), c.t("cli.migrate.col_applied"))
	for _, s := range st {
		at := c.t("cli.migrate.pending")
		if s.AppliedAt != 0 {
			at = time.Unix(s.AppliedAt, 0).UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", s.Version, s.Name, at)
	}
	return tw.Flush()
}

// openDB opens the configured database, creating the data directory first. Errors never
// carry a database password.
func openDB(ctx context.Context, cfg *config.Config, keys *store.Keyring) (*store.DB, error) {
	if err := cfg.PrepareDataDir(); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.Database.URL, keys)
	if err != nil {
		return nil, redactErr(err, cfg.Database.URL)
	}
	return db, nil
}

// redactErr hides the DSN's password should a driver error quote it.
func redactErr(err error, dsn string) error {
	if err == nil {
		return nil
	}
	if msg := config.RedactIn(err.Error(), dsn); msg != err.Error() {
		return errors.New(msg)
	}
	return err
}
