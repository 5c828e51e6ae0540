package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"

	discordad "github.com/tend-community/tend/adapters/discord"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/config"
)

// discordAdapter builds the Discord adapter from the config and the token. t localises the
// operator's messages; log may be nil.
func discordAdapter(cfg *config.Config, log *slog.Logger, t func(string, ...any) string) (*discordad.Adapter, error) {
	token, err := cfg.Secret(config.EnvDiscordToken)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New(t("cli.discord.no_token", "Name", config.EnvDiscordToken))
	}
	locale := ""
	for _, c := range cfg.Communities {
		for _, sp := range c.Spaces {
			if sp.Platform == discordad.Platform && locale == "" {
				locale = c.Locale
			}
		}
	}
	d := cfg.Discord
	return discordad.New(discordad.Config{Token: token, AppID: d.ApplicationID, ShardID: d.ShardID, ShardCount: d.ShardCount,
		ModeratorRoles: d.ModeratorRoles, VettedRoles: d.VettedRoles, Locale: locale, APIBase: d.APIBase, MemberEvents: d.MemberEvents}, log)
}

// discordGuilds lists the configured Discord servers, in config order.
func discordGuilds(cfg *config.Config) []string {
	var out []string
	for _, c := range cfg.Communities {
		for _, sp := range c.Spaces {
			if sp.Platform == discordad.Platform {
				out = append(out, sp.Workspace)
			}
		}
	}
	return out
}

// discord runs "tend discord register": it installs the /tend command in each server
// given with --guild, else in every Discord server of the config, or globally with
// --global. Each run overwrites the whole command set, so running it again is harmless.
func (c *cli) discord(ctx context.Context, args []string) int {
	fs := c.flags("discord register")
	var guilds []string
	fs.Func("guild", c.t("cli.discord.flag_guild"), func(v string) error {
		v = strings.TrimSpace(v)
		if !config.IsSnowflake(v) {
			return errors.New(c.t("cli.discord.bad_guild"))
		}
		guilds = append(guilds, v)
		return nil
	})
	global := fs.Bool("global", false, c.t("cli.discord.flag_global"))
	if code := parse(fs, args); code >= 0 {
		return code
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] != "register" {
		c.say(c.stderr, "cli.discord.usage")
		return exitUsage
	}
	// Flags may also follow the subcommand.
	if code := parse(fs, rest[1:]); code >= 0 {
		return code
	}
	if fs.NArg() != 0 {
		c.say(c.stderr, "cli.discord.usage")
		return exitUsage
	}
	if *global && len(guilds) > 0 {
		c.fail(errors.New(c.t("cli.discord.global_and_guild")))
		return exitUsage
	}
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	targets := guilds
	switch {
	case *global:
		targets = []string{""}
	case len(targets) == 0:
		targets = discordGuilds(cfg)
	}
	if len(targets) == 0 {
		c.fail(errors.New(c.t("cli.discord.no_guild")))
		return exitFailure
	}
	ad, err := discordAdapter(cfg, nil, c.t)
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	app, err := ad.ApplicationID(ctx)
	if err != nil {
		c.fail(c.discordTrouble(err, "", cfg.Discord.ApplicationID))
		return exitFailure
	}
	c.say(c.stdout, "cli.discord.app", "App", app)
	code := exitOK
	seen := map[string]bool{}
	for _, g := range targets {
		if seen[g] {
			continue
		}
		seen[g] = true
		n, err := ad.Register(ctx, g)
		switch {
		case err != nil:
			c.fail(c.discordTrouble(err, g, app))
			code = exitFailure
		case g == "":
			c.say(c.stdout, "cli.discord.registered_global", "Count", n)
		default:
			c.say(c.stdout, "cli.discord.registered", "Guild", g, "Count", n)
		}
	}
	return code
}

// Discord's JSON error codes the command line explains.
const (
	codeUnknownApplication = 10002
	codeUnknownGuild       = 10004
	codeMissingAccess      = 50001
)

