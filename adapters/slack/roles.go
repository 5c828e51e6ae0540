package slack

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// Roles lists the members of the configured user groups: moderators from
// Config.ModeratorGroups, vetted volunteers from Config.VettedGroups, as Slack user id ->
// true. A group is named by its id (S0123ABC) or its handle (@care-team or care-team);
// handles are resolved with usergroups.list, members come from usergroups.users.list.
// A group that does not exist (or is disabled) is an error, so a typo in the config is
// not mistaken for "nobody". It makes no call when no group is configured. Callers
// cache the answer: Slack rate-limits these methods (Tier 2).
func (a *Adapter) Roles(ctx context.Context) (moderators, vetted map[string]bool, err error) {
	moderators, vetted = map[string]bool{}, map[string]bool{}
	if len(a.cfg.ModeratorGroups) == 0 && len(a.cfg.VettedGroups) == 0 {
		return moderators, vetted, nil
	}
	groups, err := a.api.GetUserGroupsContext(ctx)
	if err != nil {
		return nil, nil, apiError("usergroups.list", err)
	}
	members := map[string][]string{} // group id -> members, fetched once
	fill := func(names []string, into map[string]bool) error {
		for _, name := range names {
			id, ok := groupID(groups, name)
			if !ok {
				return fmt.Errorf("slack: no enabled user group %q (give its id or its handle)", name)
			}
			users, seen := members[id]
			if !seen {
				var err error
				if users, err = a.api.GetUserGroupMembersContext(ctx, id); err != nil {
					return apiError("usergroups.users.list", err)
				}
				members[id] = users
			}
			for _, u := range users {
				into[u] = true
			}
		}
		return nil
	}
	if err := fill(a.cfg.ModeratorGroups, moderators); err != nil {
		return nil, nil, err
	}
	if err := fill(a.cfg.VettedGroups, vetted); err != nil {
		return nil, nil, err
	}
	return moderators, vetted, nil
}

// groupID finds a group by id or handle.
func groupID(groups []slack.UserGroup, name string) (string, bool) {
	name = strings.TrimSpace(name)
	handle := strings.ToLower(strings.TrimPrefix(name, "@"))
	for _, g := range groups {
		if g.ID == name || (handle != "" && strings.ToLower(g.Handle) == handle) {
			return g.ID, true
		}
	}
	return "", false
}
