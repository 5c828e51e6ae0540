package flows_test

import (
	"strings"
	"testing"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func TestStatsFigures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		storetest.SeedHistory(t, db, h.Community)
		sent := h.Command("maya", "stats")
		mine := bottest.To(sent, "~maya")
		all := bottest.Dump(mine)
		want := []string{
			"Impact figures", "<5", "follow-ups sent",
			"Oct 2026",
			"Ride: requests 6 · offers <5 · fulfilled 83.3% · median wait for a first offer of help 3.5 h · active volunteers 5 · repeat helpers <5 · follow-ups sent <5 · helped, then helped someone <5",
			"Meal: requests <5 · offers 5 · fulfilled hidden · median wait for a first offer of help hidden · active volunteers <5 · repeat helpers <5 · follow-ups sent <5 · helped, then helped someone <5",
			"All kinds of help: requests 8 · offers 5 · fulfilled 83.3% · median wait for a first offer of help 3.5 h · active volunteers 5 · repeat helpers <5 · follow-ups sent <5 · helped, then helped someone <5",
			"Nov 2026",
			"Ride: requests 6 · offers <5 · fulfilled 100.0% · median wait for a first offer of help 2.0 h · active volunteers 5 · repeat helpers <5 · follow-ups sent 5 · helped, then helped someone 5",
			"Whole period",
			"Ride: requests 12 · offers <5 · fulfilled 90.9% · median wait for a first offer of help 2.0 h · active volunteers 10 · repeat helpers <5 · follow-ups sent 5 · helped, then helped someone 5",
			"All kinds of help: requests 14 · offers 5 · fulfilled 90.9% · median wait for a first offer of help 2.0 h · active volunteers 10 · repeat helpers <5 · follow-ups sent 5 · helped, then helped someone 5",
		}
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("stats lack %q:\n%s", w, all)
			}
		}
		if len(sent) != len(mine) {
			t.Errorf("stats went beyond the moderator:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'stats.viewed'`); n != 1 {
			t.Errorf("%d stats.viewed audit rows, want 1", n)
		}

		// A period of one month.
		only := bottest.Dump(bottest.To(h.Command("maya", "stats", "since", "2026-11", "until", "2026-11"), "~maya"))
		if strings.Contains(only, "Oct 2026") || !strings.Contains(only, "Ride: requests 6 · offers <5 · fulfilled 100.0%") {
			t.Errorf("November alone:\n%s", only)
		}
		if got := bottest.Dump(h.Command("maya", "stats", "since", "November")); !strings.Contains(got, "YYYY-MM") {
			t.Errorf("a bad month:\n%s", got)
		}

		// Members who are not moderators are refused, and nothing is audited for them.
		refused := bottest.Dump(h.Command("alice", "stats"))
		if strings.Contains(refused, "requests") || strings.Contains(refused, "Impact") {
			t.Errorf("alice saw the figures:\n%s", refused)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'stats.viewed'`); n != 2 {
			t.Errorf("%d stats.viewed audit rows, want 2", n)
		}
	})
}

func TestStatsInFrench(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "fr")
		h.Join("maya")
		h.Fake.Take()
		storetest.SeedHistory(t, db, h.Community)
		all := bottest.Dump(bottest.To(h.Command("maya", "statistiques"), "~maya"))
		for _, w := range []string{
			"Chiffres d'impact",
			"demandes 6 · offres <5 · comblées 83,3 % · attente médiane d'une première offre d'aide 3,5 h · bénévoles actifs 5",
			"Tous les types d'aide : demandes 14 · offres 5 · comblées 90,9 % · attente médiane d'une première offre d'aide 2,0 h",
			"Toute la période",
		} {
			if !strings.Contains(all, w) {
				t.Errorf("French stats lack %q:\n%s", w, all)
			}
		}
	})
}
