package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
)

const mmToken = "mm-test-bot-token-not-real"

// mattermostWorld is a fake Mattermost server with a team, its board and moderators'
// channels, and a person, plus a config binding the team.
type mattermostWorld struct {
	srv                 *mattermosttest.Server
	team, board, mods   string
	alice               string
	config, callbackURL string
}

func newMattermostWorld(t *testing.T, callback string) *mattermostWorld {
	t.Helper()
	w := &mattermostWorld{srv: mattermosttest.New(t, mattermosttest.Options{Token: mmToken, TriggerTTL: time.Minute}), callbackURL: callback}
	w.team = w.srv.AddTeam("hospice")
	alice := w.srv.AddUser(mattermosttest.User{Username: "alice", FirstName: "Alice"})
	w.alice = alice.ID
	w.srv.AddMember(w.team, alice.ID, false)
	w.board = w.srv.AddChannel(w.team, "board", alice.ID)
	w.mods = w.srv.AddChannel(w.team, "moderators")
	w.config = writeFile(t, t.TempDir(), "tend.toml", fmt.Sprintf(`[mattermost]
url = %q
callback_url = %q

[[communities]]
slug = "hospice"
name = "Hospice"
timezone = "America/Toronto"
[[communities.spaces]]
platform = "mattermost"
workspace = %q
board_channel = %q
moderators_channel = %q
`, w.srv.URL(), callback, w.team, w.board, w.mods), 0o644)
	return w
}

