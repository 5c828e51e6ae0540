package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// cliEnv runs tend commands against the database at dsn with the test key.
func cliEnv(t *testing.T, dsn string) func(args ...string) (int, string, string) {
	t.Helper()
	ge := env("TEND_DATABASE_URL", dsn, "TEND_DATA_DIR", t.TempDir(), "TEND_ENCRYPTION_KEY", storetest.KeyHex)
	return func(args ...string) (int, string, string) {
		t.Helper()
		return tend(t, ge, args...)
	}
}

// TestSetupFromChatMatchesCommandLine sets the same community up twice, in chat (the
// unbound-space path, as a platform administrator) and with tend community create,
// bind and edit, and compares every row that makes it.
func TestSetupFromChatMatchesCommandLine(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		chat := storetest.Open(t, eng)
		h := bottest.New(t, chat, "en")
		ev := func(user string, admin bool, e bot.Event) []bottest.Sent {
			e.Workspace, e.PlatformAdmin = "ws2", admin
			if e.ChannelID == "" {
				e.ChannelID = "general"
			}
			return h.Event(user, e)
		}
		general := map[string]string{"name": "Voisins de Rosemont", "locale": "fr", "timezone": "Montréal", "region": "CA-QC",
			"retention_days": "45", "privacy_officer": "Maya Tremblay <privacy@example.org>"}
		steps := []struct {
			user string
			e    bot.Event
			want string
		}{
			{"olivia", bot.Event{Kind: bot.EventForm, FormID: flows.FormSetupNew, FormPayload: "general", Values: general}, "Voisins de Rosemont is ready"},
			{"olivia", bot.Event{Kind: bot.EventCommand, Command: "setup", Args: []string{"moderators"}, ChannelID: "mods2"}, "Ce salon est maintenant"},
			{"olivia", bot.Event{Kind: bot.EventForm, FormID: flows.FormSettingsCategoryAdd, Values: map[string]string{"key": "pet_care",
				"label_en": "Pet care", "label_fr": "Soins des animaux", "risk": "doorstep", "tier": "volunteer", "helpers": "1"}}, "C'est enregistré"},
			{"olivia", bot.Event{Kind: bot.EventForm, FormID: flows.FormSettingsResource, Values: map[string]string{"label": "Tel-Aide", "contact": "514-935-1101"}}, "C'est enregistré"},
			{"olivia", bot.Event{Kind: bot.EventForm, FormID: flows.FormSettingsModerator, Values: map[string]string{"user": "nina"}}, "C'est enregistré"},
		}
		for i, st := range steps {
			if sent := ev(st.user, true, st.e); !bottest.Contains(sent, st.want) {
				t.Fatalf("chat step %d:\n%s", i, bottest.Dump(sent))
			}
		}

		dsn := storetest.DSN(t, eng)
		tendCLI := cliEnv(t, dsn)
		for i, args := range [][]string{
			{"community", "create", "--slug", "voisins-de-rosemont", "--name", "Voisins de Rosemont", "--locale", "fr", "--timezone", "Montréal",
				"--region", "CA-QC", "--retention", "45", "--privacy-officer", "Maya Tremblay <privacy@example.org>"},
			{"community", "bind", "--community", "voisins-de-rosemont", "--platform", "fake", "--workspace", "ws2", "--board", "general", "--moderators", "mods2"},
			{"community", "edit", "voisins-de-rosemont", "--add-moderator", "fake:olivia", "--add-category", "pet_care:doorstep:volunteer",
				"--label-en", "Pet care", "--label-fr", "Soins des animaux", "--add-resource", "Tel-Aide=514-935-1101", "--add-moderator", "fake:nina"},
		} {
			if code, out, errOut := tendCLI(args...); code != 0 {
				t.Fatalf("command %d: exit %d\n%s%s", i, code, out, errOut)
			}
		}
		cli, err := store.Open(context.Background(), dsn, storetest.Keys(t))
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		fromChat, fromCLI := storetest.CommunityRows(t, chat, "voisins-de-rosemont"), storetest.CommunityRows(t, cli, "voisins-de-rosemont")
		if fromChat != fromCLI {
			t.Fatalf("chat and command line differ:\n--- chat\n%s--- command line\n%s", fromChat, fromCLI)
		}
		for _, want := range []string{"America/Toronto CA-QC 45", "pet_care doorstep volunteer 7 1 Pet care Soins des animaux", "fake ws2 general mods2", "fake nina", "fake olivia"} {
			if !strings.Contains(fromCLI, want) {
				t.Errorf("missing %q in:\n%s", want, fromCLI)
			}
		}
		// Both audited every change; the command line as "cli".
		if n := storetest.Count(t, cli, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'settings.%' AND actor_member_id IS NULL AND detail LIKE '%by=cli%'`); n != 6 {
			t.Errorf("command-line audit rows: %d", n)
		}
	})
}

func TestCommunityCommand(t *testing.T) {
	dsn := storetest.DSN(t, store.SQLite)
	tendCLI := cliEnv(t, dsn)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"create", []string{"create", "--name", "St Mark's", "--timezone", "America/Toronto", "--region", "CA"}, 0, "Community st-mark-s (St Mark's) is created", ""},
		{"bad values name their flags", []string{"create", "--name", "X", "--timezone", "Mars/Olympus", "--retention", "9999", "--slug", "Bad Slug"}, 1, "",
			"--timezone: Time zone: “Mars/Olympus”"},
		{"slug taken", []string{"create", "--name", "Again", "--timezone", "UTC", "--slug", "st-mark-s"}, 1, "", "--slug: Slug: a community called st-mark-s already exists"},
		{"bind without moderators", []string{"bind", "--community", "st-mark-s", "--platform", "slack", "--workspace", "T1", "--board", "C1"}, 1, "", "--moderators:"},
		{"bind", []string{"bind", "--community", "st-mark-s", "--platform", "slack", "--workspace", "T1", "--board", "C1", "--moderators", "C2"}, 0, "slack space T1 is connected", ""},
		{"bind again", []string{"bind", "--community", "st-mark-s", "--platform", "slack", "--workspace", "T1", "--board", "C1", "--moderators", "C2"}, 1, "", "already connected"},
		{"one bad change undoes all", []string{"edit", "st-mark-s", "--name", "St Mark's Parish", "--add-category", "pets:doorstep:wizard"}, 1, "", "--add-category: Who may help: “wizard”"},
		{"edit", []string{"edit", "st-mark-s", "--timezone", "paris", "--add-moderator", "slack:U1", "--remove-category", "errand"}, 0, "Saved the changes to st-mark-s", ""},
		{"last moderator", []string{"edit", "st-mark-s", "--remove-moderator", "slack:U1"}, 1, "", "last moderator"},
		{"labels need one category", []string{"edit", "st-mark-s", "--label-en", "Pets"}, 2, "", "exactly one"},
		{"bad spec", []string{"edit", "st-mark-s", "--add-resource", "Tel-Aide"}, 1, "", "must be label=contact"},
		{"receive shared needs a space", []string{"edit", "st-mark-s", "--receive-shared", "no"}, 1, "", "--receive-shared: name the space with --platform and --workspace"},
		{"receive shared yes or no", []string{"edit", "st-mark-s", "--platform", "slack", "--workspace", "T1", "--receive-shared", "maybe"}, 1, "", "“maybe” is not yes or no"},
		{"receive shared unbound space", []string{"edit", "st-mark-s", "--platform", "slack", "--workspace", "T9", "--receive-shared", "no"}, 1, "", "--receive-shared: This space isn't set up"},
		{"receive shared", []string{"edit", "st-mark-s", "--platform", "slack", "--workspace", "T1", "--receive-shared", "no"}, 0, "Saved the changes to st-mark-s", ""},
		{"show", []string{"show", "st-mark-s"}, 0, "time zone Europe/Paris", ""},
		{"code", []string{"code", "st-mark-s"}, 0, "One-time code: ", ""},
		{"unknown community", []string{"show", "nowhere"}, 1, "", "no community has the slug nowhere"},
		{"no action", []string{}, 2, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := tendCLI(append([]string{"community"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
		})
	}
	db, err := store.Open(context.Background(), dsn, storetest.Keys(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := storetest.CommunityRows(t, db, "st-mark-s")
	if strings.Contains(rows, "Parish") || strings.Contains(rows, "errand") || !strings.Contains(rows, "Europe/Paris") {
		t.Fatalf("after the edits:\n%s", rows)
	}
	_, out, _ := tendCLI("community", "show", "st-mark-s")
	if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'settings.space.receive_shared' AND detail LIKE '%receive_shared=false%by=cli%'`); n != 1 {
		t.Errorf("receive_shared audit rows = %d, want 1", n)
	}
	for _, want := range []string{"slack/T1  board=C1  moderators=C2", "receive_shared=no", "ride  risk=ride  tier=vetted", "slack:U1", "changed from chat or the command line"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
}

// TestConfigDoesNotOverwriteChatEdits starts with a config community, changes it from the
// command line, and starts again: the change stays and one warning says the config's
// values are starting values.
func TestConfigDoesNotOverwriteChatEdits(t *testing.T) {
	dir := t.TempDir()
	cfg := stMarks(t, dir, false)

	ge := env("TEND_ENCRYPTION_KEY", storetest.KeyHex)
	if code, out, errOut := tend(t, ge, "--config", cfg, "community", "edit", "stmarks", "--name", "St Mark's Parish"); code != 0 {
		t.Fatalf("edit: %d %s %s", code, out, errOut)
	}
	code, out, errOut := tend(t, ge, "--config", cfg, "community", "show", "stmarks")
	if code != 0 || !strings.Contains(out, "St Mark's Parish") {
		t.Fatalf("the config overwrote the edit at the next start: %d\n%s%s", code, out, errOut)
	}
	// The console warns once, at start.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--config", cfg, "console", "--empty"}, strings.NewReader(""), &stdout, &stderr,
		env("TEND_ENCRYPTION_KEY", storetest.KeyHex)); code != 0 {
		t.Fatalf("console: %d %s", code, stderr.String())
	}
	if n := strings.Count(stderr.String(), "community stmarks was changed from chat"); n != 1 {
		t.Fatalf("warnings: %d\n%s", n, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
}

// stMarks writes a config with one community, St Mark's, bound to a Slack workspace, in
// dir, with a key file beside it when keyed, and returns its path.
func stMarks(t *testing.T, dir string, keyed bool) string {
	t.Helper()
	enc := ""
	if keyed {
		key := writeFile(t, dir, "tend.key", strings.Repeat("ab", 32)+"\n", 0o600)
		enc = "[encryption]\nkey_file = \"" + key + "\"\n"
	}
	return writeFile(t, dir, "tend.toml", `data_dir = "`+filepath.Join(dir, "data")+`"
`+enc+`[[communities]]
slug = "stmarks"
name = "St Mark's"
locale = "en"
timezone = "America/Toronto"
region = "CA"
  [[communities.spaces]]
  platform = "slack"
  workspace = "T1"
  board_channel = "C1"
  moderators_channel = "C2"
`, 0o644)
}
