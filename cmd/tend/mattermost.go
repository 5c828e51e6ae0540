package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	mattermostad "github.com/tend-community/tend/adapters/mattermost"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
)

// mattermostActionLabel names the secret derived from the encryption key that signs
// Mattermost buttons and dialogs when TEND_MATTERMOST_ACTION_SECRET is not set.
const mattermostActionLabel = "tend/mattermost/actions/v1"

// mattermostAdapter builds the Mattermost adapter from the config and the secrets.
// needSecret is false for commands that sign nothing (register): without an encryption
// key they use a throwaway secret.
func mattermostAdapter(cfg *config.Config, log *slog.Logger, t func(string, ...any) string, needSecret bool) (*mattermostad.Adapter, error) {
	token, err := cfg.Secret(config.EnvMattermostToken)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New(t("cli.mattermost.no_token", "Name", config.EnvMattermostToken))
	}
	if cfg.Mattermost.URL == "" {
		return nil, errors.New(t("cli.mattermost.no_url", "Name", config.EnvMattermostURL))
	}
	cur, old, err := mattermostSecrets(cfg)
	if err != nil && (needSecret || !errors.Is(err, config.ErrNoKey)) {
		return nil, err
	}
	if cur == nil {
		cur = make([]byte, 32)
		_, _ = rand.Read(cur)
	}
	cmdTokens, err := cfg.Secret(config.EnvMattermostCommandToken)
	if err != nil {
		return nil, err
	}
	locale, zone := "", ""
	for _, c := range cfg.Communities {
		for _, sp := range c.Spaces {
			if sp.Platform == mattermostad.Platform && locale == "" {
				locale, zone = c.Locale, c.Timezone
			}
		}
	}
	m := cfg.Mattermost
	return mattermostad.New(mattermostad.Config{URL: m.URL, Token: token, CallbackURL: m.CallbackURL,
		ActionSecret: cur, OldActionSecrets: old, CommandTokens: strings.Split(cmdTokens, ","),
		ModeratorGroups: m.ModeratorGroups, VettedGroups: m.VettedGroups, ModeratorChannels: m.ModeratorChannels,
		VettedChannels: m.VettedChannels, Locale: locale, TimeZone: zone, DateTimeElements: m.DateElements}, log)
}

// mattermostSecrets is the secret that signs buttons and dialogs, and the older ones
// that still verify: TEND_MATTERMOST_ACTION_SECRET when set (32 bytes at least), else
// derived (HMAC-SHA256 with a fixed label) from the encryption key, and from the previous
// keys for what they signed before a rotation. Every replica derives the same, and the
// bot token is never used for it.
func mattermostSecrets(cfg *config.Config) (cur []byte, old [][]byte, err error) {
	s, err := cfg.Secret(config.EnvMattermostActionSecret)
	if err != nil {
		return nil, nil, err
	}
	if s != "" {
		if len(s) < 32 {
			return nil, nil, fmt.Errorf("config: %s must be at least 32 characters (for example: openssl rand -hex 32)", config.EnvMattermostActionSecret)
		}
		return []byte(s), nil, nil
	}
	derive := func(key []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(mattermostActionLabel))
		return m.Sum(nil)
	}
	raw, err := cfg.Secret(config.EnvKey)
	if err != nil {
		return nil, nil, err
	}
	var key []byte
	switch {
	case raw != "":
		if key, err = store.ParseKey(raw); err != nil {
			return nil, nil, fmt.Errorf("config: %s: %v", config.EnvKey, err)
		}
	case cfg.Encryption.KeyFile != "":
		if key, err = config.LoadKeyFile(cfg.Encryption.KeyFile); err != nil {
			return nil, nil, fmt.Errorf("config: encryption key: %w", err)
		}
	default:
		return nil, nil, config.ErrNoKey
	}
	for i, p := range cfg.Encryption.PreviousKeyFiles {
		k, err := config.LoadKeyFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("config: encryption.previous_key_files[%d]: %w", i, err)
		}
		old = append(old, derive(k))
	}
	return derive(key), old, nil
}

// mattermostTeams lists the configured Mattermost teams, in config order.
func mattermostTeams(cfg *config.Config) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cfg.Communities {
		for _, sp := range c.Spaces {
			if sp.Platform == mattermostad.Platform && !seen[sp.Workspace] {
				seen[sp.Workspace] = true
				out = append(out, sp.Workspace)
			}
		}
	}
	return out
}

