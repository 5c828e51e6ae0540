package mattermost

import (
	"context"
	"errors"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
)

// Outcomes of Register.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// ErrNoCallbackURL is Register without a callback URL: Mattermost must know where tend is.
var ErrNoCallbackURL = errors.New("mattermost: the callback URL (mattermost.callback_url) is required to register the command")

// command is /tend as tend registers it in a team: a POST to tend's command endpoint,
// with autocomplete in the community's language.
func (a *Adapter) command(team string) *model.Command {
	return &model.Command{
		TeamId: team, Trigger: Trigger, Method: model.CommandMethodPost, URL: a.callback(PathCommand),
		DisplayName: "tend", Description: a.text("", "mattermost.cmd.description", nil),
		AutoComplete: true, AutoCompleteDesc: a.text("", "mattermost.cmd.autocomplete", nil),
		AutoCompleteHint: a.text("", "mattermost.cmd.hint", nil),
	}
}

// Register makes the team's /tend command call tend: it lists the team's custom
// commands, creates /tend when there is none, updates it when it differs (the token
// stays), and changes nothing when it is already right, so running it again is
// harmless. The command's token is accepted from then on. It returns the command and
// Created, Updated or Unchanged.
func (a *Adapter) Register(ctx context.Context, team string) (*model.Command, string, error) {
	if a.cfg.CallbackURL == "" {
		return nil, "", ErrNoCallbackURL
	}
	want := a.command(team)
	cmds, resp, err := a.api.ListCommands(ctx, team, true)
	if err != nil {
		return nil, "", apiError("GET /commands", resp, err)
	}
	for _, c := range cmds {
		if c.DeleteAt != 0 || !strings.EqualFold(c.Trigger, Trigger) || c.TeamId != team {
			continue
		}
		if sameCommand(c, want) {
			a.acceptToken(c.Token)
			return c, Unchanged, nil
		}
		upd := *c
		upd.Method, upd.URL, upd.DisplayName, upd.Description = want.Method, want.URL, want.DisplayName, want.Description
		upd.AutoComplete, upd.AutoCompleteDesc, upd.AutoCompleteHint = want.AutoComplete, want.AutoCompleteDesc, want.AutoCompleteHint
		out, resp, err := a.api.UpdateCommand(ctx, &upd)
		if err != nil {
			return nil, "", apiError("PUT /commands/{id}", resp, err)
		}
		a.acceptToken(out.Token)
		return out, Updated, nil
	}
	out, resp, err := a.api.CreateCommand(ctx, want)
	if err != nil {
		return nil, "", apiError("POST /commands", resp, err)
	}
	a.acceptToken(out.Token)
	return out, Created, nil
}

func sameCommand(c, want *model.Command) bool {
	return c.Method == want.Method && c.URL == want.URL && c.DisplayName == want.DisplayName &&
		c.Description == want.Description && c.AutoComplete == want.AutoComplete &&
		c.AutoCompleteDesc == want.AutoCompleteDesc && c.AutoCompleteHint == want.AutoCompleteHint
}

// LearnCommandTokens accepts the tokens of the /tend commands that call tend in the
// given teams, as far as the bot may list them (it can list the commands it made). It
// returns how many it learned; a team it cannot list is an error, after the others.
func (a *Adapter) LearnCommandTokens(ctx context.Context, teams []string) (int, error) {
	n := 0
	var errs []error
	for _, team := range teams {
		cmds, resp, err := a.api.ListCommands(ctx, team, true)
		if err != nil {
			errs = append(errs, apiError("GET /commands", resp, err))
			continue
		}
		for _, c := range cmds {
			if c.DeleteAt == 0 && strings.EqualFold(c.Trigger, Trigger) && c.URL == a.callback(PathCommand) && c.Token != "" {
				a.acceptToken(c.Token)
				n++
			}
		}
	}
	return n, errors.Join(errs...)
}

// KnowsCommandTokens reports whether any slash command token is accepted.
func (a *Adapter) KnowsCommandTokens() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.tokens) > 0
}
