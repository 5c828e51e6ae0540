// Package config loads tend's settings: one optional TOML file plus environment
// overrides, validated at start. Secrets (the encryption key, platform tokens, a database
// password) come only from the environment or from files, never from the TOML file.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is everything tend reads at start.
type Config struct {
	DataDir     string      `toml:"data_dir"`
	Database    Database    `toml:"database"`
	Encryption  Encryption  `toml:"encryption"`
	Log         Log         `toml:"log"`
	HTTP        HTTP        `toml:"http"`
	Slack       Slack       `toml:"slack"`
	Discord     Discord     `toml:"discord"`
	Mattermost  Mattermost  `toml:"mattermost"`
	Communities []Community `toml:"communities"`

	// Path is the file the config was read from, "" when only defaults and env apply.
	Path string `toml:"-"`

	getenv  func(string) string
	fromEnv map[string]string // field -> env var that set it, for error messages
	// logFormatDefaulted is true when neither the file nor the environment chose
	// log.format, so a command may pick its own default (serve logs JSON).
	logFormatDefaulted bool
}

// Database says where state lives.
type Database struct {
	// URL is a PostgreSQL URL or DSN, or sqlite:<path>. Default: sqlite:<data_dir>/tend.db.
	URL string `toml:"url"`
}

// String hides a password so a printed Config never leaks it.
func (d Database) String() string { return "{" + RedactDSN(d.URL) + "}" }

// Encryption names the key files; the key itself is never in the TOML file.
type Encryption struct {
	KeyFile string `toml:"key_file"`
	// PreviousKeyFiles hold retired keys that must still open what they sealed.
	PreviousKeyFiles []string `toml:"previous_key_files"`
}

// Log configures the process log.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text, json
}

// HTTP configures the operations endpoint: /metrics, /healthz and /readyz.
type HTTP struct {
	// Listen is host:port, such as 127.0.0.1:9464 or :9464 (every interface). Empty (or
	// "off", handy in the environment) turns the endpoint off. Default DefaultHTTPListen.
	Listen string `toml:"listen"`
}

// Slack configures the Slack adapter; its tokens and signing secret are secrets
// (TEND_SLACK_BOT_TOKEN, TEND_SLACK_APP_TOKEN, TEND_SLACK_SIGNING_SECRET, or *_FILE).
type Slack struct {
	// Mode is "socket" (default: no public URL needed) or "http" (Events API endpoints
	// on the http.listen address, requests verified with the signing secret).
	Mode string `toml:"mode"`
	// ModeratorGroups and VettedGroups are Slack user group ids (S...) or handles whose
	// members hold the moderator or vetted role.
	ModeratorGroups []string `toml:"moderator_groups"`
	VettedGroups    []string `toml:"vetted_groups"`
}

// Discord configures the Discord adapter; its bot token is a secret (TEND_DISCORD_TOKEN or
// TEND_DISCORD_TOKEN_FILE). Every id is a snowflake: digits only, as Discord's "Copy ID"
// gives it with Developer Mode on.
type Discord struct {
	// ApplicationID is the application's id (developer portal, General Information).
	// Optional: without it tend asks Discord with the token.
	ApplicationID string `toml:"application_id"`
	// ShardID and ShardCount split the servers between replicas: each replica runs one
	// shard, all with the same count (TEND_DISCORD_SHARD_ID, TEND_DISCORD_SHARD_COUNT, so
	// replicas can share one file). A count of 0 or 1 is a single shard.
	ShardID    int `toml:"shard_id"`
	ShardCount int `toml:"shard_count"`
	// ModeratorRoles and VettedRoles are server role ids whose members hold the
	// moderator or vetted role.
	ModeratorRoles []string `toml:"moderator_roles"`
	VettedRoles    []string `toml:"vetted_roles"`
	// MemberEvents makes tend learn when someone leaves or is removed from a server, and
	// hand back what they held. It asks Discord for the privileged Server Members intent,
	// which must be switched on in the developer portal. Off by default.
	MemberEvents bool `toml:"member_events"`
	// APIBase replaces Discord's REST API base (TEND_DISCORD_API_BASE only, never the
	// file): for tests against a fake Discord and for API proxies. The gateway is not
	// affected.
	APIBase string `toml:"-"`
}

