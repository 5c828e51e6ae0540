package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must validate on hosts without a zoneinfo database

	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
)

var (
	slugRE     = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)
	categoryRE = regexp.MustCompile(`^[a-z_]{1,30}$`)
	regionRE   = regexp.MustCompile(`^[A-Z]+(-[A-Z0-9]+)*$`)
	// snowflakeRE is a Discord id: a 64-bit number in decimal.
	snowflakeRE = regexp.MustCompile(`^[0-9]{1,20}$`)
)

var tiers = []string{"member", "volunteer", "vetted"}

// Limits on a community's visit settings.
const (
	maxVisitRules   = 12
	maxVisitRuleLen = 300
	maxVisitContact = 200
	maxGraceMinutes = 24 * 60
	maxVettingDays  = 3650
)

// oneOf renders a choice list as "a, b or c".
func oneOf(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// validate returns one error per problem, each naming its field.
func (c *Config) validate() []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: "+format, args...))
	}
	if levels := []string{"debug", "info", "warn", "error"}; !slices.Contains(levels, c.Log.Level) {
		bad("log.level %q%s must be %s", c.Log.Level, c.from("log.level"), oneOf(levels))
	}
	if formats := []string{"text", "json"}; !slices.Contains(formats, c.Log.Format) {
		bad("log.format %q%s must be %s", c.Log.Format, c.from("log.format"), oneOf(formats))
	}
	if m := c.Slack.Mode; m != "" && m != "socket" && m != "http" {
		bad("slack.mode %q%s must be socket or http", m, c.from("slack.mode"))
	}
	errs = append(errs, c.discordProblems()...)
	errs = append(errs, c.mattermostProblems()...)
	if msg := listenProblem(c.HTTP.Listen); msg != "" {
		bad("http.listen %q%s %s", c.HTTP.Listen, c.from("http.listen"), msg)
	}
	for i, p := range c.Encryption.PreviousKeyFiles {
		if strings.TrimSpace(p) == "" {
			bad("encryption.previous_key_files[%d] is empty", i)
		}
	}
	slugs := map[string]int{}
	spaces := map[[2]string]string{}
	for i, cm := range c.Communities {
		where := fmt.Sprintf("communities[%d]", i)
		if slugRE.MatchString(cm.Slug) {
			where = fmt.Sprintf("community %q", cm.Slug)
		}
		for _, msg := range cm.problems() {
			bad("%s: %s", where, msg)
		}
		if cm.Slug != "" {
			if j, dup := slugs[cm.Slug]; dup {
				bad("%s: slug is also used by communities[%d]; slugs must be unique", where, j)
			}
			slugs[cm.Slug] = i
		}
		for k, sp := range cm.Spaces {
			key := [2]string{sp.Platform, sp.Workspace}
			if sp.Platform == "" || sp.Workspace == "" {
				continue
			}
			if other, dup := spaces[key]; dup {
				bad("%s: spaces[%d] (%s workspace %q) is already bound to %s", where, k, sp.Platform, sp.Workspace, other)
				continue
			}
			spaces[key] = where
		}
	}
	return errs
}

// IsSnowflake reports whether s is a Discord id: digits only.
func IsSnowflake(s string) bool { return snowflakeRE.MatchString(s) }

// copyID says where Discord shows an id, for error messages.
const copyID = "turn on Developer Mode (User Settings → Advanced), then right-click %s and choose %s"

