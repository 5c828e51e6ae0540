package mattermost

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
)

// perPage is the page size for member lists (the server's maximum is 200).
const perPage = 200

// RefreshRoles reads the members of the configured groups and channels: moderators
// from Config.ModeratorGroups and ModeratorChannels, vetted volunteers from VettedGroups
// and VettedChannels. A group is named by its @handle (without the @) or its id
// (GET /groups?q=, GET /groups/{id}/members); a channel by its id or as
// "team-name/channel-name" (GET /teams/name/{team}/channels/name/{channel},
// GET /channels/{id}/members). One that does not exist is an error, so a typo in the
// config is not mistaken for "nobody"; on any error the last known members stay. It
// makes no call when nothing is configured. Roles reads the result on every event.
func (a *Adapter) RefreshRoles(ctx context.Context) error {
	c := a.cfg
	if len(c.ModeratorGroups)+len(c.VettedGroups)+len(c.ModeratorChannels)+len(c.VettedChannels) == 0 {
		return nil
	}
	mods, vetted := map[string]bool{}, map[string]bool{}
	fill := func(into map[string]bool, groups, channels []string) error {
		for _, g := range groups {
			users, err := a.groupMembers(ctx, g)
			if err != nil {
				return err
			}
			for _, u := range users {
				into[u] = true
			}
		}
		for _, ch := range channels {
			users, err := a.channelMembers(ctx, ch)
			if err != nil {
				return err
			}
			for _, u := range users {
				into[u] = true
			}
		}
		return nil
	}
	if err := fill(mods, c.ModeratorGroups, c.ModeratorChannels); err != nil {
		return err
	}
	if err := fill(vetted, c.VettedGroups, c.VettedChannels); err != nil {
		return err
	}
	a.mu.Lock()
	a.mods, a.vetted = mods, vetted
	a.mu.Unlock()
	return nil
}

// Roles says whether a person is in a moderators' or a vetted volunteers' group or
// channel, as last read by RefreshRoles.
func (a *Adapter) Roles(user string) (moderator, vetted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mods[user], a.vetted[user]
}

// groupMembers lists the user ids in a group named by handle or id.
func (a *Adapter) groupMembers(ctx context.Context, name string) ([]string, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "@")
	id := ""
	if model.IsValidId(name) {
		if g, resp, err := a.api.GetGroup(ctx, name, ""); err == nil {
			id = g.Id
		} else if resp == nil || resp.StatusCode != 404 {
			return nil, apiError("GET /groups/{id}", resp, err)
		}
	}
	if id == "" {
		groups, resp, err := a.api.GetGroups(ctx, model.GroupSearchOpts{Q: name, PageOpts: &model.PageOpts{Page: 0, PerPage: perPage}})
		if err != nil {
			return nil, apiError("GET /groups", resp, err)
		}
		for _, g := range groups {
			if g.Name != nil && strings.EqualFold(*g.Name, name) && g.DeleteAt == 0 {
				id = g.Id
			}
		}
	}
	if id == "" {
		return nil, fmt.Errorf("mattermost: no group %q (give its @handle without the @, or its id)", name)
	}
	var out []string
	for page := 0; ; page++ {
		var list model.GroupMemberList
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(perPage)}}
		if err := a.getJSON(ctx, "/groups/"+id+"/members?"+q.Encode(), "GET /groups/{id}/members", &list); err != nil {
			return nil, err
		}
		for _, u := range list.Members {
			if u != nil && u.DeleteAt == 0 {
				out = append(out, u.Id)
			}
		}
		if len(list.Members) < perPage {
			return out, nil
		}
	}
}

// channelMembers lists the user ids in a channel named by id or "team/channel".
func (a *Adapter) channelMembers(ctx context.Context, name string) ([]string, error) {
	name = strings.TrimSpace(name)
	id := name
	if team, ch, ok := strings.Cut(name, "/"); ok {
		c, resp, err := a.api.GetChannelByNameForTeamName(ctx, strings.TrimPrefix(ch, "~"), team, "")
		if err != nil {
			if resp != nil && resp.StatusCode == 404 {
				return nil, fmt.Errorf("mattermost: no channel %q (give team-name/channel-name as in the channel's URL, or its id)", name)
			}
			return nil, apiError("GET /teams/name/{team}/channels/name/{channel}", resp, err)
		}
		id = c.Id
	}
	var out []string
	for page := 0; ; page++ {
		members, resp, err := a.api.GetChannelMembers(ctx, id, page, perPage, "")
		if err != nil {
			if resp != nil && resp.StatusCode == 404 {
				return nil, fmt.Errorf("mattermost: no channel %q the bot can see (is the bot a member?)", name)
			}
			return nil, apiError("GET /channels/{id}/members", resp, err)
		}
		for _, m := range members {
			out = append(out, m.UserId)
		}
		if len(members) < perPage {
			return out, nil
		}
	}
}