func TestMattermostRegister(t *testing.T) {
	w := newMattermostWorld(t, "http://tend.internal:9464")
	getenv := env("TEND_MATTERMOST_TOKEN", mmToken)
	code, out, errOut := tend(t, getenv, "--config", w.config, "mattermost", "register")
	if code != exitOK || !strings.Contains(out, "team "+w.team+": /tend created; it calls http://tend.internal:9464/mattermost/command") {
		t.Fatalf("first run: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = tend(t, getenv, "--config", w.config, "mattermost", "register", "--team", w.team)
	if code != exitOK || !strings.Contains(out, "/tend is already set up") {
		t.Fatalf("second run: %d %s", code, out)
	}
	if n := w.srv.Count("POST /commands", 201); n != 1 {
		t.Errorf("the command was created %d times", n)
	}
	other := model.NewId()
	for _, tc := range []struct {
		name   string
		getenv func(string) string
		args   []string
		code   int
		want   string
	}{
		{"no token", env(), []string{"register"}, exitFailure, "TEND_MATTERMOST_TOKEN is not set"},
		{"refused token", env("TEND_MATTERMOST_TOKEN", "wrong"), []string{"register"}, exitFailure, "Mattermost refused the bot's access token"},
		{"unknown team", getenv, []string{"register", "--team", other}, exitFailure, "Mattermost knows no team " + other},
		{"bad team id", getenv, []string{"register", "--team", "hospice"}, exitUsage, "a team id is 26 lower-case letters and digits"},
		{"no subcommand", getenv, nil, exitUsage, "usage: tend mattermost register"},
		{"in French", env("TEND_MATTERMOST_TOKEN", mmToken, "LANG", "fr_FR.UTF-8"), []string{"register"}, exitOK, "/tend est déjà en place"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := tend(t, tc.getenv, append([]string{"--config", w.config, "mattermost"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d, want %d; output lacks %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
			if strings.Contains(out+errOut, mmToken) {
				t.Error("output leaks the token")
			}
		})
	}
}

func TestMattermostManifest(t *testing.T) {
	w := newMattermostWorld(t, "http://tend.lan:9464")
	code, out, errOut := tend(t, env(), "--config", w.config, "manifest", "mattermost")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Enable Bot Account Creation", "AllowedUntrustedInternalConnections", "callback_url = http://tend.lan:9464",
		"calling http://tend.lan:9464/mattermost/command", "TEND_MATTERMOST_TOKEN_FILE"} {
		if !strings.Contains(out, want) {
			t.Errorf("manifest lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := tend(t, env(), "manifest", "mattermost", "--app", "1"); code != exitUsage || !strings.Contains(errOut, "tend manifest mattermost") {
		t.Errorf("a Discord flag: %d %s", code, errOut)
	}
}

func TestMattermostSecrets(t *testing.T) {
	key, _ := store.NewKey()
	old, _ := store.NewKey()
	dir := t.TempDir()
	oldFile := writeFile(t, dir, "old.key", old, 0o600)
	load := func(kv ...string) *config.Config {
		t.Helper()
		cfgFile := writeFile(t, dir, "c.toml", fmt.Sprintf("[encryption]\nprevious_key_files = [%q]\n", oldFile), 0o644)
		cfg, err := config.Load(cfgFile, env(kv...))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	a, olds, err := mattermostSecrets(load("TEND_ENCRYPTION_KEY", key))
	if err != nil || len(a) != 32 || len(olds) != 1 {
		t.Fatalf("derived: %d bytes, %d old, %v", len(a), len(olds), err)
	}
	b, _, _ := mattermostSecrets(load("TEND_ENCRYPTION_KEY", key))
	if !bytes.Equal(a, b) {
		t.Error("two replicas derive different secrets")
	}
	if bytes.Contains(a, []byte(key)) || bytes.Equal(a, olds[0]) {
		t.Error("the secret is not derived")
	}
	// After a rotation, the old key's secret still verifies.
	rotated, olds2, _ := mattermostSecrets(load("TEND_ENCRYPTION_KEY", old))
	if !bytes.Equal(olds[0], rotated) || len(olds2) != 1 {
		t.Error("the previous key's secret differs")
	}
	if s, _, err := mattermostSecrets(load("TEND_ENCRYPTION_KEY", key, "TEND_MATTERMOST_ACTION_SECRET", strings.Repeat("s", 40))); err != nil || string(s) != strings.Repeat("s", 40) {
		t.Errorf("explicit secret: %q %v", s, err)
	}
	if _, _, err := mattermostSecrets(load("TEND_MATTERMOST_ACTION_SECRET", "short")); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("short secret: %v", err)
	}
}

// TestServeMattermost runs serve against a fake Mattermost: the slash command reaches
// tend on its HTTP listener (with the token learned from the command the bot created),
// and a direct message comes over the websocket.
func TestServeMattermost(t *testing.T) {
	addr := freeAddr(t)
	w := newMattermostWorld(t, "http://"+addr)
	// No Discord token: serve connects to every platform whose token is set.
	getenv, _ := serveEnvVars(t, "TEND_HTTP_LISTEN", addr, "TEND_MATTERMOST_TOKEN", mmToken, "TEND_CONFIG", w.config, "TEND_DISCORD_TOKEN", "")
	if code, out, errOut := tend(t, getenv, "mattermost", "register"); code != exitOK {
		t.Fatalf("register: %d %s%s", code, out, errOut)
	}
	r := startServe(t, getenv, func(env *serveEnv) []component {
		comps, err := platformComponents(env)
		if err != nil {
			t.Errorf("platformComponents: %v", err)
		}
		return comps
	}, 0)
	r.waitServing(t)
	w.srv.WaitConnections(t, 1)

	ans, err := w.srv.Command(w.alice, w.board, "help")
	if err != nil || ans.Status != http.StatusOK {
		t.Fatalf("/tend help: %v HTTP %d %s", err, ans.Status, ans.Body)
	}
	notice := false
	for _, m := range w.srv.Messages() {
		notice = notice || (m.EphemeralTo == w.alice && len(m.Actions) > 0)
	}
	if !notice {
		t.Fatalf("no privacy notice for alice: %+v", w.srv.Messages())
	}
	w.srv.Write(w.alice, "", "hello")
	deadline := time.Now().Add(20 * time.Second)
	for {
		answered := false
		for _, m := range w.srv.Messages() {
			answered = answered || m.DMUser == w.alice
		}
		if answered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the DM was not answered; log:\n%s", r.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.cancel()
	if code := r.wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("exit %d; log:\n%s", code, r.log)
	}
	if strings.Contains(r.log.String()+r.stdout.String(), mmToken) {
		t.Error("output leaks the token")
	}
	if p := w.srv.Problems(); len(p) > 0 {
		t.Errorf("protocol problems: %v", p)
	}
}

// TestServeBuildsMattermostBesideDiscord: one serve process runs a Discord server and a
// Mattermost team side by side: both adapters' components are built, and the Mattermost
// endpoints are mounted on the HTTP listener. Nothing is started.
func TestServeBuildsMattermostBesideDiscord(t *testing.T) {
	f := newFakeDiscord(t)
	w := newMattermostWorld(t, "http://tend.internal:9464")
	cfg := writeFile(t, t.TempDir(), "both.toml", strings.Replace(mustRead(t, w.config), "[[communities.spaces]]",
		"[[communities.spaces]]\nplatform = \"discord\"\nworkspace = \""+guildOK+"\"\nboard_channel = \"1100000000000000901\"\nmoderators_channel = \"1100000000000000902\"\n\n[[communities.spaces]]", 1), 0o644)
	getenv, _ := serveEnvVars(t, "TEND_HTTP_LISTEN", freeAddr(t), "TEND_DISCORD_TOKEN", testToken, "TEND_DISCORD_API_BASE", f.url,
		"TEND_MATTERMOST_TOKEN", mmToken, "TEND_CONFIG", cfg)
	var names []string
	var routes []string
	rec := &calls{}
	r := startServe(t, getenv, func(env *serveEnv) []component {
		comps, err := platformComponents(env)
		if err != nil {
			t.Errorf("platformComponents: %v", err)
		}
		for _, c := range comps {
			names = append(names, c.Name())
		}
		for route := range env.routes {
			routes = append(routes, route)
		}
		return []component{&fake{name: "stand-in", calls: rec}}
	}, 0)
	r.waitServing(t)
	r.cancel()
	if code := r.wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("exit %d; log:\n%s", code, r.log)
	}
	for _, want := range []string{"discord gateway", "mattermost websocket", "mattermost http", "mattermost roles", "delivery"} {
		if !slicesContains(names, want) {
			t.Errorf("components %v lack %q", names, want)
		}
	}
	if !slicesContains(routes, "/mattermost/") {
		t.Errorf("routes %v", routes)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func slicesContains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
