package adaptertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// SetupDriver is a Driver that can also play setting tend up from chat in a space no
// community uses yet.
type SetupDriver interface {
	Driver
	// SetAdmin makes the person an administrator of the space, as the platform reports
	// it (Slack's is_admin, Discord's "Manage Server"), or takes that away.
	SetAdmin(t *testing.T, user string, admin bool)
	// ModeratorsChannel is a private channel of the space, other than the board, meant
	// for the moderators.
	ModeratorsChannel() string
	// CommandIn types "/tend <text>" in channel.
	CommandIn(t *testing.T, user, channel, text string)
	// SubmitFrom presses a button the person saw, which opens form, fills the form in
	// with values and submits it, the platform's way. It fails the test when the press
	// opens no form or another one.
	SubmitFrom(t *testing.T, user string, b Button, form string, values map[string]string)
}

// The community both ways of setting up make.
var (
	setupGeneral = map[string]string{flows.FieldName: "Voisins de Rosemont", flows.FieldLocale: "en", flows.FieldTimezone: "Montréal",
		flows.FieldRegion: "CA-QC", flows.FieldRetention: "45", flows.FieldOfficer: "Maya Tremblay <privacy@example.org>"}
	setupCategory = map[string]string{flows.FieldKey: "pet_care", flows.FieldLabelEN: "Pet care", flows.FieldLabelFR: "Soins des animaux",
		flows.FieldRisk: "doorstep", flows.FieldTier: "volunteer", flows.FieldHelpers: "1"}
	setupResource = map[string]string{flows.FieldLabel: "Tel-Aide", flows.FieldContact: "514-935-1101"}
)

// setupSlug is the slug setup derives from the community's name.
const setupSlug = "voisins-de-rosemont"