// DefaultHTTPListen is local only: metrics say how busy a community is, so exposing
// them beyond the host is the operator's choice.
const DefaultHTTPListen = "127.0.0.1:9464"

// Environment variables read by Load.
const (
	EnvConfig      = "TEND_CONFIG"
	EnvDataDir     = "TEND_DATA_DIR"
	EnvDatabaseURL = "TEND_DATABASE_URL"
	EnvKey         = "TEND_ENCRYPTION_KEY"
	EnvKeyFile     = "TEND_ENCRYPTION_KEY_FILE"
	EnvLogLevel    = "TEND_LOG_LEVEL"
	EnvLogFormat   = "TEND_LOG_FORMAT"
	EnvHTTPListen  = "TEND_HTTP_LISTEN"

	EnvDiscordShardID    = "TEND_DISCORD_SHARD_ID"
	EnvDiscordShardCount = "TEND_DISCORD_SHARD_COUNT"
	EnvDiscordAPIBase    = "TEND_DISCORD_API_BASE"
)

// DefaultDataDir is relative to the working directory.
const DefaultDataDir = ".tend"

// Load reads the TOML file at path (or $TEND_CONFIG; no file at all means defaults),
// applies environment overrides and validates. All problems are returned together.
// getenv is os.Getenv outside tests.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if path == "" {
		path = getenv(EnvConfig)
	}
	c := &Config{
		DataDir: DefaultDataDir,
		Log:     Log{Level: "info", Format: "text"},
		HTTP:    HTTP{Listen: DefaultHTTPListen},
		Path:    path,
		getenv:  getenv,
		fromEnv: map[string]string{},
	}
	var errs []error
	formatInFile := false
	if path != "" {
		md, err := toml.DecodeFile(path, c)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("config: file %s does not exist", path)
			}
			return nil, fmt.Errorf("config: %s: %v", path, err)
		}
		errs = append(errs, checkKeys(md)...)
		formatInFile = md.IsDefined("log", "format")
		if HasPassword(c.Database.URL) {
			errs = append(errs, fmt.Errorf("config: database.url contains a password; put the URL in %s or %s_FILE instead of the config file",
				EnvDatabaseURL, EnvDatabaseURL))
		}
	}
	errs = append(errs, c.applyEnv()...)
	_, formatInEnv := c.fromEnv["log.format"]
	c.logFormatDefaulted = !formatInFile && !formatInEnv
	c.fill()
	errs = append(errs, c.validate()...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// checkKeys rejects unknown fields (usually typos) and secrets written in the file.
func checkKeys(md toml.MetaData) []error {
	var errs []error
	if md.IsDefined("encryption", "key") {
		errs = append(errs, fmt.Errorf("config: encryption.key: the key must not be written in the config file; set %s or encryption.key_file (or %s)",
			EnvKey, EnvKeyFile))
	}
	for _, k := range md.Undecoded() {
		name := k.String()
		if name == "encryption.key" {
			continue
		}
		if l := strings.ToLower(name); strings.Contains(l, "token") || strings.Contains(l, "secret") || strings.Contains(l, "password") {
			env := "TEND_SLACK_BOT_TOKEN"
			if strings.HasPrefix(l, "discord.") {
				env = EnvDiscordToken
			}
			if strings.HasPrefix(l, "mattermost.") {
				env = EnvMattermostToken
			}
			errs = append(errs, fmt.Errorf("config: %s: secrets are read only from the environment or files (e.g. %s or %s_FILE), never from the config file", name, env, env))
			continue
		}
		errs = append(errs, fmt.Errorf("config: unknown field %s", name))
	}
	return errs
}

// applyEnv lets the environment override the file.
func (c *Config) applyEnv() []error {
	var errs []error
	set := func(field, env string, dst *string) {
		if v := strings.TrimSpace(c.getenv(env)); v != "" {
			*dst = v
			c.fromEnv[field] = env
		}
	}
	set("data_dir", EnvDataDir, &c.DataDir)
	set("encryption.key_file", EnvKeyFile, &c.Encryption.KeyFile)
	set("log.level", EnvLogLevel, &c.Log.Level)
	set("log.format", EnvLogFormat, &c.Log.Format)
	set("http.listen", EnvHTTPListen, &c.HTTP.Listen)
	set("slack.mode", "TEND_SLACK_MODE", &c.Slack.Mode)
	set("discord.api_base", EnvDiscordAPIBase, &c.Discord.APIBase)
	set("mattermost.url", EnvMattermostURL, &c.Mattermost.URL)
	set("mattermost.callback_url", EnvMattermostCallbackURL, &c.Mattermost.CallbackURL)
	// Replicas of one config file run different shards.
	setInt := func(field, env string, dst *int) {
		v := strings.TrimSpace(c.getenv(env))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s %q (from %s) must be a whole number", field, v, env))
			return
		}
		*dst = n
		c.fromEnv[field] = env
	}
	setInt("discord.shard_id", EnvDiscordShardID, &c.Discord.ShardID)
	setInt("discord.shard_count", EnvDiscordShardCount, &c.Discord.ShardCount)
	// The URL may carry a password, so it is a secret: env or _FILE.
	if u, err := c.Secret(EnvDatabaseURL); err != nil {
		errs = append(errs, err)
	} else if u != "" {
		c.Database.URL = u
		c.fromEnv["database.url"] = EnvDatabaseURL
	}
	// Catch a doubly-set key or token now rather than at first use.
	if c.getenv(EnvKey) != "" && c.getenv(EnvKeyFile) != "" {
		errs = append(errs, bothSet(EnvKey))
	}
	for _, t := range platformTokens {
		if c.getenv(t.Env) != "" && c.getenv(t.Env+"_FILE") != "" {
			errs = append(errs, bothSet(t.Env))
		}
	}
	return errs
}

