package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// discordSpace is a community bound to a Discord server, with extra lines appended to the
// space.
func discordSpace(workspace, board, mods string) string {
	return community("demo", "[[communities.spaces]]\nplatform = \"discord\"\nworkspace = \""+workspace+
		"\"\nboard_channel = \""+board+"\"\nmoderators_channel = \""+mods+"\"")
}

func TestDiscordSection(t *testing.T) {
	const full = `[discord]
application_id = "1100000000000000001"
shard_id = 1
shard_count = 4
moderator_roles = ["1100000000000000010", "1100000000000000011"]
vetted_roles = ["1100000000000000020"]
`
	cases := []struct {
		name    string
		toml    string
		getenv  func(string) string
		check   func(*Config) bool
		wantErr []string
	}{
		{"empty section is one shard, no roles", "", env(), func(c *Config) bool {
			d := c.Discord
			return d.ApplicationID == "" && d.ShardID == 0 && d.ShardCount == 0 && d.ModeratorRoles == nil && d.APIBase == "" && !d.MemberEvents
		}, nil},
		{"member events switched on", "[discord]\nmember_events = true", env(), func(c *Config) bool {
			return c.Discord.MemberEvents
		}, nil},
		{"every field", full, env(), func(c *Config) bool {
			d := c.Discord
			return d.ApplicationID == "1100000000000000001" && d.ShardID == 1 && d.ShardCount == 4 &&
				slices.Equal(d.ModeratorRoles, []string{"1100000000000000010", "1100000000000000011"}) &&
				slices.Equal(d.VettedRoles, []string{"1100000000000000020"})
		}, nil},
		{"env picks this replica's shard", full, env(EnvDiscordShardID, " 3 ", EnvDiscordShardCount, "8"), func(c *Config) bool {
			return c.Discord.ShardID == 3 && c.Discord.ShardCount == 8
		}, nil},
		{"env shards without a file section", "", env(EnvDiscordShardID, "0", EnvDiscordShardCount, "2"), func(c *Config) bool {
			return c.Discord.ShardID == 0 && c.Discord.ShardCount == 2
		}, nil},
		{"one shard of one", "[discord]\nshard_id = 0\nshard_count = 1", env(), func(c *Config) bool {
			return c.Discord.ShardCount == 1
		}, nil},
		{"api base from the environment", "", env(EnvDiscordAPIBase, "http://127.0.0.1:8080/api/v10"), func(c *Config) bool {
			return c.Discord.APIBase == "http://127.0.0.1:8080/api/v10"
		}, nil},
		{"discord space with ids", discordSpace("1100000000000000100", "1100000000000000101", "1100000000000000102"), env(), func(c *Config) bool {
			return c.Communities[0].Spaces[0].Workspace == "1100000000000000100"
		}, nil},

		{"negative count", "[discord]\nshard_count = -1", env(), nil,
			[]string{"config: discord.shard_count -1 must be 0 or more"}},
		{"negative id", "[discord]\nshard_id = -1\nshard_count = 2", env(), nil,
			[]string{"config: discord.shard_id -1 must be 0 or more"}},
		{"id not below count", "[discord]\nshard_id = 2\nshard_count = 2", env(), nil,
			[]string{"config: discord.shard_id 2 must be below discord.shard_count 2: shard ids run from 0 to 1"}},
		{"id from env not below count", "[discord]\nshard_count = 2", env(EnvDiscordShardID, "5"), nil,
			[]string{"discord.shard_id 5 (from TEND_DISCORD_SHARD_ID) must be below discord.shard_count 2"}},
		{"id without a count", "", env(EnvDiscordShardID, "1"), nil,
			[]string{"discord.shard_id 1 (from TEND_DISCORD_SHARD_ID) needs discord.shard_count (or TEND_DISCORD_SHARD_COUNT)"}},
		{"count from env not a number", "", env(EnvDiscordShardCount, "two"), nil,
			[]string{`config: discord.shard_count "two" (from TEND_DISCORD_SHARD_COUNT) must be a whole number`}},
		{"shard in file not a number", "[discord]\nshard_id = \"1\"", env(), nil, []string{"shard_id"}},
		{"role name instead of id", "[discord]\nmoderator_roles = [\"Moderators\"]", env(), nil,
			[]string{`config: discord.moderator_roles[0] "Moderators" must be a role id, digits only`, "Copy Role ID"}},
		{"role mention instead of id", "[discord]\nvetted_roles = [\"1100000000000000020\", \"<@&1100000000000000021>\"]", env(), nil,
			[]string{`discord.vetted_roles[1] "<@&1100000000000000021>" must be a role id`}},
		{"empty role", "[discord]\nvetted_roles = [\"\"]", env(), nil, []string{`discord.vetted_roles[0] "" must be a role id`}},
		{"application id", "[discord]\napplication_id = \"tend-bot\"", env(), nil,
			[]string{`discord.application_id "tend-bot" must be digits only`}},
		{"api base", "", env(EnvDiscordAPIBase, "discord.internal"), nil,
			[]string{`discord.api_base "discord.internal" (from TEND_DISCORD_API_BASE) must be an http or https URL`}},
		{"api base is not read from the file", "[discord]\napi_base = \"http://x\"", env(), nil, []string{"unknown field discord.api_base"}},
		{"token in the file", "[discord]\ntoken = \"secret-bot-token\"", env(), nil,
			[]string{"discord.token: secrets are read only from the environment or files (e.g. TEND_DISCORD_TOKEN or TEND_DISCORD_TOKEN_FILE)"}},
		{"space with names instead of ids", discordSpace("Rosemont", "#mutual-aid", "1100000000000000102"), env(), nil,
			[]string{`community "demo": spaces[0].workspace "Rosemont" must be a Discord server id`, "Copy Server ID",
				`spaces[0].board_channel "#mutual-aid" must be a Discord channel id`, "Copy Channel ID"}},
		{"moderator by name", community("demo", `moderators = [{ platform = "discord", user_id = "maya" }]`), env(), nil,
			[]string{`moderators[0].user_id "maya" must be a Discord user id`, "Copy User ID"}},
		{"every problem at once", "[discord]\nshard_count = -2\nmoderator_roles = [\"x\"]", env(), nil,
			[]string{"discord.shard_count -2", `discord.moderator_roles[0] "x"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(writeFile(t, "tend.toml", tc.toml, 0o644), tc.getenv)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("Load succeeded")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not contain %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "secret-bot-token") {
					t.Errorf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("discord = %+v, communities = %+v", c.Discord, c.Communities)
			}
		})
	}
}

// TestExampleDiscordIsValid uncomments the Discord lines of tend.example.toml (those
// starting with "#" right before a key or a table) and loads the result, so the example
// stays right.
func TestExampleDiscordIsValid(t *testing.T) {
	b, err := os.ReadFile("../tend.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	uncommented := regexp.MustCompile(`(?m)^(\s*)#([a-z_]+ =|\[)`).ReplaceAllString(string(b), "$1$2")
	if uncommented == string(b) {
		t.Fatal("tend.example.toml has no commented Discord example")
	}
	c, err := Load(writeFile(t, "tend.toml", uncommented, 0o644), env())
	if err != nil {
		t.Fatalf("the Discord example does not load: %v", err)
	}
	d := c.Discord
	if d.ApplicationID == "" || len(d.ModeratorRoles) != 1 || len(d.VettedRoles) != 1 {
		t.Errorf("discord = %+v", d)
	}
	spaces := c.Communities[0].Spaces
	if len(spaces) < 2 || spaces[1].Platform != "discord" {
		t.Errorf("spaces = %+v", spaces)
	}
}