// RunSetup plays setting tend up from chat on db, where the driver's space is not bound
// to any community: a member who is not an administrator is refused kindly and nothing
// is made; an administrator starts a new community from the board channel, makes
// another channel the moderators', and adds a category, a crisis line and a moderator
// with /tend settings. The community is then row for row the one the command line
// makes (flows.NewCommunity, BindSpace, AddModerator, AddCategory, AddResource, as tend
// community create, bind and edit call them), and works: a member's request in the new
// category reaches the board under its own label.
func RunSetup(t *testing.T, db *store.DB, d SetupDriver) {
	t.Helper()
	platform := d.Adapter().Platform()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, mustZone(t, "America/Toronto"))
	db.SetClock(func() time.Time { return now })
	step, since := start(t, db, d, nil)
	// to is what a person saw, wherever only they could see it (DM or ephemeral).
	to := func(seen []Seen, user string) []Seen {
		return append(in(seen, "~"+d.UserID(user)), in(seen, "@"+d.UserID(user))...)
	}
	board, mods := "#"+d.Board(), d.ModeratorsChannel()

	// 1. Someone who does not administer the space is refused, kindly, and nothing is made.
	d.SetAdmin(t, "nora", false)
	step("nora types /tend setup", func() { d.Command(t, "nora", "setup") })
	seen := since()
	if !contains(to(seen, "nora"), "Only an administrator of this space can set tend up here") {
		t.Fatalf("nora was not refused kindly:\n%s", dump(seen))
	}
	for _, s := range seen {
		if len(s.Buttons) > 0 || !strings.HasSuffix(s.Where, d.UserID("nora")) {
			t.Fatalf("the refusal offered more, or went beyond nora:\n%s", dump(seen))
		}
	}
	if n := storetest.Count(t, db, `SELECT COUNT(*) FROM communities`); n != 0 {
		t.Fatalf("a refused setup made %d communities", n)
	}

	// 2. An administrator starts a new community from the board channel.
	d.SetAdmin(t, "olivia", true)
	step("olivia types /tend setup", func() { d.Command(t, "olivia", "setup") })
	seen = since()
	start := mustButton(t, to(seen, "olivia"), flows.ActSetupNew, "setup's first card")
	if start.Payload != d.Board() || !contains(to(seen, "olivia"), "This channel will be the board") {
		t.Fatalf("setup's first card does not name this channel the board (payload %q):\n%s", start.Payload, dump(seen))
	}
	step("olivia starts a new community", func() { d.SubmitFrom(t, "olivia", start, flows.FormSetupNew, setupGeneral) })
	seen = since()
	if !contains(to(seen, "olivia"), "Voisins de Rosemont is ready") {
		t.Fatalf("olivia was not told the community is ready:\n%s", dump(seen))
	}
	if !contains(in(seen, board), "Voisins de Rosemont uses tend for mutual aid") {
		t.Fatalf("no hello on the new board:\n%s", dump(seen))
	}

	// 3. The moderators' channel, from that channel.
	step("olivia types /tend setup moderators", func() { d.CommandIn(t, "olivia", mods, "setup moderators") })
	seen = since()
	if !contains(to(seen, "olivia"), "This channel is now the moderators' channel") {
		t.Fatalf("the moderators' channel was not set:\n%s", dump(seen))
	}

	// 4. A category, a crisis line and a moderator, from /tend settings: each part of the
	// settings is opened from the main card, and the card that confirms a change leads
	// back to it.
	step("olivia types /tend settings", func() { d.Command(t, "olivia", "settings") })
	card := to(since(), "olivia")
	for _, part := range []struct {
		open, add, form string
		values          map[string]string
	}{
		{flows.ActSettingsCategories, flows.ActSettingsCategoryAdd, flows.FormSettingsCategoryAdd, setupCategory},
		{flows.ActSettingsResources, flows.ActSettingsResourceAdd, flows.FormSettingsResource, setupResource},
		{flows.ActSettingsModerators, flows.ActSettingsModeratorAdd, flows.FormSettingsModerator, map[string]string{flows.FieldUser: d.UserID("nina")}},
	} {
		if part.open != flows.ActSettingsCategories {
			back := mustButton(t, card, flows.ActSettingsShow, "the confirmation")
			step("olivia goes back to the settings", func() { d.Press(t, "olivia", back) })
			card = to(since(), "olivia")
		}
		open := mustButton(t, card, part.open, "the settings card")
		step("olivia opens "+part.open, func() { d.Press(t, "olivia", open) })
		add := mustButton(t, to(since(), "olivia"), part.add, part.open)
		step("olivia fills in "+part.form, func() { d.SubmitFrom(t, "olivia", add, part.form, part.values) })
		if card = to(since(), "olivia"); !contains(card, "Saved.") {
			t.Fatalf("%s was not saved:\n%s", part.form, dump(card))
		}
	}

	// 5. Row for row the community the command line makes.
	if n := storetest.Count(t, db, `SELECT COUNT(*) FROM communities`); n != 1 {
		t.Fatalf("setup made %d communities", n)
	}
	fromChat := storetest.CommunityRows(t, db, setupSlug)
	fromCLI := cliCommunity(t, db.Engine, store.Binding{Platform: platform, Workspace: d.Workspace(), BoardChannel: d.Board(),
		ModeratorsChannel: mods}, d.UserID("olivia"), d.UserID("nina"))
	if fromChat != fromCLI {
		t.Fatalf("chat and command line differ:\n--- chat\n%s--- command line\n%s", fromChat, fromCLI)
	}
	for _, want := range []string{"America/Toronto CA-QC 45", "pet_care doorstep volunteer", "Tel-Aide 514-935-1101",
		platform + " " + d.Workspace() + " " + d.Board() + " " + mods, platform + " " + d.UserID("nina"), platform + " " + d.UserID("olivia")} {
		if !strings.Contains(fromChat, want) {
			t.Errorf("missing %q in:\n%s", want, fromChat)
		}
	}
	for _, action := range []string{"settings.community.create", "settings.space.bind", "settings.channel.moderators",
		"settings.category.add", "settings.resource.add", "settings.moderator.add"} {
		if storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action) == 0 {
			t.Errorf("%s is not in the audit log", action)
		}
	}

	// 6. The community works: a member asks in the new category, under its own label.
	step("alice opens tend", func() { d.Command(t, "alice", "help") })
	accept := mustButton(t, since(), flows.ActNoticeAccept, "alice's privacy notice")
	step("alice accepts", func() { d.Press(t, "alice", accept) })
	since()
	step("alice asks", func() {
		d.Submit(t, "alice", "ask", map[string]string{"category": "pet_care", "when": "thursday 13:00", "until": "14:00",
			"area": "Rosemont", "summary": "Walk my dog while I recover", "show_name": "name", "may_share": "no", "follow_up": "no"})
	})
	seen = in(since(), board)
	if !contains(seen, "Walk my dog while I recover") || !contains(seen, "Pet care") {
		t.Fatalf("the request in the new category did not reach the board under its label:\n%s", dump(seen))
	}
	mustButton(t, seen, flows.ActClaim, "the request's card")
}

// cliCommunity makes the setup's community the way the command line does, on a fresh
// database of the engine, and returns its rows.
func cliCommunity(t *testing.T, eng store.Engine, b store.Binding, admin, moderator string) string {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, eng)
	failed := func(what string, errs []ui.FieldError, err error) error {
		if err == nil && len(errs) > 0 {
			err = fmt.Errorf("refused: %v", errs)
		}
		if err != nil {
			return fmt.Errorf("command line %s: %w", what, err)
		}
		return nil
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		c, errs, err := flows.NewCommunity(ctx, tx, flows.CLIActor(0), setupSlug, setupGeneral)
		if err := failed("create", errs, err); err != nil {
			return err
		}
		by := flows.CLIActor(c.ID)
		errs, err = flows.BindSpace(ctx, tx, by, b)
		if err := failed("bind", errs, err); err != nil {
			return err
		}
		for _, who := range []string{admin, moderator} {
			_, errs, err := flows.AddModerator(ctx, tx, by, b.Platform, who)
			if err := failed("moderator", errs, err); err != nil {
				return err
			}
		}
		if _, errs, err = flows.AddCategory(ctx, tx, by, setupCategory); failed("category", errs, err) != nil {
			return failed("category", errs, err)
		}
		errs, err = flows.AddResource(ctx, tx, by, setupResource)
		return failed("resource", errs, err)
	})
	if err != nil {
		t.Fatal(err)
	}
	return storetest.CommunityRows(t, db, setupSlug)
}
