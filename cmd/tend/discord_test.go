package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	discordad "github.com/tend-community/tend/adapters/discord"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
)

// Ids the fake Discord knows.
const (
	testApp      = "1100000000000000001"
	guildOK      = "1100000000000000100"
	guildOther   = "1100000000000000200"
	guildNoBot   = "1100000000000000403" // the bot is not in it: 403, code 50001
	guildUnknown = "1100000000000000404" // no such server: 404, code 10004
	testToken    = "test-bot-token-not-real"
)

// fakeDiscord is Discord's REST API as far as registering commands goes: it keeps the
// commands each PUT installed, per guild ("" for global), and answers like Discord.
type fakeDiscord struct {
	url string

	mu       sync.Mutex
	commands map[string][]map[string]any
	calls    []string
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	t.Helper()
	f := &fakeDiscord{commands: map[string][]map[string]any{}}
	fail := func(w http.ResponseWriter, status, code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code":%d,"message":%q}`, code, msg)
	}
	put := func(w http.ResponseWriter, r *http.Request, guild string) {
		if r.PathValue("app") != testApp {
			fail(w, http.StatusForbidden, 50001, "Missing Access")
			return
		}
		switch guild {
		case guildNoBot:
			fail(w, http.StatusForbidden, 50001, "Missing Access")
			return
		case guildUnknown:
			fail(w, http.StatusNotFound, 10004, "Unknown Guild")
			return
		}
		var cmds []map[string]any
		if err := json.NewDecoder(r.Body).Decode(&cmds); err != nil {
			fail(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		f.mu.Lock()
		f.commands[guild] = cmds
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(cmds)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v10/applications/@me", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":%q,"name":"tend"}`, testApp)
	})
	mux.HandleFunc("PUT /api/v10/applications/{app}/guilds/{guild}/commands", func(w http.ResponseWriter, r *http.Request) {
		put(w, r, r.PathValue("guild"))
	})
	mux.HandleFunc("PUT /api/v10/applications/{app}/commands", func(w http.ResponseWriter, r *http.Request) {
		put(w, r, "")
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bot "+testToken {
			fail(w, http.StatusUnauthorized, 0, "401: Unauthorized")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/api/v10"
	return f
}

func (f *fakeDiscord) installed(guild string) ([]map[string]any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cmds, ok := f.commands[guild]
	return cmds, ok
}

func (f *fakeDiscord) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// discordConfig writes a config with one community per guild, and extra top-level lines
// first.
func discordConfig(t *testing.T, extra string, guilds ...string) string {
	t.Helper()
	s := extra + "\n"
	for i, g := range guilds {
		s += fmt.Sprintf("[[communities]]\nslug = \"c%d\"\nname = \"C%d\"\ntimezone = \"America/Toronto\"\n"+
			"[[communities.spaces]]\nplatform = \"discord\"\nworkspace = %q\nboard_channel = \"1100000000000000901\"\n"+
			"moderators_channel = \"1100000000000000902\"\n", i, i, g)
	}
	return writeFile(t, t.TempDir(), "tend.toml", s, 0o644)
}

// checkTendCommand asserts cmds is the /tend command with its subcommands.
func checkTendCommand(t *testing.T, cmds []map[string]any) {
	t.Helper()
	if len(cmds) != 1 || cmds[0]["name"] != discordad.Command || cmds[0]["type"] != float64(1) {
		t.Fatalf("commands = %v", cmds)
	}
	var subs []string
	opts, _ := cmds[0]["options"].([]any)
	for _, o := range opts {
		m, _ := o.(map[string]any)
		if m["type"] != float64(1) {
			t.Errorf("option %v is not a subcommand", m["name"])
		}
		if d, _ := m["description"].(string); d == "" || len(d) > 100 {
			t.Errorf("subcommand %v: description %q", m["name"], d)
		}
		subs = append(subs, fmt.Sprint(m["name"]))
	}
	for _, want := range []string{"help", "ask", "offer", "volunteer", "mine", "privacy", "vet", "cancel"} {
		if !slices.Contains(subs, want) {
			t.Errorf("subcommands %v lack %s", subs, want)
		}
	}
}

func TestDiscordRegister(t *testing.T) {
	f := newFakeDiscord(t)
	base := func(kv ...string) func(string) string {
		return env(append([]string{"TEND_DISCORD_TOKEN", testToken, "TEND_DISCORD_API_BASE", f.url}, kv...)...)
	}
	withApp := "[discord]\napplication_id = \"" + testApp + "\""
	cases := []struct {
		name   string
		getenv func(string) string
		args   []string // after "tend discord"
		code   int
		out    []string
		err    []string
		// installed are the guilds that must hold the /tend command afterwards.
		installed []string
		calls     []string
	}{
		{"every configured server, app id asked of Discord", base(),
			[]string{"register", "--config", discordConfig(t, "", guildOK, guildOther)}, 0,
			[]string{"Discord application " + testApp, "server " + guildOK + ": 1 command installed", "server " + guildOther + ": 1 command installed"},
			nil, []string{guildOK, guildOther},
			[]string{"GET /api/v10/applications/@me", "PUT /api/v10/applications/" + testApp + "/guilds/" + guildOK + "/commands",
				"PUT /api/v10/applications/" + testApp + "/guilds/" + guildOther + "/commands"}},
		{"--guild given twice, app id from the config", base(),
			[]string{"register", "--config", discordConfig(t, withApp, guildOK), "--guild", guildOther, "--guild", guildOK}, 0,
			[]string{"server " + guildOther + ": 1 command", "server " + guildOK + ": 1 command"}, nil,
			[]string{guildOK, guildOther},
			[]string{"PUT /api/v10/applications/" + testApp + "/guilds/" + guildOther + "/commands",
				"PUT /api/v10/applications/" + testApp + "/guilds/" + guildOK + "/commands"}},
		{"flags before the subcommand, no config", base(), []string{"--guild", guildOK, "register"}, 0,
			[]string{"server " + guildOK + ": 1 command installed; it shows there now"}, nil, []string{guildOK}, nil},
		{"global", base(), []string{"register", "--global"}, 0,
			[]string{"every server: 1 command installed globally; it can take up to an hour to show"}, nil, []string{""},
			[]string{"GET /api/v10/applications/@me", "PUT /api/v10/applications/" + testApp + "/commands"}},
		{"in French", base("LANG", "fr_CA.UTF-8"), []string{"register", "--guild", guildOK}, 0,
			[]string{"serveur " + guildOK + " : 1 commande installée"}, nil, []string{guildOK}, nil},

		{"the bot is not in the server", base(), []string{"register", "--guild", guildNoBot}, exitFailure, nil,
			[]string{"Discord refused access to server " + guildNoBot, "the bot is not in it", `"tend manifest discord"`,
				"HTTP 403, code 50001"}, nil, nil},
		{"one server fails, the other is installed", base(), []string{"register", "--guild", guildNoBot, "--guild", guildOK}, exitFailure,
			[]string{"server " + guildOK + ": 1 command installed"}, []string{"Discord refused access to server " + guildNoBot},
			[]string{guildOK}, nil},
		{"unknown server", base(), []string{"register", "--guild", guildUnknown}, exitFailure, nil,
			[]string{"Discord knows no server " + guildUnknown, "Copy Server ID"}, nil, nil},
		{"application id of another bot", base(), []string{"register", "--config", discordConfig(t, "[discord]\napplication_id = \"1100000000000000002\""), "--global"},
			exitFailure, nil, []string{"Discord refused access to application 1100000000000000002", "TEND_DISCORD_TOKEN"}, nil, nil},
		{"wrong token", env("TEND_DISCORD_TOKEN", "not-the-token", "TEND_DISCORD_API_BASE", f.url), []string{"register", "--guild", guildOK},
			exitFailure, nil, []string{"Discord refused the bot token", "TEND_DISCORD_TOKEN", "HTTP 401"}, nil, nil},
		{"no token", env("TEND_DISCORD_API_BASE", f.url), []string{"register", "--guild", guildOK}, exitFailure, nil,
			[]string{"TEND_DISCORD_TOKEN is not set", "Reset Token", "TEND_DISCORD_TOKEN_FILE"}, nil, nil},
		{"token file missing", env("TEND_DISCORD_TOKEN_FILE", filepath.Join(t.TempDir(), "nope")), []string{"register", "--guild", guildOK},
			exitFailure, nil, []string{"TEND_DISCORD_TOKEN_FILE"}, nil, nil},
		{"Discord unreachable", env("TEND_DISCORD_TOKEN", testToken, "TEND_DISCORD_API_BASE", "http://127.0.0.1:1/api/v10"),
			[]string{"register", "--guild", guildOK}, exitFailure, nil, []string{"cannot reach Discord", "TEND_DISCORD_API_BASE"}, nil, nil},
		{"no server anywhere", base(), []string{"register"}, exitFailure, nil, []string{"no server to install the command in", "--guild", "--global"}, nil, nil},
		{"global and guild", base(), []string{"register", "--global", "--guild", guildOK}, exitUsage, nil, []string{"--global and --guild do not go together"}, nil, nil},
		{"guild not an id", base(), []string{"register", "--guild", "Rosemont"}, exitUsage, nil, []string{"a server id is digits only"}, nil, nil},
		{"no subcommand", base(), nil, exitUsage, nil, []string{"usage: tend discord register"}, nil, nil},
		{"unknown subcommand", base(), []string{"unregister"}, exitUsage, nil, []string{"usage: tend discord register"}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.commands, f.calls = map[string][]map[string]any{}, nil
			f.mu.Unlock()
			code, out, errOut := tend(t, tc.getenv, append([]string{"discord"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(out+errOut, testToken) {
				t.Errorf("output leaks the token:\n%s%s", out, errOut)
			}
			for _, g := range tc.installed {
				cmds, ok := f.installed(g)
				if !ok {
					t.Errorf("nothing installed in %q", g)
					continue
				}
				checkTendCommand(t, cmds)
			}
			if tc.calls != nil && !slices.Equal(f.callLog(), tc.calls) {
				t.Errorf("calls %v\nwant %v", f.callLog(), tc.calls)
			}
		})
	}
}

// TestDiscordRegisterTwice: a second run installs the same command set, no more.
func TestDiscordRegisterTwice(t *testing.T) {
	f := newFakeDiscord(t)
	getenv := env("TEND_DISCORD_TOKEN", testToken, "TEND_DISCORD_API_BASE", f.url)
	var first []map[string]any
	for i := range 2 {
		if code, out, errOut := tend(t, getenv, "discord", "register", "--guild", guildOK); code != 0 {
			t.Fatalf("run %d: exit %d\n%s%s", i+1, code, out, errOut)
		}
		cmds, _ := f.installed(guildOK)
		checkTendCommand(t, cmds)
		if first == nil {
			first = cmds
			continue
		}
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(cmds)
		if string(a) != string(b) {
			t.Errorf("the second run installed something else:\n%s\n%s", a, b)
		}
	}
}

func TestDiscordManifest(t *testing.T) {
	f := newFakeDiscord(t)
	cases := []struct {
		name   string
		getenv func(string) string
		args   []string
		code   int
		app    string // the application the invite link must name; "" for none
		out    []string
		err    []string
	}{
		{"--app", env(), []string{"manifest", "discord", "--app", "123"}, 0, "123",
			[]string{"3072 = View Channels + Send Messages", "bot, applications.commands", "Guilds and Direct Messages",
				"Message Content is needed only if a community later turns on screening", "Interactions Endpoint URL (General Information): leave it empty",
				"TEND_DISCORD_TOKEN", "member_events = true", "off by default", "Server Members Intent under Privileged Gateway Intents"}, nil},
		{"flags first", env(), []string{"manifest", "--app", "123", "discord"}, 0, "123", nil, nil},
		{"app id from the config", env(), []string{"--config", discordConfig(t, "[discord]\napplication_id = \"456\""), "manifest", "discord"}, 0, "456", nil, nil},
		{"app id asked of Discord", env("TEND_DISCORD_TOKEN", testToken, "TEND_DISCORD_API_BASE", f.url), []string{"manifest", "discord"}, 0, testApp, nil, nil},
		{"in French", env("LANG", "fr_FR.UTF-8"), []string{"manifest", "discord", "--app", "123"}, 0, "123",
			[]string{"Voir les salons + Envoyer des messages", "désactivé par défaut"}, nil},
		{"no way to know the app", env(), []string{"manifest", "discord"}, exitFailure, "",
			[]string{"3072 = View Channels"}, []string{"no application id, so no invite link", "--app", "application_id", "TEND_DISCORD_TOKEN"}},
		{"token refused", env("TEND_DISCORD_TOKEN", "wrong", "TEND_DISCORD_API_BASE", f.url), []string{"manifest", "discord"}, exitFailure, "",
			nil, []string{"Discord refused the bot token"}},
		{"app not an id", env(), []string{"manifest", "discord", "--app", "tend"}, exitUsage, "", nil, []string{"--app tend: an application id is digits only"}},
		{"slack flag", env(), []string{"manifest", "discord", "--url", "https://tend.example.org"}, exitUsage, "", nil, []string{"tend manifest discord [--app"}},
		{"discord flag for slack", env(), []string{"manifest", "slack", "--app", "123"}, exitUsage, "", nil, []string{"usage: tend manifest"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := tend(t, tc.getenv, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			var invite *url.URL
			for _, line := range strings.Split(out, "\n") {
				if s := strings.TrimSpace(line); strings.HasPrefix(s, "https://discord.com/oauth2/authorize?") {
					invite, _ = url.Parse(s)
				}
			}
			switch {
			case tc.app == "" && invite != nil:
				t.Errorf("invite link %s, want none", invite)
			case tc.app != "" && invite == nil:
				t.Errorf("no invite link in:\n%s", out)
			case tc.app != "":
				q := invite.Query()
				if q.Get("client_id") != tc.app || q.Get("permissions") != "3072" || q.Get("scope") != "bot applications.commands" {
					t.Errorf("invite link %s", invite)
				}
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestMergeRoles(t *testing.T) {
	fromConfig := func(_ int64, platform, user string) (bool, bool) {
		return platform == "discord" && user == "maya", platform == "slack" && user == "U1"
	}
	discordRoles := func(user string) (bool, bool) { return user == "mod", user == "mod" || user == "vetted" }
	slackGroups := func(user string) (bool, bool) { return user == "U2", false }
	roles := mergeRoles(fromConfig, map[string]func(string) (bool, bool){"discord": discordRoles, "slack": slackGroups})
	cases := []struct {
		platform, user string
		mod, vetted    bool
	}{
		{"discord", "maya", true, false},
		{"discord", "mod", true, true},
		{"discord", "vetted", false, true},
		{"discord", "nobody", false, false},
		{"slack", "U1", false, true},
		{"slack", "U2", true, false},
		{"slack", "mod", false, false}, // Discord's roles stay on Discord
		{"console", "mod", false, false},
	}
	for _, tc := range cases {
		if mod, vetted := roles(1, tc.platform, tc.user); mod != tc.mod || vetted != tc.vetted {
			t.Errorf("%s %s: moderator %v vetted %v, want %v %v", tc.platform, tc.user, mod, vetted, tc.mod, tc.vetted)
		}
	}
}

// TestServeBuildsDiscord: a Discord space with its token gives serve a "discord gateway"
// component. The component is built, not started: no gateway connection in tests.
func TestServeBuildsDiscord(t *testing.T) {
	f := newFakeDiscord(t)
	cfg := discordConfig(t, "", guildOK)
	getenv, _ := serveEnvVars(t, "TEND_HTTP_LISTEN", "off", "TEND_DISCORD_TOKEN", testToken, "TEND_DISCORD_API_BASE", f.url, "TEND_CONFIG", cfg)
	var names []string
	rec := &calls{}
	r := startServe(t, getenv, func(env *serveEnv) []component {
		comps, err := platformComponents(env)
		if err != nil {
			t.Errorf("platformComponents: %v", err)
		}
		for _, c := range comps {
			names = append(names, c.Name())
		}
		return []component{&fake{name: "stand-in", calls: rec}}
	}, 0)
	r.waitServing(t)
	r.cancel()
	if code := r.wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("exit %d; log:\n%s", code, r.log)
	}
	if !slices.Contains(names, "discord gateway") || !slices.Contains(names, "jobs") {
		t.Errorf("components %v", names)
	}
	if len(f.callLog()) != 0 {
		t.Errorf("building the adapter called Discord: %v", f.callLog())
	}
	if strings.Contains(r.log.String()+r.stdout.String(), testToken) {
		t.Error("output leaks the token")
	}
}

// TestConnComponent: a connection that fails while serve runs aborts serve; one that ends
// because serve stops it does not.
func TestConnComponent(t *testing.T) {
	cases := []struct {
		name  string
		run   func(ctx context.Context, h bot.Handler) error
		abort bool
	}{
		{"refused at once", func(context.Context, bot.Handler) error { return errors.New("authentication failed") }, true},
		{"runs until stopped", func(ctx context.Context, _ bot.Handler) error { <-ctx.Done(); return nil }, false},
		{"fails only when stopped", func(ctx context.Context, _ bot.Handler) error { <-ctx.Done(); return ctx.Err() }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := &serveEnv{fatal: make(chan error, 1)}
			comp := &connComponent{name: "discord gateway", run: tc.run, env: env}
			if err := comp.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			var got error
			select {
			case got = <-env.fatal:
			case <-time.After(100 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := comp.Stop(ctx); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if got == nil {
				select {
				case got = <-env.fatal:
				default:
				}
			}
			if (got != nil) != tc.abort {
				t.Errorf("abort = %v, want %v", got, tc.abort)
			}
			if got != nil && !strings.Contains(got.Error(), "discord gateway: authentication failed") {
				t.Errorf("abort error %q does not name the component", got)
			}
		})
	}
}

// TestDiscordTrouble: each failure names what to check and keeps the original error.
func TestDiscordTrouble(t *testing.T) {
	c := &cli{}
	var err error
	if c.cat, err = catalog.New(); err != nil {
		t.Fatal(err)
	}
	c.lang = "en"
	cases := []struct {
		name, guild, app string
		err              error
		want             string
	}{
		{"rate limited", "", "", &bot.RateLimitError{RetryAfter: 1500 * time.Millisecond}, "try again in 2 seconds"},
		{"unknown application", "", "7", &discordad.APIError{Route: "GET /x", Status: 404, Code: 10002}, "Discord knows no application 7:"},
		{"unknown application, id not known", "", "", &discordad.APIError{Route: "GET /x", Status: 404, Code: 10002}, "Discord knows no application: check"},
		{"refused without a guild", "", "7", &discordad.APIError{Route: "PUT /x", Status: 403, Code: 50001}, "Discord refused access to application 7"},
		{"missing access in a guild", "9", "7", &discordad.APIError{Route: "PUT /x", Status: 403, Code: 50001}, "Discord refused access to server 9"},
		{"server error", "9", "7", &discordad.APIError{Route: "PUT /x", Status: 502, Code: 0}, "Discord refused the request (HTTP 502, code 0)"},
		{"network", "9", "7", errors.New("dial tcp: connection refused"), "cannot reach Discord"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.discordTrouble(tc.err, tc.guild, tc.app)
			if !strings.Contains(got.Error(), tc.want) {
				t.Errorf("%q\ndoes not contain %q", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("%q does not wrap the original error", got)
			}
		})
	}
}
