package main

import (
	"context"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
)

// applyCommunities writes every configured community in one transaction: a config
// applies whole or not at all.
func applyCommunities(ctx context.Context, db *store.DB, cs []config.Community) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range cs {
			if _, err := tx.ApplyCommunity(ctx, c.Setup()); err != nil {
				return err
			}
		}
		return nil
	})
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
