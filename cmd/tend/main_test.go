package main

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
)

// env builds an injectable getenv; LANG defaults to English so output is predictable.
func env(kv ...string) func(string) string {
	m := map[string]string{"LANG": "en_US.UTF-8"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// tend runs the command and returns its exit code, stdout and stderr.
func tend(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb, getenv)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersion(t *testing.T) {
	code, out, _ := tend(t, env(), "version")
	if code != 0 || !strings.HasPrefix(out, "tend ") {
		t.Fatalf("version: %d %q", code, out)
	}
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "dev"},
		{"module version", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3"},
		{"devel without vcs", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "dev"},
		{"vcs clean", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"}}}, true, "0123456789ab"},
		{"vcs dirty", &debug.BuildInfo{Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, true, "0123456789ab-dirty"},
	}
	for _, tc := range cases {
		if got := versionFrom(tc.bi, tc.ok); got != tc.want {
			t.Errorf("%s: versionFrom = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		name     string
		getenv   func(string) string
		args     []string
		code     int
		inStdout bool
		want     string
	}{
		{"help", env(), []string{"help"}, 0, true, "Commands:"},
		{"no command", env(), nil, 2, false, "Usage: tend"},
		{"unknown", env(), []string{"frobnicate"}, 2, false, `unknown command "frobnicate"`},
		{"french", env("LANG", "fr_CA.UTF-8"), []string{"help"}, 0, true, "Commandes :"},
		{"TEND_LOCALE wins", env("LANG", "en_US", "TEND_LOCALE", "fr"), []string{"nope"}, 2, false, "commande inconnue"},
		{"bad subcommand flag", env(), []string{"doctor", "--nope"}, 2, false, "Usage: tend doctor"},
		{"migrate without action", env(), []string{"migrate"}, 2, false, "Usage: tend migrate"},
		{"migrate bad action", env(), []string{"migrate", "sideways"}, 2, false, "Usage: tend migrate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := tend(t, tc.getenv, tc.args...)
			got := errOut
			if tc.inStdout {
				got = out
			}
			if code != tc.code || !strings.Contains(got, tc.want) {
				t.Fatalf("code %d (want %d), output:\n%s%s", code, tc.code, out, errOut)
			}
			if tc.name == "help" {
				for _, c := range commands {
					if !strings.Contains(out, "  "+c+" ") {
						t.Errorf("usage does not list %s", c)
					}
				}
			}
		})
	}
}

func TestMigrateUpAndStatus(t *testing.T) {
	dir := t.TempDir()
	ge := env("TEND_DATA_DIR", filepath.Join(dir, "data"))

	code, out, errOut := tend(t, ge, "migrate", "status")
	if code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("status before: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = tend(t, ge, "migrate", "up")
	if code != 0 || !strings.Contains(out, "applied migration 0001 core") {
		t.Fatalf("up: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = tend(t, ge, "migrate", "up")
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second up: %d\n%s", code, out)
	}
	code, out, _ = tend(t, ge, "migrate", "status")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// One row per migration: their numbers may have gaps (branches merge their own).
	ms, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || len(lines) != 1+len(ms) || !strings.HasPrefix(lines[0], "VERSION") {
		t.Fatalf("status: %d\n%s", code, out)
	}
	f := strings.Fields(lines[1])
	if f[0] != "0001" || f[1] != "core" || !strings.HasSuffix(f[2], "Z") || strings.Contains(out, "pending") {
		t.Errorf("status row = %q", lines[1])
	}
	// --config after the action works too.
	cfg := writeFile(t, dir, "tend.toml", "data_dir = \""+filepath.Join(dir, "data")+"\"\n", 0o644)
	if code, out, errOut := tend(t, env(), "migrate", "status", "--config", cfg); code != 0 || !strings.Contains(out, "0001") {
		t.Errorf("status --config: %d\n%s%s", code, out, errOut)
	}
}

func TestDoctor(t *testing.T) {
	key, _ := store.NewKey()
	raw, _ := store.ParseKey(key)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	keyFile := writeFile(t, dir, "tend.key", key, 0o600)
	looseKey := writeFile(t, dir, "loose.key", key, 0o644)
	slack := "[[communities]]\nslug = \"demo\"\nname = \"Demo\"\ntimezone = \"America/Toronto\"\n" +
		"[[communities.spaces]]\nplatform = \"slack\"\nworkspace = \"T1\"\nboard_channel = \"C1\"\nmoderators_channel = \"C2\"\n"
	slackCfg := writeFile(t, dir, "slack.toml", slack, 0o644)
	badCfg := writeFile(t, dir, "bad.toml", strings.Replace(slack, "[[communities.spaces]]",
		"[[communities.categories]]\nkey = \"ride\"\nrisk = \"high\"\ntier = \"gold\"\n[[communities.spaces]]", 1), 0o644)
	if code, _, errOut := tend(t, env("TEND_DATA_DIR", data), "migrate", "up"); code != 0 {
		t.Fatal(errOut)
	}

	cases := []struct {
		name   string
		getenv func(string) string
		args   []string
		code   int
		want   []string
	}{
		{"good", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", key), nil, 0,
			[]string{"ok  database: sqlite reachable", "schema: current", "id " + store.KeyID(raw) + ", from TEND_ENCRYPTION_KEY"}},
		{"good with key file and tokens", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY_FILE", keyFile,
			"TEND_SLACK_BOT_TOKEN", "xoxb-very-secret", "TEND_SLACK_APP_TOKEN", "xapp-very-secret"), []string{"--config", slackCfg}, 0,
			[]string{"from TEND_ENCRYPTION_KEY_FILE (" + keyFile + ")", "TEND_SLACK_BOT_TOKEN: set", "TEND_DISCORD_TOKEN: not set (discord is not configured)"}},
		{"bad config", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", key), []string{"--config", badCfg}, 1,
			[]string{`PROBLEM  config: community "demo": categories[0].tier "gold"`, "skipped"}},
		{"no key", env("TEND_DATA_DIR", data), nil, 1, []string{"PROBLEM  no encryption key: set TEND_ENCRYPTION_KEY"}},
		{"loose key file", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY_FILE", looseKey), nil, 1, []string{"chmod 600"}},
		{"missing token", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", key, "TEND_SLACK_BOT_TOKEN", "xoxb-very-secret"),
			[]string{"--config", slackCfg}, 1, []string{"PROBLEM  TEND_SLACK_APP_TOKEN: not set, but a community uses slack"}},
		{"no database yet", env("TEND_DATA_DIR", filepath.Join(dir, "empty"), "TEND_ENCRYPTION_KEY", key), nil, 1,
			[]string{"does not exist yet", "tend migrate up"}},
		{"password redacted", env("TEND_DATABASE_URL", "postgres://tend:hunter2pw@127.0.0.1:1/tend?connect_timeout=1",
			"TEND_ENCRYPTION_KEY", key), nil, 1, []string{"postgres://tend:xxxxx@127.0.0.1:1/tend", "PROBLEM  database"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := tend(t, tc.getenv, append([]string{"doctor"}, tc.args...)...)
			all := out + errOut
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			for _, secret := range []string{key, "very-secret", "hunter2pw"} {
				if strings.Contains(all, secret) {
					t.Errorf("output leaks a secret:\n%s", all)
				}
			}
		})
	}
}

func TestServe(t *testing.T) {
	key, _ := store.NewKey()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	demo := "[[communities]]\nslug = \"demo\"\nname = \"Demo\"\ntimezone = \"America/Toronto\"\n"
	space := "[[communities.spaces]]\nplatform = \"%s\"\nworkspace = \"%s\"\nboard_channel = \"%s\"\nmoderators_channel = \"%s\"\n"
	noSpace := writeFile(t, dir, "nospace.toml", demo, 0o644)
	mattermostBare := writeFile(t, dir, "mattermost-bare.toml", demo+fmt.Sprintf(space, "mattermost", "team1", "C1", "C2"), 0o644)
	mattermost := writeFile(t, dir, "mattermost.toml", "[mattermost]\nurl = \"https://chat.example.org\"\ncallback_url = \"http://tend.internal:9464\"\n"+
		demo+fmt.Sprintf(space, "mattermost", strings.Repeat("t", 26), strings.Repeat("b", 26), strings.Repeat("m", 26)), 0o644)
	discord := writeFile(t, dir, "discord.toml",
		demo+fmt.Sprintf(space, "discord", "1100000000000000100", "1100000000000000101", "1100000000000000102"), 0o644)

	cases := []struct {
		name   string
		getenv func(string) string
		args   []string
		want   []string
	}{
		{"no key", env("TEND_DATA_DIR", data), nil,
			[]string{"no encryption key", "TEND_ENCRYPTION_KEY", "chmod 600 tend.key"}},
		{"no platform", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", key), []string{"--config", noSpace},
			[]string{"community demo (Demo) is set up", "no chat platform configured", "tend console"}},
		{"mattermost without its addresses", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", key, "TEND_MATTERMOST_TOKEN", "d-secret"),
			[]string{"--config", mattermostBare}, []string{"mattermost.url is required", "mattermost.callback_url is required",
				`workspace "team1" must be a Mattermost team id`, `board_channel "C1" must be a Mattermost channel id`}},
		{"mattermost without its token", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", key), []string{"--config", mattermost},
			[]string{"community demo (Demo) is set up", "TEND_MATTERMOST_TOKEN is not set, and Mattermost needs the bot's access token", "TEND_MATTERMOST_TOKEN_FILE"}},
		{"discord without its token", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", key), []string{"--config", discord},
			[]string{"community demo (Demo) is set up", "tend: TEND_DISCORD_TOKEN is not set, and Discord needs the bot token", "TEND_DISCORD_TOKEN_FILE"}},
		{"discord token file unreadable", env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", key, "TEND_DISCORD_TOKEN_FILE", filepath.Join(dir, "nope")),
			[]string{"--config", discord}, []string{"TEND_DISCORD_TOKEN_FILE"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := tend(t, tc.getenv, append([]string{"serve"}, tc.args...)...)
			all := out + errOut
			if code == 0 {
				t.Errorf("serve exited 0:\n%s", all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, key) || strings.Contains(all, "d-secret") {
				t.Errorf("output leaks a secret:\n%s", all)
			}
		})
	}
}

func TestServeWithoutKeyTouchesNothing(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if code, _, _ := tend(t, env("TEND_DATA_DIR", data), "serve"); code == 0 {
		t.Fatal("serve without key succeeded")
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("serve without a key created %s", data)
	}
}

// TestCatalog checks that en and fr define the same cli keys and that every key the
// code names exists.
func TestCatalog(t *testing.T) {
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	cli := func(lang string) []string {
		var out []string
		for _, id := range cat.IDs(lang) {
			if strings.HasPrefix(id, "cli.") {
				out = append(out, id)
			}
		}
		return out
	}
	if en, fr := cli("en"), cli("fr"); !slices.Equal(en, fr) {
		t.Errorf("en and fr cli keys differ:\nen %v\nfr %v", en, fr)
	}
	used := map[string]bool{}
	for _, c := range commands {
		used["cli.usage."+c] = true
	}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, _ := strconv.Unquote(lit.Value); strings.HasPrefix(s, "cli.") && !strings.HasSuffix(s, ".") {
					used[s] = true
				}
			}
			return true
		})
	}
	for id := range used {
		for _, lang := range catalog.Languages {
			if !cat.Has(lang, id) {
				t.Errorf("%s lacks %s", lang, id)
			}
		}
	}
}
