package flows_test

import (
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// settingsState is what a settings change may touch, with the audit log's length.
func settingsState(t *testing.T, h *bottest.H) string {
	t.Helper()
	return setupRows(t, h.DB, h.Community) + strings.Repeat("|", storetest.Count(t, h.DB, `SELECT COUNT(*) FROM audit_log`))
}

func general(over map[string]string) map[string]string {
	v := map[string]string{"name": "Test Neighbours", "locale": "en", "timezone": "America/Toronto", "region": "CA",
		"retention_days": "30", "privacy_officer": "Maya <privacy@example.org>"}
	for k, x := range over {
		v[k] = x
	}
	return v
}

func category(over map[string]string) map[string]string {
	v := map[string]string{"key": "pet_care", "label_en": "Pet care", "label_fr": "Soins des animaux", "risk": "doorstep", "tier": "volunteer", "helpers": "1"}
	for k, x := range over {
		v[k] = x
	}
	return v
}

func TestSettingsRefuseBadInputByField(t *testing.T) {
	cases := []struct {
		name   string
		form   string
		values map[string]string
		want   string
	}{
		{"no name", flows.FormSettingsGeneral, general(map[string]string{"name": "  "}), "Community name: this one is needed."},
		{"unknown time zone", flows.FormSettingsGeneral, general(map[string]string{"timezone": "Mars/Olympus"}), "Time zone: “Mars/Olympus” isn't a time zone I know"},
		{"server's zone", flows.FormSettingsGeneral, general(map[string]string{"timezone": "Local"}), "Time zone: “Local”"},
		{"region", flows.FormSettingsGeneral, general(map[string]string{"region": "north america"}), "Region: “north america” isn't a region"},
		{"retention zero", flows.FormSettingsGeneral, general(map[string]string{"retention_days": "0"}), "Days to keep private details: “0” must be a whole number from 1 to 3650"},
		{"retention words", flows.FormSettingsGeneral, general(map[string]string{"retention_days": "a month"}), "Days to keep private details"},
		{"language", flows.FormSettingsGeneral, general(map[string]string{"locale": "klingon"}), "Language: “klingon” isn't one tend speaks"},
		{"officer on two lines", flows.FormSettingsGeneral, general(map[string]string{"privacy_officer": "Maya\nBob"}), "Privacy officer: please keep it on one line."},
		{"bad key", flows.FormSettingsCategoryAdd, category(map[string]string{"key": "pets & co"}), "Short name: “pets & co” must be 1 to 30 lowercase letters"},
		{"key taken", flows.FormSettingsCategoryAdd, category(map[string]string{"key": "meal"}), "Short name: there is already a kind of help called meal."},
		{"no label", flows.FormSettingsCategoryAdd, category(map[string]string{"label_en": "", "label_fr": ""}), "Name in English: a new kind of help needs a name"},
		{"risk", flows.FormSettingsCategoryAdd, category(map[string]string{"risk": "dangerous"}), "What the help involves: “dangerous” must be one of call, doorstep, ride, home."},
		{"tier", flows.FormSettingsCategoryAdd, category(map[string]string{"tier": "admin"}), "Who may help: “admin” must be one of member, volunteer, vetted."},
		{"helpers", flows.FormSettingsCategoryAdd, category(map[string]string{"helpers": "3"}), "Helpers per request: “3” must be 1 or 2."},
		{"long label", flows.FormSettingsCategoryAdd, category(map[string]string{"label_fr": strings.Repeat("x", 41)}), "Name in French: please keep it to 40 characters."},
		{"resource without contact", flows.FormSettingsResource, map[string]string{"label": "Tel-Aide"}, "How to reach it: this one is needed."},
		{"moderator without user", flows.FormSettingsModerator, map[string]string{"user": ""}, "Moderator: this one is needed."},
		{"moderator not an id", flows.FormSettingsModerator, map[string]string{"user": "Maya Tremblay"}, "Moderator: “Maya Tremblay” isn't a user id"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "en")
		for _, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				before := settingsState(t, h)
				sent := h.Submit("maya", tt.form, "", tt.values)
				if !bottest.Contains(sent, tt.want) {
					t.Fatalf("want %q in:\n%s", tt.want, bottest.Dump(sent))
				}
				if after := settingsState(t, h); after != before {
					t.Fatalf("refused input changed something:\n%s\n--- became ---\n%s", before, after)
				}
			})
		}
	})
}

func TestSettingsChangesAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "en")
		sent := h.Command("maya", "settings")
		if !bottest.Contains(sent, "Settings of Test Neighbours", "Time zone: America/Toronto", "[Invite another space]") {
			t.Fatalf("settings card:\n%s", bottest.Dump(sent))
		}
		steps := []struct {
			do     func() []bottest.Sent
			want   string
			action string
			detail string
		}{
			{func() []bottest.Sent {
				return h.Submit("maya", flows.FormSettingsGeneral, "", general(map[string]string{"timezone": "paris"}))
			},
				"Time zone: Europe/Paris", "settings.general", "fields=timezone"},
			{func() []bottest.Sent { return h.Submit("maya", flows.FormSettingsCategoryAdd, "", category(nil)) },
				"Pet care (pet_care): At the door", "settings.category.add", "risk=doorstep tier=volunteer helpers=1"},
			{func() []bottest.Sent {
				return h.Submit("maya", flows.FormSettingsCategory, "pet_care", category(map[string]string{"tier": "vetted", "helpers": "2"}))
			}, "Vetted volunteers only; 2 per request", "settings.category.edit", "risk=doorstep tier=vetted helpers=2"},
			{func() []bottest.Sent {
				return h.Submit("maya", flows.FormSettingsResource, "", map[string]string{"label": "Tel-Aide", "contact": "514-935-1101"})
			}, "Tel-Aide: 514-935-1101", "settings.resource.add", ""},
			{func() []bottest.Sent {
				return h.Submit("maya", flows.FormSettingsModerator, "", map[string]string{"user": "<@nina>"})
			},
				"nina (fake)", "settings.moderator.add", ""},
			{func() []bottest.Sent { return h.PressAction("maya", flows.ActSettingsCategoryRemove, "pet_care") },
				"Saved.", "settings.category.remove", ""},
		}
		for i, st := range steps {
			sent := st.do()
			if !bottest.Contains(sent, st.want) {
				t.Fatalf("step %d: want %q in:\n%s", i, st.want, bottest.Dump(sent))
			}
			var last store.AuditEntry
			if err := db.X.Get(&last, `SELECT * FROM audit_log ORDER BY id DESC LIMIT 1`); err != nil {
				t.Fatal(err)
			}
			if last.Action != st.action || !strings.HasPrefix(last.Detail, st.detail) || last.CommunityID != h.Community {
				t.Fatalf("step %d audited %+v", i, last)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM communities WHERE settings_edited_at IS NOT NULL`); n != 1 {
			t.Fatal("the community is not marked as changed from chat")
		}
		// Someone who is not a moderator changes nothing, whatever they press.
		before := settingsState(t, h)
		for _, sent := range [][]bottest.Sent{
			h.Command("alice", "settings"),
			h.PressAction("alice", flows.ActSettingsGeneral, ""),
			h.PressAction("alice", flows.ActSettingsInvite, ""),
			h.PressAction("alice", flows.ActSettingsCategoryRemove, "meal"),
			h.Submit("alice", flows.FormSettingsGeneral, "", general(map[string]string{"name": "Mine now"})),
			h.Submit("alice", flows.FormSettingsModerator, "", map[string]string{"user": "alice"}),
		} {
			if !bottest.Contains(sent, "Settings are for moderators") {
				t.Fatalf("a member reached settings:\n%s", bottest.Dump(sent))
			}
		}
		if after := settingsState(t, h); after != before || storetest.Count(t, db, `SELECT COUNT(*) FROM join_codes`) != 0 {
			t.Fatal("a member changed the settings")
		}
	})
}

func TestRemovingACategoryInUseIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		sent := h.Ask("alice", map[string]string{"category": "meal"})
		cancel := h.MustButton(sent, flows.ActCancel)
		before := settingsState(t, h)
		sent = h.PressAction("maya", flows.ActSettingsCategoryRemove, "meal")
		if !bottest.Contains(sent, "This kind of help still has 1 open request or offer") {
			t.Fatalf("removal of a category in use:\n%s", bottest.Dump(sent))
		}
		if settingsState(t, h) != before {
			t.Fatal("a refused removal changed something")
		}
		h.Press("alice", cancel)
		if sent = h.PressAction("maya", flows.ActSettingsCategoryRemove, "meal"); !bottest.Contains(sent, "Saved.") {
			t.Fatalf("removal after the request was cancelled:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM categories WHERE key = 'meal'`); n != 0 {
			t.Fatal("meal is still there")
		}
	})
}

func TestTheLastModeratorStays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "en")
		h.Submit("maya", flows.FormSettingsModerator, "", map[string]string{"user": "nina"})
		sent := h.Event("maya", bot.Event{Kind: bot.EventButton, Action: flows.ActSettingsModeratorDrop, Value: "fake:nina"})
		if !bottest.Contains(sent, "That's the last moderator named here") {
			t.Fatalf("the last moderator was removed:\n%s", bottest.Dump(sent))
		}
		sent = h.Submit("nina", flows.FormSettingsModerator, "", map[string]string{"user": "omar"})
		if !bottest.Contains(sent, "omar (fake)") {
			t.Fatalf("nina, a moderator from the database, could not add omar:\n%s", bottest.Dump(sent))
		}
		if sent = h.Event("omar", bot.Event{Kind: bot.EventButton, Action: flows.ActSettingsModeratorDrop, Value: "fake:nina"}); !bottest.Contains(sent, "Saved.") {
			t.Fatalf("removing one of two:\n%s", bottest.Dump(sent))
		}
		if sent = h.Command("nina", "settings"); !bottest.Contains(sent, "Settings are for moderators") {
			t.Fatalf("a removed moderator still reaches settings:\n%s", bottest.Dump(sent))
		}
	})
}

func TestCustomCategoryLabelsInBothLanguages(t *testing.T) {
	for _, lang := range []struct{ locale, board string }{{"en", "Pet care: Walk Biscuit"}, {"fr", "Soins des animaux : Walk Biscuit"}} {
		t.Run(lang.locale, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := bottest.New(t, db, lang.locale)
				h.Submit("maya", flows.FormSettingsCategoryAdd, "", category(nil))
				h.Join("alice")
				h.Volunteer("bob", "pet_care", "any", "any")
				h.Fake.Take()
				sent := h.Ask("alice", map[string]string{"category": "pet_care", "summary": "Walk Biscuit"})
				if !bottest.Contains(bottest.To(sent, "#board"), lang.board) {
					t.Fatalf("board card:\n%s", bottest.Dump(sent))
				}
				form := h.Event("alice", bot.Event{Kind: bot.EventCommand, Command: "ask", Locale: "fr"})
				if !bottest.Contains(form, "Soins des animaux") {
					t.Fatalf("a French reader's form:\n%s", bottest.Dump(form))
				}
				claim := h.MustButton(bottest.To(sent, "#board"), flows.ActClaim)
				if sent = h.Press("bob", claim); len(bottest.To(sent, "@alice")) == 0 {
					t.Fatalf("bob's claim:\n%s", bottest.Dump(sent))
				}
			})
		})
	}
}
