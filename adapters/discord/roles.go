package discord

import (
	"context"
	"errors"
	"slices"
	"time"
)

// rolesFresh is how long roles fetched for an interaction in a DM are trusted; in a
// guild every interaction carries the person's roles as they are now.
const rolesFresh = time.Minute

// memberRoles are a person's role ids in a guild, as last seen.
type memberRoles struct {
	roles []string
	at    time.Time
}

// seeRoles remembers a person's roles from an interaction in a guild.
func (a *Adapter) seeRoles(guild, user string, roles []string) {
	if guild == "" || user == "" {
		return
	}
	a.mu.Lock()
	if a.members[user] == nil {
		a.members[user] = map[string]memberRoles{}
	}
	a.members[user][guild] = memberRoles{roles: slices.Clone(roles), at: time.Now()}
	a.mu.Unlock()
}

// refreshRoles fetches a person's roles with GET /guilds/{guild}/members/{user} unless
// they were seen within rolesFresh. Someone no longer in the guild holds no role.
func (a *Adapter) refreshRoles(ctx context.Context, guild, user string) {
	if guild == "" || user == "" {
		return
	}
	a.mu.Lock()
	m, ok := a.members[user][guild]
	a.mu.Unlock()
	if ok && time.Since(m.at) < rolesFresh {
		return
	}
	var out struct {
		Roles []string `json:"roles"`
	}
	err := a.call(ctx, "GET", "/guilds/"+guild+"/members/"+user, "GET /guilds/{id}/members/{id}", nil, &out)
	var ae *APIError
	switch {
	case err == nil, errors.As(err, &ae) && ae.Status == 404:
		a.seeRoles(guild, user, out.Roles)
	default:
		// Roles stay as last seen (or none): a privileged action is refused, not allowed.
		a.log.Warn("discord: could not read a member's roles", "guild", guild, "user", user, "err", err)
	}
}

// Roles says whether a person holds a moderator or vetted role (Config.ModeratorRoles,
// Config.VettedRoles) in any guild where the bot saw them.
func (a *Adapter) Roles(user string) (moderator, vetted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.members[user] {
		for _, r := range m.roles {
			moderator = moderator || slices.Contains(a.cfg.ModeratorRoles, r)
			vetted = vetted || slices.Contains(a.cfg.VettedRoles, r)
		}
	}
	return moderator, vetted
}
