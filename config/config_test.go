package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tend-community/tend/obs"
	"github.com/tend-community/tend/store"
)

// env builds an injectable getenv from pairs.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

const validTOML = `
data_dir = "/var/lib/tend"

[database]
url = "postgres://tend@db.internal/tend?sslmode=require"

[encryption]
key_file = "/etc/tend/key"
previous_key_files = ["/etc/tend/key.2024"]

[log]
level = "debug"
format = "json"

[[communities]]
slug = "rosemont"
name = "Rosemont Neighbours"
locale = "fr-CA"
timezone = "America/Toronto"
region = "CA-QC"
retention_days = 60
privacy_officer = "Maya <privacy@example.org>"
moderators = [{ platform = "slack", user_id = "U123" }]
vetted = [{ platform = "slack", user_id = "U456" }]

  [[communities.categories]]
  key = "ride"
  risk = "high"
  tier = "vetted"

  [[communities.categories]]
  key = "meal"
  risk = "low"
  tier = "volunteer"

  [[communities.crisis_resources]]
  label = "Emergency"
  contact = "911"

  [[communities.spaces]]
  platform = "slack"
  workspace = "T0001"
  board_channel = "C-board"
  moderators_channel = "C-mods"

[[communities]]
slug = "hospice"
name = "Hospice staff"
timezone = "America/Montreal"
`

func TestLoadValidFile(t *testing.T) {
	c, err := Load(writeFile(t, "tend.toml", validTOML, 0o644), env())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.DataDir != "/var/lib/tend" || c.Log.Level != "debug" || c.Log.Format != "json" {
		t.Errorf("top level = %+v", c)
	}
	if c.Database.URL != "postgres://tend@db.internal/tend?sslmode=require" {
		t.Errorf("database.url = %q", c.Database.URL)
	}
	if c.Encryption.KeyFile != "/etc/tend/key" || len(c.Encryption.PreviousKeyFiles) != 1 {
		t.Errorf("encryption = %+v", c.Encryption)
	}
	if len(c.Communities) != 2 {
		t.Fatalf("communities = %d", len(c.Communities))
	}
	r := c.Communities[0]
	if r.Locale != "fr-CA" || r.RetentionDays != 60 || r.Region != "CA-QC" || len(r.Categories) != 2 ||
		r.Moderators[0].UserID != "U123" || r.Vetted[0].UserID != "U456" || r.Spaces[0].BoardChannel != "C-board" {
		t.Errorf("community = %+v", r)
	}
	// The second community gets defaults.
	h := c.Communities[1]
	if h.Locale != "en" || h.RetentionDays != 30 || len(h.Categories) != len(DefaultCategories()) {
		t.Errorf("defaults not applied: %+v", h)
	}
	s := r.Setup()
	if s.Community.Slug != "rosemont" || s.Categories[1].Key != "meal" || s.Categories[1].Position != 1 ||
		s.Resources[0].Contact != "911" || s.Bindings[0].Workspace != "T0001" || s.Bindings[0].ModeratorsChannel != "C-mods" {
		t.Errorf("Setup = %+v", s)
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load("", env())
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != "" || c.DataDir != ".tend" || c.Database.URL != "sqlite:"+filepath.Join(".tend", "tend.db") ||
		c.Log.Level != "info" || c.Log.Format != "text" || len(c.Communities) != 0 || c.HTTP.Listen != "127.0.0.1:9464" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"), env())
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v", err)
	}
	// TEND_CONFIG is used when no path is given.
	_, err = Load("", env(EnvConfig, "/nonexistent/tend.toml"))
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/tend.toml") {
		t.Fatalf("TEND_CONFIG ignored: %v", err)
	}
}

// community is a valid community table with extra lines appended.
func community(slug string, extra ...string) string {
	s := "[[communities]]\nslug = \"" + slug + "\"\nname = \"N\"\ntimezone = \"America/Toronto\"\n" + strings.Join(extra, "\n") + "\n"
	return s
}

func cat(key, risk, tier string) string {
	return "[[communities.categories]]\nkey = \"" + key + "\"\nrisk = \"" + risk + "\"\ntier = \"" + tier + "\""
}

const space = "[[communities.spaces]]\nplatform = \"slack\"\nworkspace = \"T1\"\nboard_channel = \"b\"\nmoderators_channel = \"m\""

