package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Mattermost configures the Mattermost adapter. The bot's access token and the secrets
// are read only from the environment or files: TEND_MATTERMOST_TOKEN, and optionally
// TEND_MATTERMOST_ACTION_SECRET and TEND_MATTERMOST_COMMAND_TOKEN (or *_FILE).
type Mattermost struct {
	// URL is the Mattermost server, such as https://chat.example.org
	// (TEND_MATTERMOST_URL).
	URL string `toml:"url"`
	// CallbackURL is tend's HTTP listener (http.listen) as the Mattermost server reaches
	// it, such as http://tend.internal:9464 (TEND_MATTERMOST_CALLBACK_URL): the slash
	// command, the buttons and the dialogs call it.
	CallbackURL string `toml:"callback_url"`
	// ModeratorGroups and VettedGroups are groups (their @handle without the @, or their
	// id) whose members hold the moderator or vetted role; ModeratorChannels and
	// VettedChannels are channels (their id, or "team-name/channel-name") likewise.
	ModeratorGroups   []string `toml:"moderator_groups"`
	VettedGroups      []string `toml:"vetted_groups"`
	ModeratorChannels []string `toml:"moderator_channels"`
	VettedChannels    []string `toml:"vetted_channels"`
	// DateElements shows date-and-time questions with the date picker of servers that
	// have "datetime" dialog elements; off, they are typed ("thursday 14:00").
	DateElements bool `toml:"date_elements"`
}

// Environment variables of the Mattermost adapter.
const (
	EnvMattermostToken        = "TEND_MATTERMOST_TOKEN"
	EnvMattermostActionSecret = "TEND_MATTERMOST_ACTION_SECRET"
	EnvMattermostCommandToken = "TEND_MATTERMOST_COMMAND_TOKEN"
	EnvMattermostURL          = "TEND_MATTERMOST_URL"
	EnvMattermostCallbackURL  = "TEND_MATTERMOST_CALLBACK_URL"
)

// mattermostIDRE is a Mattermost id: 26 lower-case letters and digits.
var mattermostIDRE = regexp.MustCompile(`^[a-z0-9]{26}$`)

// IsMattermostID reports whether s is a Mattermost id.
func IsMattermostID(s string) bool { return mattermostIDRE.MatchString(s) }

// mattermostIDProblem says what is wrong with an id in a Mattermost space or user
// reference, "" when it is an id. what is "team", "channel" or "user".
func mattermostIDProblem(field, v, what string) string {
	if v == "" || IsMattermostID(v) {
		return ""
	}
	where := map[string]string{
		"team":    "System Console → User Management → Teams, then the team: its id ends the page's address",
		"channel": "the channel's name at the top, then View Info",
		"user":    "System Console → User Management → Users, then the person",
	}[what]
	return fmt.Sprintf("%s %q must be a Mattermost %s id, 26 lower-case letters and digits (%s)", field, v, what, where)
}

// usesPlatform reports whether a community binds a space on the platform.
func (c *Config) usesPlatform(platform string) bool {
	for _, cm := range c.Communities {
		for _, sp := range cm.Spaces {
			if sp.Platform == platform {
				return true
			}
		}
	}
	return false
}

// mattermostProblems checks the [mattermost] section: the server and callback URLs
// (required once a community binds a Mattermost team), the HTTP listener Mattermost
// calls, and the group and channel names.
func (c *Config) mattermostProblems() []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: "+format, args...))
	}
	m := c.Mattermost
	used := c.usesPlatform("mattermost")
	for _, f := range []struct {
		field, v, env, example string
	}{
		{"url", m.URL, EnvMattermostURL, "https://chat.example.org"},
		{"callback_url", m.CallbackURL, EnvMattermostCallbackURL, "http://tend.internal:9464"},
	} {
		if f.v == "" {
			if used {
				what := "the Mattermost server's address"
				if f.field == "callback_url" {
					what = "where the Mattermost server reaches tend's HTTP listener (http.listen)"
				}
				bad("mattermost.%s is required for the Mattermost spaces: %s, such as %s (or %s)", f.field, what, f.example, f.env)
			}
			continue
		}
		if u, err := url.Parse(f.v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("mattermost.%s %q%s must be an http or https URL, such as %s", f.field, f.v, c.from("mattermost."+f.field), f.example)
		}
	}
	if used && c.HTTP.Listen == "" {
		bad("http.listen is off, but Mattermost calls tend there (the slash command, buttons and dialogs); set it to an address the Mattermost server reaches, such as 0.0.0.0:9464")
	}
	for _, list := range []struct {
		field string
		names []string
	}{{"moderator_groups", m.ModeratorGroups}, {"vetted_groups", m.VettedGroups}} {
		for i, g := range list.names {
			if g = strings.TrimSpace(g); g == "" || strings.ContainsAny(g, " /") {
				bad("mattermost.%s[%d] %q must be a group's @handle (without the @) or its id", list.field, i, g)
			}
		}
	}
	for _, list := range []struct {
		field string
		names []string
	}{{"moderator_channels", m.ModeratorChannels}, {"vetted_channels", m.VettedChannels}} {
		for i, ch := range list.names {
			team, name, pair := strings.Cut(strings.TrimSpace(ch), "/")
			if !(IsMattermostID(ch) || (pair && team != "" && name != "" && !strings.Contains(name, "/"))) {
				bad("mattermost.%s[%d] %q must be a channel id or team-name/channel-name, as in the channel's address", list.field, i, ch)
			}
		}
	}
	return errs
}