// fill sets defaults that depend on other fields.
func (c *Config) fill() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Database.URL == "" {
		c.Database.URL = "sqlite:" + filepath.Join(c.DataDir, "tend.db")
	}
	c.Log.Level = strings.ToLower(c.Log.Level)
	c.Log.Format = strings.ToLower(c.Log.Format)
	c.HTTP.Listen = strings.TrimSpace(c.HTTP.Listen)
	if strings.EqualFold(c.HTTP.Listen, "off") {
		c.HTTP.Listen = ""
	}
	for i := range c.Communities {
		cm := &c.Communities[i]
		if cm.Locale == "" {
			cm.Locale = "en"
		}
		if cm.RetentionDays == 0 {
			cm.RetentionDays = DefaultRetentionDays
		}
		if cm.Categories == nil {
			cm.Categories = DefaultCategories()
		}
	}
}

// from says which env var set a field, for error messages.
func (c *Config) from(field string) string {
	if env, ok := c.fromEnv[field]; ok {
		return " (from " + env + ")"
	}
	return ""
}

// PrepareDataDir creates the data directory and the SQLite file's directory, private to
// the user running tend.
func (c *Config) PrepareDataDir() error {
	dirs := []string{c.DataDir}
	if p := SQLitePath(c.Database.URL); p != "" {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("config: create directory %s: %w", d, err)
		}
	}
	return nil
}

// Logger builds the process logger from Log.
func (c *Config) Logger(w io.Writer) *slog.Logger { return c.LoggerFor(w, "") }

// LoggerFor is Logger for a command with its own default format ("json" for serve):
// defaultFormat applies unless the config file or TEND_LOG_FORMAT set log.format. An
// empty or unknown defaultFormat keeps Log.Format.
func (c *Config) LoggerFor(w io.Writer, defaultFormat string) *slog.Logger {
	var lvl slog.Level
	switch c.Log.Level {
	case "debug":
		lvl = slog.LevelDebug
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	format := c.Log.Format
	if c.logFormatDefaulted && (defaultFormat == "text" || defaultFormat == "json") {
		format = defaultFormat
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
