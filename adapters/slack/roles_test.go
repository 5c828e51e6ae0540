package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
)

func groupsAPI(f *fakeAPI) {
	f.on("usergroups.list", func(w http.ResponseWriter, _ call) {
		writeOK(w, map[string]any{"usergroups": []map[string]any{
			{"id": "S0614TZR7", "team_id": "T1", "is_usergroup": true, "name": "Care moderators", "handle": "care-mods", "date_delete": 0, "user_count": 2},
			{"id": "S06158AV7", "team_id": "T1", "is_usergroup": true, "name": "Vetted drivers", "handle": "drivers", "date_delete": 0, "user_count": 1},
		}})
	})
	f.on("usergroups.users.list", func(w http.ResponseWriter, c call) {
		members := map[string][]string{"S0614TZR7": {"U1", "U2"}, "S06158AV7": {"U3"}}
		writeOK(w, map[string]any{"users": members[c.Form.Get("usergroup")]})
	})
}

func TestRolesFromUserGroups(t *testing.T) {
	f := newFakeAPI(t)
	groupsAPI(f)
	a := newTestAdapter(t, f, ModeSocket, func(c *Config) {
		c.ModeratorGroups = []string{"@Care-Mods"}
		c.VettedGroups = []string{"S06158AV7", "care-mods"}
	})
	mods, vetted, err := a.Roles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || !mods["U1"] || !mods["U2"] {
		t.Errorf("moderators %v", mods)
	}
	if len(vetted) != 3 || !vetted["U3"] || !vetted["U1"] {
		t.Errorf("vetted %v", vetted)
	}
	if n := len(f.callsTo("usergroups.users.list")); n != 2 {
		t.Errorf("usergroups.users.list called %d times; each group once", n)
	}
}

func TestRolesUnknownGroupAndNoGroups(t *testing.T) {
	f := newFakeAPI(t)
	groupsAPI(f)
	a := newTestAdapter(t, f, ModeSocket, func(c *Config) { c.ModeratorGroups = []string{"@nobody"} })
	if _, _, err := a.Roles(context.Background()); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("err %v", err)
	}

	f2 := newFakeAPI(t)
	b := newTestAdapter(t, f2, ModeSocket, nil)
	mods, vetted, err := b.Roles(context.Background())
	if err != nil || len(mods) != 0 || len(vetted) != 0 || len(f2.calls) != 0 {
		t.Errorf("no groups: %v %v %v, %d calls", mods, vetted, err, len(f2.calls))
	}

	f3 := newFakeAPI(t)
	f3.on("usergroups.list", slackError("missing_scope"))
	c := newTestAdapter(t, f3, ModeSocket, func(c *Config) { c.VettedGroups = []string{"drivers"} })
	if _, _, err := c.Roles(context.Background()); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("missing scope: %v", err)
	}
}

func TestNewChecksTheConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no bot token":             {AppToken: "xapp-1"},
		"socket without app token": {BotToken: "xoxb-1"},
		"http without secret":      {BotToken: "xoxb-1", Mode: ModeHTTP},
		"unknown mode":             {BotToken: "xoxb-1", AppToken: "xapp-1", Mode: "carrier-pigeon"},
	} {
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	a, err := New(Config{BotToken: "xoxb-1", AppToken: "xapp-1"}, nil)
	if err != nil || a.cfg.Mode != ModeSocket || a.Platform() != "slack" || !a.CanDM() || !a.CanOpenForms() {
		t.Errorf("defaults: %v %+v", err, a)
	}
}
