package flows_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

const incidentCircumstances = "A volunteer's phone with the ride list was stolen on the metro"

func incidentInput() map[string]string {
	return map[string]string{
		flows.IncData: "Names and addresses of three riders", flows.IncCircumstances: incidentCircumstances,
		flows.IncOccurred: "2026-11-10..2026-11-12", flows.IncApproximate: "yes", flows.IncKnown: "2026-11-13",
		flows.IncAffected: "~3", flows.IncRisk: "medium", flows.IncSensitivity: "Home addresses of people in treatment",
		flows.IncConsequences: "Unwanted visits", flows.IncLikelihood: "Low: the phone was locked",
	}
}

func saveIncident(t *testing.T, db *store.DB, community, id int64, in map[string]string) (int64, []ui.FieldError) {
	t.Helper()
	var saved int64
	var errs []ui.FieldError
	if err := db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		saved, errs, err = flows.SaveIncident(context.Background(), tx, flows.CLIActor(community), id, in)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return saved, errs
}

func TestIncidentRegister(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		id, errs := saveIncident(t, db, h.Community, 0, incidentInput())
		if len(errs) > 0 || id == 0 {
			t.Fatalf("add: %v", errs)
		}
		// Notices sent later, and a measure taken.
		if _, errs := saveIncident(t, db, h.Community, id, map[string]string{flows.IncNotifiedCAI: "2026-11-20",
			flows.IncNotifiedPeople: "2026-11-21", flows.IncMeasures: "Passwords changed; riders called"}); len(errs) > 0 {
			t.Fatalf("update: %v", errs)
		}
		dump := storetest.Dump(t, db)
		for _, clear := range []string{incidentCircumstances, "Names and addresses of three riders", "Passwords changed"} {
			if bytes.Contains(dump, []byte(clear)) {
				t.Errorf("the database holds %q in clear", clear)
			}
		}
		var audits []string
		if err := db.X.Select(&audits, `SELECT action || ' ' || detail FROM audit_log WHERE subject LIKE 'incident:%' ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(audits, "|"); got != "incident.recorded risk=medium by=cli|incident.updated fields=notified_cai,notified_people,measures by=cli" {
			t.Errorf("audit: %s", got)
		}

		sent := h.Command("maya", "incidents")
		card := bottest.To(sent, "~maya")
		if len(sent) != len(card) || !bottest.Contains(card, "Confidentiality incident 1: risk medium", incidentCircumstances,
			"from 2026-11-10 to 2026-11-12 (approximate)", "about 3 people", "2026-11-20", "2026-11-21", "Passwords changed; riders called",
			"Home addresses of people in treatment") {
			t.Fatalf("moderator's card:\n%s", bottest.Dump(sent))
		}
		if bytes.Contains(storetest.Dump(t, db), []byte(incidentCircumstances)) {
			t.Errorf("showing the incident left its text in the database")
		}
		if got := bottest.Dump(h.Command("maya", "incidents", "7")); !strings.Contains(got, "no incident 7") {
			t.Errorf("an unknown incident:\n%s", got)
		}
		refused := h.Command("alice", "incidents")
		if bottest.Contains(refused, incidentCircumstances) || bottest.Contains(refused, "Confidentiality incident") {
			t.Errorf("alice saw the register:\n%s", bottest.Dump(refused))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'incident.viewed'`); n != 1 {
			t.Errorf("%d incident.viewed audit rows, want 1 (maya's look)", n)
		}
	})
}

func TestIncidentValidation(t *testing.T) {
	const today = "2026-11-23"
	cases := []struct {
		name, field, value, want string
	}{
		{"a date that is not one", flows.IncKnown, "13/11/2026", "When it became known: “13/11/2026” is not a date"},
		{"a future date", flows.IncOccurred, "2026-12-01", "When it happened: 2026-12-01 is in the future"},
		{"a period that ends first", flows.IncOccurred, "2026-11-12..2026-11-10", "When it happened: the period ends before it starts"},
		{"known before it happened", flows.IncKnown, "2026-11-01", "When it became known: it cannot be known before"},
		{"an unknown risk", flows.IncRisk, "severe", "Risk of serious injury: “severe” is not a level"},
		{"no risk", flows.IncRisk, "", "Risk of serious injury: this is needed"},
		{"people as words", flows.IncAffected, "a few", "People affected: “a few” is not a number"},
		{"no circumstances", flows.IncCircumstances, " ", "Circumstances: this is needed"},
		{"a bad notice date", flows.IncNotifiedCAI, "soon", "Notice to the Commission d'accès à l'information: “soon” is not a date"},
	}
	h := bottest.New(t, storetest.Open(t, store.SQLite), "en")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := incidentInput()
			in[tc.field] = tc.value
			_, _, errs := flows.CheckIncident(in, store.Incident{}, store.IncidentDetails{}, today)
			if len(errs) != 1 || errs[0].Field != tc.field {
				t.Fatalf("errors %+v, want one on %s", errs, tc.field)
			}
			if got := render(h, errs[0].Msg); !strings.Contains(got, tc.want) {
				t.Errorf("message %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("unknown people and a good incident", func(t *testing.T) {
		in := incidentInput()
		in[flows.IncAffected] = "unknown"
		inc, d, errs := flows.CheckIncident(in, store.Incident{}, store.IncidentDetails{}, today)
		if len(errs) > 0 || inc.Affected.Valid || inc.Risk != "medium" || !inc.OccurredApprox || d.Circumstances != incidentCircumstances {
			t.Fatalf("%+v %+v %v", inc, d, errs)
		}
	})
}
