package flows_test

import (
	"strings"
	"testing"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestPrivateDetailsGoOnlyWhereConsented plays every flow that touches private details
// and then checks every message and every log line: a private field reaches only the
// one helper it was shared with, never a channel, never anyone else, never a log.
func TestPrivateDetailsGoOnlyWhereConsented(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		h.Join("erin")

		// A request with private details, shared with bob on accept.
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		h.Press("carol", claim)
		gate := bottest.To(h.Fake.History(), "@alice")
		h.Press("alice", h.MustButton(gate, flows.ActDecline))
		gate = bottest.To(h.Press("bob", claim), "@alice")
		bob := bottest.To(h.Press("alice", h.MustButton(gate, flows.ActAcceptShare)), "@bob")
		h.Press("bob", h.MustButton(bob, flows.ActDone))

		// A second request, typed in the DM dialogue, accepted without sharing.
		h.Command("erin", "ask")
		for _, a := range []string{"2", "friday 12:00", "skip", "Villeray", "Soup after surgery", "77 Avenue Secrète", "438-555-0123", "Allergic to peanuts", "1", "1", "1"} {
			h.DM("erin", a)
		}
		erinClaim := h.MustButton(bottest.To(h.Fake.History(), "#board"), flows.ActClaim)
		for _, s := range h.Fake.History() {
			if b, ok := s.Button(flows.ActClaim); ok && strings.Contains(s.Text(), "Soup after surgery") {
				erinClaim = b
			}
		}
		gate = bottest.To(h.Press("bob", erinClaim), "@erin")
		h.Press("erin", h.MustButton(gate, flows.ActAcceptOnly))

		// An offer joined with a private note shared with carol.
		join := h.MustButton(bottest.To(h.Submit("carol", flows.FormOffer, "", map[string]string{"category": "grief_circle",
			"summary": "Circle", "when": "thursday 19:00", "area": "Rosemont", "capacity": "3"}), "#board"), flows.ActJoin)
		h.Submit("erin", flows.FormJoin, join.Payload, map[string]string{"notes": "Grieving my husband Jean-Pierre", "share": "yes"})

		allowed := map[string]string{ // private text -> the one place it may appear
			"12 Rue Rachel": "@bob", "514-555-0199": "@bob", "front steps": "@bob",
			"Jean-Pierre":       "@carol",
			"77 Avenue Secrète": "", "438-555-0123": "", "Allergic to peanuts": "",
		}
		seen := map[string]int{}
		for _, s := range h.Fake.History() {
			txt := s.Text()
			for secret, place := range allowed {
				if !strings.Contains(txt, secret) {
					continue
				}
				if bottest.Where(s) != place {
					t.Errorf("%q reached %s:\n%s", secret, bottest.Where(s), txt)
				}
				seen[secret]++
			}
		}
		for _, secret := range []string{"12 Rue Rachel", "Jean-Pierre"} {
			if seen[secret] != 1 {
				t.Errorf("%q was delivered %d times, want exactly once to its helper", secret, seen[secret])
			}
		}
		logs := h.Log.String()
		if logs == "" {
			t.Fatal("no log lines were captured; the check would prove nothing")
		}
		for secret := range allowed {
			if strings.Contains(logs, secret) {
				t.Errorf("%q reached a log line", secret)
			}
		}
		for _, public := range []string{"Ride to chemotherapy", "Soup after surgery"} {
			if strings.Contains(logs, public) {
				t.Errorf("message text %q reached a log line", public)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures`); n != 2 {
			t.Errorf("disclosures = %d, want 2 (bob, carol)", n)
		}
	})
}
