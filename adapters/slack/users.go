package slack

import (
	"context"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// People's names. Slack sends a person's handle ("alice.smith") with slash commands and
// interactions, not the name Slack shows for them; users.info (scope users:read) gives
// that. One lookup serves a person's events for an hour; a lookup never holds an
// interaction up for long, and on any failure the handle stands in.
const (
	// nameTimeout bounds a users.info lookup, well inside Slack's 3 seconds to
	// acknowledge what the person did.
	nameTimeout = 1500 * time.Millisecond
	// nameTTL is how long a looked-up name serves.
	nameTTL = time.Hour
	// nameRetryAfter is how long a failed lookup (a missing users:read scope, Slack
	// slow or down) is not retried for that person: meanwhile their handle serves.
	nameRetryAfter = 5 * time.Minute
	// maxNames bounds the cache of names.
	maxNames = 10000
)

// cachedName is a person's looked-up name ("" when the lookup failed) and whether Slack
// calls them an admin or owner of the workspace.
type cachedName struct {
	name    string
	admin   bool
	expires time.Time
}

// personName is the name to show for user: their profile's display name, else the
// real name on their profile or account, else handle (the handle also when users.info
// fails or is slow).
func (a *Adapter) personName(ctx context.Context, user, handle string) string {
	name, _ := a.person(ctx, user, handle)
	return name
}

// person is personName and whether the person is an admin or owner of the workspace
// (false when the lookup failed: setting tend up is refused, never allowed, on doubt).
func (a *Adapter) person(ctx context.Context, user, handle string) (name string, admin bool) {
	if user == "" {
		return handle, false
	}
	a.mu.Lock()
	c, ok := a.names[user]
	a.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return orHandle(c.name, handle), c.admin
	}
	lctx, cancel := context.WithTimeout(ctx, nameTimeout)
	u, err := a.api.GetUserInfoContext(lctx, user)
	cancel()
	if err != nil {
		a.log.Debug("slack: looking up a person's name failed; showing their handle", "user", user, "err", apiError("users.info", err))
		if ctx.Err() == nil { // not when the event itself was given up on
			a.cacheName(user, cachedName{expires: time.Now().Add(nameRetryAfter)})
		}
		return handle, false
	}
	c = cachedName{name: profileName(u), admin: u.IsAdmin || u.IsOwner || u.IsPrimaryOwner, expires: time.Now().Add(nameTTL)}
	a.cacheName(user, c)
	return orHandle(c.name, handle), c.admin
}

// profileName is the name Slack shows for a person, "" when they have none.
func profileName(u *slack.User) string {
	if u == nil {
		return ""
	}
	for _, n := range []string{u.Profile.DisplayName, u.Profile.RealName, u.RealName} {
		if n = strings.TrimSpace(n); n != "" {
			return n
		}
	}
	return ""
}

func orHandle(name, handle string) string {
	if name != "" {
		return name
	}
	return handle
}

// cacheName keeps a person's name. When the cache is full, expired names go first,
// then, if it is still full, an arbitrary tenth of it (map order is random).
func (a *Adapter) cacheName(user string, c cachedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.names[user]; !ok && len(a.names) >= maxNames {
		now := time.Now()
		for id, c := range a.names {
			if !now.Before(c.expires) {
				delete(a.names, id)
			}
		}
		if len(a.names) >= maxNames {
			for id := range a.names {
				if len(a.names) < maxNames-maxNames/10 {
					break
				}
				delete(a.names, id)
			}
		}
	}
	a.names[user] = c
}
