package mattermost

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tend-community/tend/bot"
)

// peopleFresh is how long what the server said about a person is trusted: a removed
// administrator loses the right to set tend up within a minute.
const peopleFresh = time.Minute

// maxPeople bounds the cache of people.
const maxPeople = 20000

// person is what the server says about someone in a team.
type person struct {
	name, locale string
	admin        bool
	at           time.Time
}

// person reads a person's name, language and whether they administer the team
// (team_admin) or the server (system_admin), with GET /users/{id} and
// GET /teams/{team}/members/{id}, trusted for a minute. When the server cannot say, the
// person is no administrator and goes by the name given.
func (a *Adapter) person(ctx context.Context, team, user, handle string) person {
	key := team + "/" + user
	a.mu.Lock()
	p, ok := a.people[key]
	a.mu.Unlock()
	if ok && time.Since(p.at) < peopleFresh {
		return p
	}
	p = person{name: handle, at: time.Now()}
	u, resp, err := a.api.GetUser(ctx, user, "")
	if err != nil {
		a.log.Warn("mattermost: could not read a person", "user", user, "err", apiError("GET /users/{id}", resp, err))
		return p
	}
	p.locale = u.Locale
	switch {
	case strings.TrimSpace(u.Nickname) != "":
		p.name = u.Nickname
	case strings.TrimSpace(u.FirstName+u.LastName) != "":
		p.name = strings.TrimSpace(u.FirstName + " " + u.LastName)
	case u.Username != "":
		p.name = u.Username
	}
	p.admin = hasRole(u.Roles, "system_admin")
	if !p.admin && team != "" {
		m, resp, err := a.api.GetTeamMember(ctx, team, user, "")
		switch {
		case err == nil:
			p.admin = m.SchemeAdmin || hasRole(m.Roles, "team_admin")
		default:
			a.log.Warn("mattermost: could not read a team member", "team", team, "user", user, "err", apiError("GET /teams/{id}/members/{id}", resp, err))
		}
	}
	a.mu.Lock()
	if len(a.people) >= maxPeople {
		clear(a.people)
	}
	a.people[key] = p
	a.mu.Unlock()
	return p
}

func hasRole(roles, role string) bool { return slices.Contains(strings.Fields(roles), role) }

// event starts a bot event by a person, with what the server says about them.
func (a *Adapter) event(ctx context.Context, id, team, user, handle, channel string, dm bool) bot.Event {
	p := a.person(ctx, team, user, handle)
	return bot.Event{ID: id, Platform: Platform, Workspace: team, UserID: user, UserName: p.name, Locale: p.locale,
		PlatformAdmin: p.admin, ChannelID: channel, InDM: dm, ReceivedAt: time.Now()}
}