// discordTrouble turns a failed call to Discord into what to check: the token, the
// application id, whether the bot is in that server. guild is "" for calls that are not
// about one server; app is the application id when known. The original error follows in
// brackets, for whoever helps.
func (c *cli) discordTrouble(err error, guild, app string) error {
	var rl *bot.RateLimitError
	if errors.As(err, &rl) {
		secs := max(1, int(math.Ceil(rl.RetryAfter.Seconds())))
		return fmt.Errorf("%s (%w)", c.t("cli.discord.err.rate_limited", "Seconds", secs), err)
	}
	var ae *discordad.APIError
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%s (%w)", c.t("cli.discord.err.unreachable", "Base", config.EnvDiscordAPIBase), err)
	}
	status, code := ae.Status, ae.Code
	var msg string
	switch {
	case status == 401:
		msg = c.t("cli.discord.err.token", "Name", config.EnvDiscordToken)
	case code == codeUnknownGuild && guild != "":
		msg = c.t("cli.discord.err.unknown_guild", "Guild", guild)
	case code == codeUnknownApplication || (status == 404 && guild == ""):
		msg = c.t("cli.discord.err.unknown_app", "App", app, "Name", config.EnvDiscordToken)
	case (status == 403 || code == codeMissingAccess) && guild != "":
		msg = c.t("cli.discord.err.not_in_guild", "Guild", guild, "App", app)
	case status == 403:
		msg = c.t("cli.discord.err.no_access", "App", app, "Name", config.EnvDiscordToken)
	default:
		msg = c.t("cli.discord.err.other", "Status", status, "Code", code)
	}
	return fmt.Errorf("%s (%w)", msg, err)
}

// discordManifest prints what to set up in the Discord developer portal, with the invite
// link for the application: app from --app, else application_id in the config, else
// asked of Discord with the token. Without any of them it prints the rest, says how to
// give the id, and exits 1.
func (c *cli) discordManifest(ctx context.Context, app string) int {
	if app == "" {
		cfg, ok := c.loadConfig()
		if !ok {
			return exitFailure
		}
		app = cfg.Discord.ApplicationID
		token, err := cfg.Secret(config.EnvDiscordToken)
		if err != nil {
			c.fail(err)
			return exitFailure
		}
		if app == "" && token != "" {
			ad, err := discordAdapter(cfg, nil, c.t)
			if err != nil {
				c.fail(err)
				return exitFailure
			}
			if app, err = ad.ApplicationID(ctx); err != nil {
				c.fail(c.discordTrouble(err, "", ""))
				return exitFailure
			}
		}
	} else if !config.IsSnowflake(app) {
		c.fail(errors.New(c.t("cli.manifest.discord.bad_app", "App", app)))
		return exitUsage
	}
	w := c.stdout
	c.say(w, "cli.manifest.discord.title")
	if app != "" {
		c.say(w, "cli.manifest.discord.app", "App", app)
		fmt.Fprintln(w)
		c.say(w, "cli.manifest.discord.invite")
		fmt.Fprintln(w, "  "+discordad.InviteURL(app))
	}
	fmt.Fprintln(w)
	c.say(w, "cli.manifest.discord.scopes")
	c.say(w, "cli.manifest.discord.permissions", "Permissions", discordad.Permissions)
	c.say(w, "cli.manifest.discord.intents")
	c.say(w, "cli.manifest.discord.member_events")
	c.say(w, "cli.manifest.discord.endpoint")
	c.say(w, "cli.manifest.discord.install")
	c.say(w, "cli.manifest.discord.token", "Name", config.EnvDiscordToken)
	c.say(w, "cli.manifest.discord.next")
	if app == "" {
		c.fail(errors.New(c.t("cli.manifest.discord.no_app", "Name", config.EnvDiscordToken)))
		return exitFailure
	}
	return exitOK
}
