package main

import (
	"context"
	"maps"
	"testing"

	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// Serve connects to the platforms of the config's spaces, of spaces bound from chat or
// the command line, and to those whose tokens are all set, so that a space can be set up
// from chat before anything is bound.
func TestServedPlatforms(t *testing.T) {
	cases := []struct {
		name  string
		env   []string
		bound []string
		want  map[string]int
	}{
		{"nothing", nil, nil, map[string]int{}},
		{"a Discord token", []string{"TEND_DISCORD_TOKEN", "x"}, nil, map[string]int{"discord": 0}},
		{"Slack socket mode needs both tokens", []string{"TEND_SLACK_BOT_TOKEN", "x"}, nil, map[string]int{}},
		{"Slack socket mode with both", []string{"TEND_SLACK_BOT_TOKEN", "x", "TEND_SLACK_APP_TOKEN", "y"}, nil, map[string]int{"slack": 0}},
		{"a space bound from chat", nil, []string{"slack"}, map[string]int{"slack": 1}},
		{"the console is not served", nil, []string{"console"}, map[string]int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := storetest.Open(t, store.SQLite)
			ctx := context.Background()
			for i, p := range c.bound {
				if err := db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.ApplyCommunity(ctx, store.CommunitySetup{
						Community: store.Community{Slug: "c" + p, Name: "C", Locale: "en", Timezone: "UTC", RetentionDays: 30},
						Bindings:  []store.Binding{{Platform: p, Workspace: "w" + string(rune('0'+i)), BoardChannel: "b", ModeratorsChannel: "m"}},
					})
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := config.Load("", env(c.env...))
			if err != nil {
				t.Fatal(err)
			}
			got, err := servedPlatforms(ctx, &serveEnv{db: db, cfg: cfg})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, c.want) {
				t.Fatalf("served %v, want %v", got, c.want)
			}
		})
	}
}
