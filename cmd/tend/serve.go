package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
)

// serve prepares the database and communities, then reports on platforms: this build
// has no platform adapter yet, so it says so rather than pretend to serve.
func (c *cli) serve(ctx context.Context, args []string) int {
	fs := c.flags("serve")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	// Private fields cannot be written without a key: refuse before touching anything.
	keys, err := cfg.Keyring()
	if errors.Is(err, config.ErrNoKey) {
		c.fail(errors.New(c.t("cli.no_key")))
		return exitFailure
	}
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	db, err := openDB(ctx, cfg, keys)
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	defer db.Close()
	if err := c.migrateUp(ctx, db); err != nil {
		c.fail(redactErr(err, cfg.Database.URL))
		return exitFailure
	}
	if err := db.CheckSchema(ctx); err != nil {
		c.fail(err)
		return exitFailure
	}
	// All communities in one transaction: a config applies whole or not at all.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		for _, cm := range cfg.Communities {
			if _, err := tx.ApplyCommunity(ctx, cm.Setup()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	for _, cm := range cfg.Communities {
		c.say(c.stdout, "cli.serve.community", "Slug", cm.Slug, "Name", cm.Name)
	}

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