// discordProblems checks the [discord] section: shard numbers and ids.
func (c *Config) discordProblems() []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: "+format, args...))
	}
	d := c.Discord
	id, count := c.from("discord.shard_id"), c.from("discord.shard_count")
	if d.ShardCount < 0 {
		bad("discord.shard_count %d%s must be 0 or more (0 or 1 is a single shard)", d.ShardCount, count)
	}
	switch {
	case d.ShardID < 0:
		bad("discord.shard_id %d%s must be 0 or more", d.ShardID, id)
	case d.ShardCount > 0 && d.ShardID >= d.ShardCount:
		bad("discord.shard_id %d%s must be below discord.shard_count %d%s: shard ids run from 0 to %d",
			d.ShardID, id, d.ShardCount, count, d.ShardCount-1)
	case d.ShardCount == 0 && d.ShardID > 0:
		bad("discord.shard_id %d%s needs discord.shard_count (or %s), the number of shards all replicas share",
			d.ShardID, id, EnvDiscordShardCount)
	}
	if d.ApplicationID != "" && !snowflakeRE.MatchString(d.ApplicationID) {
		bad("discord.application_id %q must be digits only, as the developer portal shows it (General Information, Application ID)", d.ApplicationID)
	}
	for _, list := range []struct {
		field string
		ids   []string
	}{{"moderator_roles", d.ModeratorRoles}, {"vetted_roles", d.VettedRoles}} {
		for i, r := range list.ids {
			if !snowflakeRE.MatchString(r) {
				bad("discord.%s[%d] %q must be a role id, digits only: "+copyID, list.field, i, r,
					"the role in Server Settings → Roles", "Copy Role ID")
			}
		}
	}
	if u := d.APIBase; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("discord.api_base %q%s must be an http or https URL, such as https://discord.com/api/v10", u, c.from("discord.api_base"))
		}
	}
	return errs
}

// discordIDProblem says what is wrong with an id in a Discord space or user reference,
// "" when it is a snowflake. what is "server", "channel" or "user".
func discordIDProblem(field, v, what string) string {
	if v == "" || snowflakeRE.MatchString(v) {
		return ""
	}
	where := map[string]string{"server": "the server's icon", "channel": "the channel", "user": "the person's name"}[what]
	copyAs := "Copy " + strings.ToUpper(what[:1]) + what[1:] + " ID"
	return fmt.Sprintf("%s %q must be a Discord %s id, digits only: "+copyID, field, v, what, where, copyAs)
}

// hostRE is a DNS name such as localhost or metrics.internal.
var hostRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// listenProblem says what is wrong with a host:port listen address, "" when nothing is
// ("" itself means disabled).
func listenProblem(addr string) string {
	const want = "must be host:port, such as 127.0.0.1:9464 or :9464 for every interface (empty or \"off\" turns it off)"
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return want
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
		return fmt.Sprintf("has port %q; %s, with a port from 1 to 65535", port, want)
	}
	if host != "" && net.ParseIP(host) == nil && !hostRE.MatchString(host) {
		return fmt.Sprintf("has host %q, which is neither an IP address nor a host name; %s", host, want)
	}
	return ""
}

// problems lists what is wrong with one community, each message starting with its field.
func (cm Community) problems() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	switch {
	case cm.Slug == "":
		add("slug is required")
	case !slugRE.MatchString(cm.Slug):
		add("slug %q must be 1 to 40 lowercase letters, digits or dashes", cm.Slug)
	}
	if strings.TrimSpace(cm.Name) == "" {
		add("name is required")
	}
	if catalog.Supported(cm.Locale) == "" {
		add("locale %q must be %s", cm.Locale, oneOf(catalog.Languages))
	}
	switch {
	case cm.Timezone == "":
		add("timezone is required (an IANA zone such as America/Toronto)")
	case cm.Timezone == "Local":
		add("timezone must name a zone such as America/Toronto, not Local")
	default:
		if _, err := time.LoadLocation(cm.Timezone); err != nil {
			add("timezone %q is not a known time zone (use an IANA name such as America/Toronto)", cm.Timezone)
		}
	}
	if cm.Region != "" && !regionRE.MatchString(cm.Region) {
		add("region %q must be uppercase letters and dashes, such as CA, CA-QC or US", cm.Region)
	}
	if cm.RetentionDays < 1 || cm.RetentionDays > 3650 {
		add("retention_days %d must be between 1 and 3650", cm.RetentionDays)
	}
	if len(cm.Categories) == 0 {
		add("categories: at least one category is needed (omit the field to get the default set)")
	}
	keys := map[string]int{}
	for i, cat := range cm.Categories {
		f := fmt.Sprintf("categories[%d]", i)
		if !categoryRE.MatchString(cat.Key) {
			add("%s.key %q must be 1 to 30 lowercase letters or underscores", f, cat.Key)
		} else if j, dup := keys[cat.Key]; dup {
			add("%s.key %q repeats categories[%d]; keys must be unique", f, cat.Key, j)
		} else {
			keys[cat.Key] = i
		}
		if store.NormalizeRisk(cat.Risk) == "" {
			add("%s.risk %q must be %s (or the older low, medium or high)", f, cat.Risk, oneOf(store.RiskLevels))
		}
		if cat.Helpers < 0 || cat.Helpers > 2 {
			add("%s.helpers %d must be 1 or 2 (2 when one request needs two volunteers)", f, cat.Helpers)
		}
		if !slices.Contains(tiers, cat.Tier) {
			add("%s.tier %q must be %s", f, cat.Tier, oneOf(tiers))
		}
	}
	out = append(out, cm.visitProblems()...)
	for i, r := range cm.CrisisResources {
		if strings.TrimSpace(r.Label) == "" {
			add("crisis_resources[%d].label is required", i)
		}
		if strings.TrimSpace(r.Contact) == "" {
			add("crisis_resources[%d].contact is required", i)
		}
	}
	for i, sp := range cm.Spaces {
		f := fmt.Sprintf("spaces[%d]", i)
		if sp.Platform == "" {
			add("%s.platform is required", f)
		} else if !slices.Contains(Platforms, sp.Platform) {
			add("%s.platform %q must be %s", f, sp.Platform, oneOf(Platforms))
		}
		for _, req := range []struct{ name, v, what string }{
			{"workspace", sp.Workspace, "server"}, {"board_channel", sp.BoardChannel, "channel"},
			{"moderators_channel", sp.ModeratorsChannel, "channel"},
		} {
			if strings.TrimSpace(req.v) == "" {
				add("%s.%s is required", f, req.name)
			} else if sp.Platform == "discord" {
				if msg := discordIDProblem(f+"."+req.name, req.v, req.what); msg != "" {
					add("%s", msg)
				}
			} else if sp.Platform == "mattermost" {
				what := map[string]string{"server": "team"}[req.what]
				if what == "" {
					what = req.what
				}
				if msg := mattermostIDProblem(f+"."+req.name, req.v, what); msg != "" {
					add("%s", msg)
				}
			}
		}
	}
	out = append(out, userProblems("moderators", cm.Moderators)...)
	out = append(out, userProblems("vetted", cm.Vetted)...)
	return out
}