func TestValidationNamesField(t *testing.T) {
	three := cat("ride", "high", "vetted") + "\n" + cat("meal", "low", "volunteer") + "\n"
	cases := []struct {
		name, toml string
		want       []string
	}{
		{"tier", community("demo", three+cat("visit", "high", "gold")),
			[]string{`config: community "demo": categories[2].tier "gold" must be member, volunteer or vetted`}},
		{"risk", community("demo", cat("ride", "extreme", "vetted")), []string{`categories[0].risk "extreme" must be call, doorstep, ride or home (or the older low, medium or high)`}},
		{"helpers", community("demo", cat("visit", "home", "vetted")+"\nhelpers = 3"), []string{`community "demo": categories[0].helpers 3 must be 1 or 2`}},
		{"visit rules", community("demo", `visit_rules = ["No cash", ""]`), []string{`community "demo": visit_rules[1] is empty`}},
		{"visit contact", community("demo", `visit_contact = "call\nme"`), []string{`community "demo": visit_contact must be one line`}},
		{"visit grace", community("demo", `visit_grace_minutes = -5`), []string{`community "demo": visit_grace_minutes -5 must be between 1 and 1440`}},
		{"vetting days", community("demo", `vetting_valid_days = 4000`), []string{`community "demo": vetting_valid_days 4000 must be between 0 (no end date) and 3650`}},
		{"category key", community("demo", cat("Ride!", "low", "member")), []string{`categories[0].key "Ride!"`}},
		{"duplicate category", community("demo", three+cat("meal", "low", "member")), []string{`categories[2].key "meal" repeats categories[1]`}},
		{"empty categories", community("demo", "categories = []"), []string{`community "demo": categories: at least one`}},
		{"slug missing", community(""), []string{`config: communities[0]: slug is required`}},
		{"slug bad", community("Demo Town"), []string{`communities[0]: slug "Demo Town" must be`}},
		{"name missing", "[[communities]]\nslug = \"x\"\ntimezone = \"UTC\"\n", []string{`community "x": name is required`}},
		{"locale", community("demo", `locale = "de"`), []string{`community "demo": locale "de" must be en or fr`}},
		{"timezone unknown", "[[communities]]\nslug = \"demo\"\nname = \"N\"\ntimezone = \"Mars/Olympus\"\n", []string{`community "demo": timezone "Mars/Olympus" is not a known time zone`}},
		{"timezone missing", "[[communities]]\nslug = \"x\"\nname = \"N\"\n", []string{`community "x": timezone is required`}},
		{"region", community("demo", `region = "ca-qc"`), []string{`community "demo": region "ca-qc" must be uppercase`}},
		{"retention", community("demo", `retention_days = 5000`), []string{`community "demo": retention_days 5000 must be between 1 and 3650`}},
		{"retention negative", community("demo", `retention_days = -1`), []string{`retention_days -1`}},
		{"space platform", community("demo", strings.Replace(space, "slack", "irc", 1)), []string{`spaces[0].platform "irc" must be console, slack, discord, mattermost or loopback`}},
		{"space fields", community("demo", "[[communities.spaces]]\nplatform = \"discord\""),
			[]string{`spaces[0].workspace is required`, `spaces[0].board_channel is required`, `spaces[0].moderators_channel is required`}},
		{"space bound twice", community("a", space) + community("b", space), []string{`community "b": spaces[0] (slack workspace "T1") is already bound to community "a"`}},
		{"duplicate slug", community("a") + community("a"), []string{`community "a": slug is also used by communities[0]`}},
		{"crisis resource", community("demo", "[[communities.crisis_resources]]\nlabel = \"Line\""), []string{`crisis_resources[0].contact is required`}},
		{"moderator", community("demo", `moderators = [{ platform = "slack" }]`), []string{`community "demo": moderators[0].user_id is required`}},
		{"vetted platform", community("demo", `vetted = [{ platform = "irc", user_id = "u" }]`), []string{`vetted[0].platform "irc"`}},
		{"log level", "[log]\nlevel = \"verbose\"", []string{`config: log.level "verbose" must be debug, info, warn or error`}},
		{"log format", "[log]\nformat = \"xml\"", []string{`log.format "xml" must be text or json`}},
		{"http listen no port", "[http]\nlisten = \"127.0.0.1\"", []string{`config: http.listen "127.0.0.1" must be host:port`}},
		{"http listen port range", "[http]\nlisten = \":99999\"", []string{`http.listen ":99999" has port "99999"`, "1 to 65535"}},
		{"http listen port zero", "[http]\nlisten = \"localhost:0\"", []string{`http.listen "localhost:0" has port "0"`}},
		{"http listen named port", "[http]\nlisten = \"localhost:http\"", []string{`http.listen "localhost:http" has port "http"`}},
		{"http listen bad host", "[http]\nlisten = \"my host:9464\"", []string{`http.listen "my host:9464" has host "my host"`}},
		{"http listen url", "[http]\nlisten = \"http://0.0.0.0:9464\"", []string{`http.listen "http://0.0.0.0:9464" must be host:port`}},
		{"key in file", "[encryption]\nkey = \"c2VjcmV0\"", []string{"encryption.key", "TEND_ENCRYPTION_KEY", "key_file"}},
		{"unknown field", "[databse]\nurl = \"x\"", []string{"unknown field databse"}},
		{"token in file", "[slack]\nbot_token = \"xoxb-1\"", []string{"slack.bot_token", "environment"}},
		{"password in url", "[database]\nurl = \"postgres://u:hunter2@h/db\"", []string{"database.url contains a password", "TEND_DATABASE_URL"}},
		{"all problems at once", community("demo", `locale = "de"`, cat("ride", "high", "gold")),
			[]string{`locale "de"`, `categories[0].tier "gold"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "tend.toml", tc.toml, 0o644), env())
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "xoxb-1") || strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	file := writeFile(t, "tend.toml", "data_dir = \"/from/file\"\n[log]\nlevel = \"debug\"\n", 0o644)
	urlFile := writeFile(t, "db-url", "  postgres://u:pw@h/db \n", 0o600)
	cases := []struct {
		name    string
		getenv  func(string) string
		check   func(*Config) bool
		wantErr string
	}{
		{"file only", env(), func(c *Config) bool {
			return c.DataDir == "/from/file" && c.Log.Level == "debug" && c.Database.URL == "sqlite:/from/file/tend.db"
		}, ""},
		{"data dir moves the default database", env(EnvDataDir, "/srv/tend"), func(c *Config) bool {
			return c.DataDir == "/srv/tend" && c.Database.URL == "sqlite:/srv/tend/tend.db"
		}, ""},
		{"log", env(EnvLogLevel, "WARN", EnvLogFormat, "json"), func(c *Config) bool {
			return c.Log.Level == "warn" && c.Log.Format == "json"
		}, ""},
		{"database url", env(EnvDatabaseURL, "postgres://u:pw@h/db"), func(c *Config) bool {
			return c.Database.URL == "postgres://u:pw@h/db"
		}, ""},
		{"database url file", env(EnvDatabaseURL+"_FILE", urlFile), func(c *Config) bool {
			return c.Database.URL == "postgres://u:pw@h/db"
		}, ""},
		{"key file", env(EnvKeyFile, "/run/secrets/k"), func(c *Config) bool {
			from, path := c.KeySource()
			return c.Encryption.KeyFile == "/run/secrets/k" && from == EnvKeyFile && path == "/run/secrets/k"
		}, ""},
		{"bad env value names the variable", env(EnvLogLevel, "loud"), nil, `log.level "loud" (from TEND_LOG_LEVEL) must be`},
		{"http listen", env(EnvHTTPListen, " :9000 "), func(c *Config) bool { return c.HTTP.Listen == ":9000" }, ""},
		{"http listen off", env(EnvHTTPListen, "OFF"), func(c *Config) bool { return c.HTTP.Listen == "" }, ""},
		{"bad http listen names the variable", env(EnvHTTPListen, "9464"), nil, `http.listen "9464" (from TEND_HTTP_LISTEN) must be host:port`},
		{"database url twice", env(EnvDatabaseURL, "x", EnvDatabaseURL+"_FILE", urlFile), nil, "both TEND_DATABASE_URL and TEND_DATABASE_URL_FILE"},
		{"key twice", env(EnvKey, "x", EnvKeyFile, "/k"), nil, "both TEND_ENCRYPTION_KEY and TEND_ENCRYPTION_KEY_FILE"},
		{"token twice", env("TEND_DISCORD_TOKEN", "x", "TEND_DISCORD_TOKEN_FILE", "/t"), nil, "both TEND_DISCORD_TOKEN and TEND_DISCORD_TOKEN_FILE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(file, tc.getenv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("config = %+v", c)
			}
		})
	}
}

func TestDemoIsValid(t *testing.T) {
	c := &Config{Log: Log{Level: "info", Format: "text"}, Communities: []Community{Demo()}, fromEnv: map[string]string{}}
	if errs := c.validate(); len(errs) != 0 {
		t.Fatalf("demo invalid: %v", errs)
	}
	want := []string{"ride", "meal", "groceries", "visit", "call", "errand", "grief_circle"}
	s := Demo().Setup()
	for i, k := range want {
		if s.Categories[i].Key != k || s.Categories[i].Position != i {
			t.Errorf("category %d = %+v, want %s", i, s.Categories[i], k)
		}
	}
	if s.Community.Name != "Rosemont Neighbours" || len(s.Resources) != 2 || s.Resources[0].Contact != "988" ||
		s.Bindings[0].Platform != "console" || len(Demo().Vetted) != 0 {
		t.Errorf("demo = %+v", s)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	c := &Config{Log: Log{Level: "warn", Format: "json"}}
	l := c.Logger(&buf)
	l.Info("hidden")
	l.Warn("shown", "k", 1)
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Errorf("log = %q", out)
	}
}

func TestHTTPListen(t *testing.T) {
	cases := []struct {
		name, toml string
		getenv     func(string) string
		want       string
	}{
		{"default", "", env(), DefaultHTTPListen},
		{"file", "[http]\nlisten = \"0.0.0.0:9100\"", env(), "0.0.0.0:9100"},
		{"every interface", "[http]\nlisten = \":9100\"", env(), ":9100"},
		{"ipv6", "[http]\nlisten = \"[::1]:9100\"", env(), "[::1]:9100"},
		{"host name", "[http]\nlisten = \"metrics.internal:9100\"", env(), "metrics.internal:9100"},
		{"empty disables", "[http]\nlisten = \"\"", env(), ""},
		{"off disables", "[http]\nlisten = \"off\"", env(), ""},
		{"env beats file", "[http]\nlisten = \":9100\"", env(EnvHTTPListen, "127.0.0.1:9200"), "127.0.0.1:9200"},
		{"empty env keeps file", "[http]\nlisten = \":9100\"", env(EnvHTTPListen, ""), ":9100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(writeFile(t, "tend.toml", tc.toml, 0o644), tc.getenv)
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTP.Listen != tc.want {
				t.Errorf("http.listen = %q, want %q", c.HTTP.Listen, tc.want)
			}
		})
	}
}

func TestLoggerFor(t *testing.T) {
	cases := []struct {
		name, toml string
		getenv     func(string) string
		def        string
		json       bool
	}{
		{"serve default is json", "", env(), "json", true},
		{"other commands stay text", "", env(), "", false},
		{"file says text", "[log]\nformat = \"text\"", env(), "json", false},
		{"file says json", "[log]\nformat = \"json\"", env(), "text", true},
		{"env says text", "", env(EnvLogFormat, "text"), "json", false},
		{"env beats file", "[log]\nformat = \"json\"", env(EnvLogFormat, "TEXT"), "json", false},
		{"file without format", "[log]\nlevel = \"debug\"", env(), "json", true},
		{"bogus default ignored", "", env(), "xml", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(writeFile(t, "tend.toml", tc.toml, 0o644), tc.getenv)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			c.LoggerFor(&buf, tc.def).Info("hello", "event", "E1")
			isJSON := strings.HasPrefix(buf.String(), "{") && strings.Contains(buf.String(), `"msg":"hello"`)
			if isJSON != tc.json {
				t.Errorf("json = %v, want %v: %q", isJSON, tc.json, buf.String())
			}
		})
	}
	// A Config built in code (no Load) keeps the format it was given.
	var buf bytes.Buffer
	(&Config{Log: Log{Level: "info", Format: "text"}}).LoggerFor(&buf, "json").Info("x")
	if strings.HasPrefix(buf.String(), "{") {
		t.Errorf("explicit text format overridden: %q", buf.String())
	}
}

// TestPlatformsHaveMetrics keeps obs's platform label set in step with the config's, so
// no configured platform is counted as "other".
func TestPlatformsHaveMetrics(t *testing.T) {
	for _, p := range Platforms {
		if !slices.Contains(obs.Platforms, p) {
			t.Errorf("obs.Platforms lacks %q", p)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	cases := []struct{ in, want string }{
		{"sqlite:.tend/tend.db", "sqlite:.tend/tend.db"},
		{"postgres://tend@h/db", "postgres://tend@h/db"},
		{"postgres://tend:s3cret@h:5432/db?sslmode=disable", "postgres://tend:xxxxx@h:5432/db?sslmode=disable"},
		{"postgresql://h/db?password=s3cret&user=u", "postgresql://h/db?password=xxxxx&user=u"},
		{"host=h dbname=db password=s3cret user=u", "host=h dbname=db password=xxxxx user=u"},
		{"host=h password='s3 cret' user=u", "host=h password=xxxxx user=u"},
		{"postgres://u:s3cret@h/%zz", "postgres://(unparseable URL hidden)"},
	}
	for _, tc := range cases {
		if got := RedactDSN(tc.in); got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if HasPassword(tc.in) != strings.Contains(tc.in, "s3") {
			t.Errorf("HasPassword(%q) wrong", tc.in)
		}
	}
	if got := SQLitePath("sqlite:/a/b.db?x=1"); got != "/a/b.db" {
		t.Errorf("SQLitePath = %q", got)
	}
	if SQLitePath("postgres://h/db") != "" || SQLitePath("sqlite::memory:") != "" {
		t.Error("SQLitePath should be empty for postgres and memory")
	}
}

func TestRedactIn(t *testing.T) {
	dsn := "postgres://tend:s3cretpw@h/db"
	got := RedactIn(`pq: connect to postgres://tend:s3cretpw@h/db failed; password "s3cretpw" rejected`, dsn)
	if strings.Contains(got, "s3cretpw") {
		t.Errorf("RedactIn left the password: %q", got)
	}
	if got := RedactIn("no secrets here", "sqlite:x.db"); got != "no secrets here" {
		t.Errorf("RedactIn changed text: %q", got)
	}
	if got := RedactIn("auth failed for s3 cret", "host=h password='s3 cret'"); strings.Contains(got, "s3 cret") {
		t.Errorf("RedactIn kv: %q", got)
	}
}

// TestExampleConfigIsValid keeps the example shipped in the repository loadable.
func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := Load("../tend.example.toml", func(string) string { return "" })
	if err != nil {
		t.Fatalf("tend.example.toml: %v", err)
	}
	if len(cfg.Communities) != 1 || cfg.Communities[0].Locale != "fr" {
		t.Fatalf("unexpected example: %+v", cfg.Communities)
	}
}

func TestVisitSettings(t *testing.T) {
	toml := community("demo", `visit_rules = ["No cash, ever.", "Stay on the doorstep unless invited in."]`,
		`visit_contact = "Sam, coordinator: 514-555-0100"`, `visit_grace_minutes = 45`, `vetting_valid_days = 365`,
		cat("ride", "high", "vetted"), cat("meal", "low", "volunteer"), cat("call", "call", "volunteer"),
		cat("visit", "home", "vetted")+"\nhelpers = 2")
	c, err := Load(writeFile(t, "tend.toml", toml, 0o644), env())
	if err != nil {
		t.Fatal(err)
	}
	s := c.Communities[0].Setup()
	// The older risk names mean the new levels, so existing files keep working.
	want := []struct {
		risk    string
		helpers int
	}{{"home", 1}, {"doorstep", 1}, {"call", 1}, {"home", 2}}
	for i, w := range want {
		if got := s.Categories[i]; got.Risk != w.risk || got.Helpers != w.helpers {
			t.Errorf("categories[%d] = %+v, want risk %s helpers %d", i, got, w.risk, w.helpers)
		}
	}
	v := s.Visits
	if v.Rules != "No cash, ever.\nStay on the doorstep unless invited in." || v.Contact != "Sam, coordinator: 514-555-0100" ||
		v.GraceMinutes != 45 || v.VettingValidDays != 365 {
		t.Errorf("visit settings = %+v", v)
	}
	for _, d := range DefaultCategories() {
		if store.NormalizeRisk(d.Risk) != d.Risk {
			t.Errorf("default category %s uses the older risk name %q", d.Key, d.Risk)
		}
	}
}

// TestReceiveShared: a space receives shared requests unless its config says not.
func TestReceiveShared(t *testing.T) {
	for _, tt := range []struct {
		line   string
		refuse bool
	}{{"", false}, {"receive_shared = true", false}, {"receive_shared = false", true}} {
		toml := strings.Replace(validTOML, `board_channel = "C-board"`, `board_channel = "C-board"`+"\n"+tt.line, 1)
		c, err := Load(writeFile(t, "tend.toml", toml, 0o644), env())
		if err != nil {
			t.Fatalf("%q: %v", tt.line, err)
		}
		if got := c.Communities[0].Setup().Bindings[0].RefusesShared; got != tt.refuse {
			t.Errorf("%q: refuses shared = %t, want %t", tt.line, got, tt.refuse)
		}
	}
}
