package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strings"

	discordad "github.com/tend-community/tend/adapters/discord"
	mattermostad "github.com/tend-community/tend/adapters/mattermost"
	slackad "github.com/tend-community/tend/adapters/slack"
)

// slackManifest builds a Slack app manifest (schema version 1). With base empty it uses
// Socket Mode; with an https base URL it uses the HTTP endpoints under it.
func slackManifest(name, base string) (map[string]any, error) {
	if name == "" {
		name = "tend"
	}
	if len(name) > 35 {
		return nil, fmt.Errorf("the app name must be 35 characters at most")
	}
	command := map[string]any{
		"command":       slackad.Command,
		"description":   "Ask for help, offer help, and manage your data",
		"usage_hint":    "help | ask | offer | volunteer | mine | privacy",
		"should_escape": false,
	}
	settings := map[string]any{
		"interactivity":          map[string]any{"is_enabled": true},
		"event_subscriptions":    map[string]any{"bot_events": slackad.BotEvents},
		"org_deploy_enabled":     false,
		"socket_mode_enabled":    base == "",
		"token_rotation_enabled": false,
	}
	if base != "" {
		u, err := url.Parse(base)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("--url must be an https URL where Slack can reach tend, like https://tend.example.org")
		}
		base = strings.TrimRight(base, "/")
		command["url"] = base + slackad.PathCommands
		settings["interactivity"] = map[string]any{"is_enabled": true, "request_url": base + slackad.PathInteractivity}
		settings["event_subscriptions"] = map[string]any{"bot_events": slackad.BotEvents, "request_url": base + slackad.PathEvents}
	}
	return map[string]any{
		"_metadata": map[string]any{"major_version": 1, "minor_version": 1},
		"display_information": map[string]any{
			"name":             name,
			"description":      "Mutual aid for a caring community: ask for and offer help, with consent and privacy.",
			"background_color": "#2f5d50",
		},
		"features": map[string]any{
			"app_home":       map[string]any{"home_tab_enabled": true, "messages_tab_enabled": true, "messages_tab_read_only_enabled": false},
			"bot_user":       map[string]any{"display_name": name, "always_online": true},
			"slash_commands": []any{command},
			"shortcuts": []any{map[string]any{
				"name": "Ask for help with this", "type": "message", "callback_id": slackad.ShortcutAsk,
				"description": "Start a request for help from this message (you choose what goes public)",
			}},
		},
		"oauth_config": map[string]any{"scopes": map[string]any{"bot": slackad.BotScopes}},
		"settings":     settings,
	}, nil
}

// manifest prints what to paste into or set in the platform's app settings: a Slack app
// manifest, the Discord developer portal's settings and invite link, or the Mattermost
// server's settings.
func (c *cli) manifest(ctx context.Context, args []string) int {
	fs := c.flags("manifest")
	name := fs.String("name", "tend", c.t("cli.manifest.flag_name"))
	base := fs.String("url", "", c.t("cli.manifest.flag_url"))
	app := fs.String("app", "", c.t("cli.manifest.flag_app"))
	if code := parse(fs, args); code >= 0 {
		return code
	}
	rest := fs.Args()
	if len(rest) == 0 || (rest[0] != slackad.Platform && rest[0] != discordad.Platform && rest[0] != mattermostad.Platform) {
		c.say(c.stderr, "cli.manifest.usage")
		return exitUsage
	}
	platform := rest[0]
	// Flags may also follow the platform.
	if code := parse(fs, rest[1:]); code >= 0 {
		return code
	}
	if fs.NArg() != 0 {
		c.say(c.stderr, "cli.manifest.usage")
		return exitUsage
	}
	// Each platform takes its own flags only.
	own := map[string][]string{slackad.Platform: {"name", "url", "config"}, discordad.Platform: {"app", "config"},
		mattermostad.Platform: {"config"}}[platform]
	misplaced := false
	fs.Visit(func(f *flag.Flag) { misplaced = misplaced || !slices.Contains(own, f.Name) })
	if misplaced {
		c.say(c.stderr, "cli.manifest.usage")
		return exitUsage
	}
	if platform == discordad.Platform {
		return c.discordManifest(ctx, strings.TrimSpace(*app))
	}
	if platform == mattermostad.Platform {
		return c.mattermostManifest()
	}
	m, err := slackManifest(*name, *base)
	if err != nil {
		c.fail(err)
		return exitUsage
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, string(out))
	return exitOK
}