// mattermost runs "tend mattermost register": it creates or updates the /tend command
// in each team given with --team, else in every Mattermost team of the config. Running
// it again changes nothing.
func (c *cli) mattermost(ctx context.Context, args []string) int {
	fs := c.flags("mattermost register")
	var teams []string
	fs.Func("team", c.t("cli.mattermost.flag_team"), func(v string) error {
		v = strings.TrimSpace(v)
		if !config.IsMattermostID(v) {
			return errors.New(c.t("cli.mattermost.bad_team"))
		}
		teams = append(teams, v)
		return nil
	})
	if code := parse(fs, args); code >= 0 {
		return code
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] != "register" {
		c.say(c.stderr, "cli.mattermost.usage")
		return exitUsage
	}
	if code := parse(fs, rest[1:]); code >= 0 {
		return code
	}
	if fs.NArg() != 0 {
		c.say(c.stderr, "cli.mattermost.usage")
		return exitUsage
	}
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	if len(teams) == 0 {
		teams = mattermostTeams(cfg)
	}
	if len(teams) == 0 {
		c.fail(errors.New(c.t("cli.mattermost.no_team")))
		return exitFailure
	}
	if cfg.Mattermost.CallbackURL == "" {
		c.fail(errors.New(c.t("cli.mattermost.no_callback", "Name", config.EnvMattermostCallbackURL)))
		return exitFailure
	}
	ad, err := mattermostAdapter(cfg, nil, c.t, false)
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	code := exitOK
	for _, team := range teams {
		cmd, outcome, err := ad.Register(ctx, team)
		if err != nil {
			c.fail(c.mattermostTrouble(err, team))
			code = exitFailure
			continue
		}
		c.say(c.stdout, "cli.mattermost.registered."+outcome, "Team", team, "URL", cmd.URL)
	}
	return code
}

// mattermostTrouble turns a failed call to Mattermost into what to check, with the
// original error in brackets for whoever helps.
func (c *cli) mattermostTrouble(err error, team string) error {
	var rl *bot.RateLimitError
	if errors.As(err, &rl) {
		secs := max(1, int(math.Ceil(rl.RetryAfter.Seconds())))
		return fmt.Errorf("%s (%w)", c.t("cli.mattermost.err.rate_limited", "Seconds", secs), err)
	}
	var ae *mattermostad.APIError
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%s (%w)", c.t("cli.mattermost.err.unreachable", "Name", config.EnvMattermostURL), err)
	}
	var msg string
	switch ae.Status {
	case http.StatusUnauthorized:
		msg = c.t("cli.mattermost.err.token", "Name", config.EnvMattermostToken)
	case http.StatusForbidden:
		msg = c.t("cli.mattermost.err.forbidden", "Team", team)
	case http.StatusNotFound:
		msg = c.t("cli.mattermost.err.unknown_team", "Team", team)
	case http.StatusNotImplemented:
		msg = c.t("cli.mattermost.err.commands_off")
	default:
		msg = c.t("cli.mattermost.err.other", "Status", ae.Status, "ID", ae.ID)
	}
	return fmt.Errorf("%s (%w)", msg, err)
}

// mattermostManifest prints what to set up on the Mattermost server for tend.
func (c *cli) mattermostManifest() int {
	w := c.stdout
	callback := "http://tend.internal:9464"
	if cfg, err := config.Load(c.configPath, c.getenv); err == nil && cfg.Mattermost.CallbackURL != "" {
		callback = cfg.Mattermost.CallbackURL
	}
	c.say(w, "cli.manifest.mattermost.title")
	for _, id := range []string{"bots", "account", "token", "integrations", "network", "config", "register", "next"} {
		c.say(w, "cli.manifest.mattermost."+id, "Name", config.EnvMattermostToken, "URL", callback,
			"Command", callback+mattermostad.PathCommand)
	}
	return exitOK
}

// mattermostRuntime keeps what the adapter learns from the server while serve runs: at
// start the slash command's tokens (for the commands the bot can list) and the members
// of the configured groups and channels, then the members again every few minutes. A
// failed refresh keeps the last known members and says so in the log.
type mattermostRuntime struct {
	ad    *mattermostad.Adapter
	teams []string
	log   *slog.Logger
	every time.Duration
	periodic
}

func (r *mattermostRuntime) Name() string { return "mattermost roles" }

func (r *mattermostRuntime) refresh(ctx context.Context) {
	if err := r.ad.RefreshRoles(ctx); err != nil {
		r.log.Warn("mattermost groups and channels could not be read; keeping the last known roles", "err", err)
	}
}

func (r *mattermostRuntime) Start(ctx context.Context) error {
	if n, err := r.ad.LearnCommandTokens(ctx, r.teams); err != nil {
		r.log.Warn("the /tend command could not be read from Mattermost; set TEND_MATTERMOST_COMMAND_TOKEN", "learned", n, "err", err)
	}
	if !r.ad.KnowsCommandTokens() {
		r.log.Warn("no /tend command token is known: slash commands will be refused until \"tend mattermost register\" runs or TEND_MATTERMOST_COMMAND_TOKEN is set")
	}
	every := r.every
	if every <= 0 {
		every = 2 * time.Minute
	}
	r.loop(ctx, every, r.refresh)
	return nil
}
