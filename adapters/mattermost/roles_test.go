package mattermost

import (
	"context"
	"strings"
	"testing"

	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
)

func TestRolesFromGroupsAndChannels(t *testing.T) {
	r := newRig(t, Config{})
	ctx := context.Background()
	u := r.users
	care := r.srv.AddGroup("care-team", u["maya"])
	drivers := r.srv.AddGroup("drivers", u["bob"])
	r.srv.AddChannel(r.team, "vetted-volunteers", u["carol"])
	// A large group spans pages.
	var many []string
	for i := 0; i < 450; i++ {
		many = append(many, r.srv.AddUser(mattermosttest.User{Username: "m"}).ID)
	}
	r.srv.AddGroup("everyone-helps", append(many, u["zoe"])...)

	cfg := r.ad.cfg
	cfg.ModeratorGroups = []string{"@care-team"}
	cfg.VettedGroups = []string{drivers, "everyone-helps"}
	cfg.VettedChannels = []string{"hospice/vetted-volunteers"}
	cfg.ModeratorChannels = []string{r.mods}
	ad, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.RefreshRoles(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who         string
		mod, vetted bool
	}{{"maya", true, false}, {"bob", false, true}, {"carol", false, true}, {"zoe", false, true}, {"alice", false, false}} {
		mod, vet := ad.Roles(u[tc.who])
		if mod != tc.mod || vet != tc.vetted {
			t.Errorf("%s: moderator %v vetted %v, want %v %v", tc.who, mod, vet, tc.mod, tc.vetted)
		}
	}
	// Someone taken out of a group loses the role at the next refresh.
	r.srv.SetGroupMembers(care)
	if err := ad.RefreshRoles(ctx); err != nil {
		t.Fatal(err)
	}
	// maya is still in the moderators' channel.
	if mod, _ := ad.Roles(u["maya"]); !mod {
		t.Error("maya lost the role she holds through the moderators' channel")
	}
	cfg.ModeratorChannels = nil
	ad2, _ := New(cfg, nil)
	if err := ad2.RefreshRoles(ctx); err != nil {
		t.Fatal(err)
	}
	if mod, _ := ad2.Roles(u["maya"]); mod {
		t.Error("maya kept a role no group or channel gives her")
	}

	// A typo is an error, and the last known roles stay.
	for _, bad := range []Config{{ModeratorGroups: []string{"care-teem"}}, {VettedChannels: []string{"hospice/no-such-channel"}}} {
		c := cfg
		c.ModeratorGroups, c.VettedChannels = bad.ModeratorGroups, bad.VettedChannels
		ad3, _ := New(c, nil)
		ad3.mods = map[string]bool{"kept": true}
		err := ad3.RefreshRoles(ctx)
		if err == nil || !strings.Contains(err.Error(), "no ") {
			t.Errorf("%+v: %v", bad, err)
		}
		if mod, _ := ad3.Roles("kept"); !mod {
			t.Error("a failed refresh dropped the known roles")
		}
	}
}

func TestRegisterIsIdempotent(t *testing.T) {
	r := newRig(t, Config{}) // registers once
	ctx := context.Background()
	cmd, outcome, err := r.ad.Register(ctx, r.team)
	if err != nil || outcome != Unchanged {
		t.Fatalf("again: %s %v", outcome, err)
	}
	cfg := r.ad.cfg
	cfg.CallbackURL = "https://tend.example.org"
	moved, _ := New(cfg, nil)
	cmd2, outcome, err := moved.Register(ctx, r.team)
	if err != nil || outcome != Updated || cmd2.Id != cmd.Id || cmd2.Token != cmd.Token || cmd2.URL != "https://tend.example.org"+PathCommand {
		t.Fatalf("moved: %s %+v %v", outcome, cmd2, err)
	}
	if !moved.KnowsCommandTokens() {
		t.Error("the token was not accepted")
	}
	cfg.Locale = "fr"
	french, _ := New(cfg, nil)
	if _, outcome, _ := french.Register(ctx, r.team); outcome != Updated {
		t.Errorf("a description in another language: %s", outcome)
	}
	// A replica learns the token from the server.
	replica, _ := New(cfg, nil)
	if n, err := replica.LearnCommandTokens(ctx, []string{r.team}); err != nil || n != 1 || !replica.KnowsCommandTokens() {
		t.Fatalf("learned %d, %v", n, err)
	}
	noURL := r.ad.cfg
	noURL.CallbackURL = ""
	bare, _ := New(noURL, nil)
	if _, _, err := bare.Register(ctx, r.team); err != ErrNoCallbackURL {
		t.Errorf("without a callback URL: %v", err)
	}
	if n := r.srv.Count("POST /commands", 201); n != 1 {
		t.Errorf("the command was created %d times", n)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := Config{URL: "https://chat.example.org", Token: "t", ActionSecret: testSecret}
	for name, edit := range map[string]func(*Config){
		"no token":       func(c *Config) { c.Token = " " },
		"bad URL":        func(c *Config) { c.URL = "chat.example.org" },
		"bad callback":   func(c *Config) { c.CallbackURL = "ftp://x" },
		"short secret":   func(c *Config) { c.ActionSecret = []byte("short") },
		"unknown zone":   func(c *Config) { c.TimeZone = "Mars/Olympus" },
		"no server host": func(c *Config) { c.URL = "https://" },
	} {
		c := good
		edit(&c)
		if _, err := New(c, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(good, nil); err != nil {
		t.Fatal(err)
	}
}