// visitProblems checks the safe-visit settings.
func (cm Community) visitProblems() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if len(cm.VisitRules) > maxVisitRules {
		add("visit_rules has %d lines; at most %d fit in a message", len(cm.VisitRules), maxVisitRules)
	}
	for i, l := range cm.VisitRules {
		switch {
		case strings.TrimSpace(l) == "":
			add("visit_rules[%d] is empty", i)
		case strings.ContainsAny(l, "\n\r") || len([]rune(l)) > maxVisitRuleLen:
			add("visit_rules[%d] must be one line of at most %d characters", i, maxVisitRuleLen)
		}
	}
	if c := cm.VisitContact; strings.ContainsAny(c, "\n\r") || len([]rune(c)) > maxVisitContact {
		add("visit_contact must be one line of at most %d characters", maxVisitContact)
	}
	if g := cm.VisitGraceMinutes; g < 0 || g > maxGraceMinutes {
		add("visit_grace_minutes %d must be between 1 and %d (0 or leaving it out means 30)", g, maxGraceMinutes)
	}
	if d := cm.VettingValidDays; d < 0 || d > maxVettingDays {
		add("vetting_valid_days %d must be between 0 (no end date) and %d", d, maxVettingDays)
	}
	return out
}

func userProblems(field string, us []UserRef) []string {
	var out []string
	seen := map[UserRef]int{}
	for i, u := range us {
		f := fmt.Sprintf("%s[%d]", field, i)
		if u.Platform == "" {
			out = append(out, f+".platform is required")
		} else if !slices.Contains(Platforms, u.Platform) {
			out = append(out, fmt.Sprintf("%s.platform %q must be %s", f, u.Platform, oneOf(Platforms)))
		}
		if strings.TrimSpace(u.UserID) == "" {
			out = append(out, f+".user_id is required")
		} else if msg := discordIDProblem(f+".user_id", u.UserID, "user"); u.Platform == "discord" && msg != "" {
			out = append(out, msg)
		} else if msg := mattermostIDProblem(f+".user_id", u.UserID, "user"); u.Platform == "mattermost" && msg != "" {
			out = append(out, msg)
		} else if j, dup := seen[u]; dup {
			out = append(out, fmt.Sprintf("%s repeats %s[%d]", f, field, j))
		} else {
			seen[u] = i
		}
	}
	return out
}
