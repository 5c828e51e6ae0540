package main

import (
	"context"
	"strings"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
)

// applyCommunities writes every configured community in one transaction: a config
// applies whole or not at all. A community changed from chat or the command line keeps
// its settings (the config only adds the spaces it lacks); kept lists, one line each,
// such communities whose config differs, for the caller to warn about once.
func applyCommunities(ctx context.Context, db *store.DB, cs []config.Community) (kept []keptCommunity, err error) {
	err = db.InTx(ctx, func(tx *store.Tx) error {
		kept = nil
		for _, c := range cs {
			_, differs, err := tx.ApplyConfig(ctx, c.Setup())
			if err != nil {
				return err
			}
			if len(differs) > 0 {
				kept = append(kept, keptCommunity{slug: c.Slug, differs: differs})
			}
		}
		return nil
	})
	return kept, err
}

// keptCommunity is a community whose settings changed outside the config file, where the
// config says otherwise.
type keptCommunity struct {
	slug    string
	differs []string
}

// warnKept says once per community that its config values are starting values only.
func (c *cli) warnKept(kept []keptCommunity) {
	for _, k := range kept {
		c.say(c.stderr, "cli.community.kept", "Slug", k.slug, "Parts", strings.Join(k.differs, ", "))
	}
}

// communityRoles maps the moderators and vetted volunteers named in config to their
// community ids, for the bot to check on every event.
func communityRoles(ctx context.Context, db *store.DB, cs []config.Community) (bot.Roles, error) {
	type ref struct {
		community int64
		platform  string
		user      string
	}
	mods, vetted := map[ref]bool{}, map[ref]bool{}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range cs {
			id, err := tx.CommunityID(ctx, c.Slug)
			if err != nil {
				return err
			}
			for _, m := range c.Moderators {
				mods[ref{id, m.Platform, m.UserID}] = true
			}
			for _, v := range c.Vetted {
				vetted[ref{id, v.Platform, v.UserID}] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func(community int64, platform, user string) (bool, bool) {
		r := ref{community, platform, user}
		return mods[r], vetted[r]
	}, nil
}
