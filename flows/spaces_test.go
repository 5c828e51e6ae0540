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

// spacesSetup is the usual community bound to a second platform too, where dan (there
// only) volunteers for meals.
func spacesSetup(t *testing.T, db *store.DB) *bottest.H {
	t.Helper()
	h := setup(t, db)
	h.AddPlatform()
	p2 := bottest.Platform2
	h.JoinOn(p2, "dan")
	h.EventOn(p2, "dan", bot.Event{Kind: bot.EventForm, FormID: flows.FormVolunteer,
		Values: map[string]string{"categories": "meal", "areas": "any", "days": "any"}})
	h.Fake.Take()
	h.Second.Take()
	return h
}

func meal(spaces string) map[string]string {
	v := map[string]string{"category": "meal", "summary": "Soup for Thursday", "address": "9 Rue Secrète", "phone": "514-555-0111", "notes": "Allergic to nuts"}
	if spaces != "" {
		v[flows.FieldSpaces] = spaces
	}
	return v
}

func TestRequestShowsOnlyWhereAskedByDefault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := spacesSetup(t, db)
		p2 := bottest.Platform2
		sent := h.Ask("alice", meal(""))
		if len(on(sent, bottest.Platform, "#board")) != 1 || !bottest.Contains(on(sent, bottest.Platform, "@bob"), "matches") {
			t.Fatalf("the request was not shown where it was asked:\n%s", bottest.Dump(sent))
		}
		for _, s := range sent {
			if s.Platform == p2 {
				t.Fatalf("a request not shared reached the other platform at %s:\n%s", bottest.Where(s), bottest.Dump(sent))
			}
		}
		slot := storetest.Count(t, db, `SELECT MAX(id) FROM slots`)
		// The digest on the other platform's board does not list it.
		h.Ask("alice", meal(flows.SpacesAll))
		res, err := h.App.Flows().Digest(bg, h.Community)
		if err != nil || len(res.Outs) != 2 {
			t.Fatalf("digest: %v %+v", err, res.Outs)
		}
		for _, o := range res.Outs {
			want := 2
			if o.To.Origin.Platform == p2 {
				want = 1
			}
			if got := strings.Count(cardText(h, o.Card), "Soup for Thursday"); got != want {
				t.Fatalf("the digest for %s lists %d requests, want %d:\n%s", o.To.Origin.Platform, got, want, cardText(h, o.Card))
			}
		}
		// A button from elsewhere (forged, or stale) cannot claim it from the other space.
		sent = h.PressOn(p2, "dan", bot.RenderedButton{Action: flows.ActClaim, Payload: itoa(int64(slot))})
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims`); n != 0 {
			t.Fatalf("claimed from a space the request is not shown in:\n%s", bottest.Dump(sent))
		}
	})
}

func TestSharedRequestClaimedFromTheOtherPlatform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := spacesSetup(t, db)
		p2 := bottest.Platform2
		sent := h.Ask("alice", meal(flows.SpacesAll))
		b1, b2 := on(sent, bottest.Platform, "#board"), on(sent, p2, "#board")
		if len(b1) != 1 || len(b2) != 1 || !bottest.Contains(b2, "Soup for Thursday", "[I can help]") {
			t.Fatalf("a shared request should show on both boards:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(on(sent, p2, "@dan"), "matches") {
			t.Fatalf("dan, on the other platform only, was not told:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'request.created' AND detail LIKE '%shared=all%'`); n != 1 {
			t.Fatalf("the sharing choice was not audited")
		}

		sent = h.PressOn(p2, "dan", h.MustButton(b2, flows.ActClaim))
		gate := on(sent, bottest.Platform, "@alice")
		if !bottest.Contains(gate, "Dan would like to help you") {
			t.Fatalf("alice's consent gate:\n%s", bottest.Dump(sent))
		}
		if e1, e2 := on(sent, bottest.Platform, "#board"), on(sent, p2, "#board"); len(e1) != 1 || len(e2) != 1 || !e1[0].Edit || !e2[0].Edit {
			t.Fatalf("both boards should be edited in place:\n%s", bottest.Dump(sent))
		}

		sent = h.Press("alice", h.MustButton(gate, flows.ActAcceptShare))
		dan := on(sent, p2, "@dan")
		if !bottest.Contains(dan, "Alice accepted your help", "9 Rue Secrète", "514-555-0111") {
			t.Fatalf("dan did not get the details on his platform:\n%s", bottest.Dump(sent))
		}
		for _, s := range sent {
			if (s.Platform != p2 || bottest.Where(s) != "@dan") && bottest.Contains([]bottest.Sent{s}, "9 Rue Secrète") {
				t.Fatalf("the address reached %s on %s", bottest.Where(s), s.Platform)
			}
		}
		for _, p := range []string{bottest.Platform, p2} {
			if b := on(sent, p, "#board"); len(b) != 1 || !b[0].Edit || !bottest.Contains(b, "Matched") {
				t.Fatalf("the board on %s is not matched:\n%s", p, bottest.Dump(sent))
			}
		}
	})
}

func TestSpaceThatRefusesSharedRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := spacesSetup(t, db)
		p2 := bottest.Platform2
		// The settings show the choice only where there is more than one space.
		card := h.CommandOn(p2, "maya", "settings")
		if !bottest.Contains(card, "Requests shared from our other spaces", "shown here", "[Stop showing shared requests here]") {
			t.Fatalf("settings card:\n%s", bottest.Dump(card))
		}
		sent := h.PressOn(p2, "maya", h.MustButton(card, flows.ActSettingsShared))
		if !bottest.Contains(sent, "not shown here", "[Show shared requests here]") {
			t.Fatalf("after refusing:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'settings.space.receive_shared' AND detail LIKE '%receive_shared=false%'`); n != 1 {
			t.Fatal("the change was not audited")
		}
		// Someone who is not a moderator cannot change it, even with a forged button.
		h.PressOn(p2, "dan", bot.RenderedButton{Action: flows.ActSettingsShared, Payload: "on"})
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM space_bindings WHERE refuses_shared`); n != 1 {
			t.Fatal("a non-moderator changed the setting")
		}

		sent = h.Ask("alice", meal(flows.SpacesAll))
		if len(on(sent, bottest.Platform, "#board")) != 1 {
			t.Fatalf("the request is not on its own board:\n%s", bottest.Dump(sent))
		}
		for _, s := range sent {
			if s.Platform == p2 {
				t.Fatalf("a space refusing shared requests got %s:\n%s", bottest.Where(s), bottest.Dump(sent))
			}
		}
		// Its own requests still show there.
		sent = h.EventOn(p2, "dan", bot.Event{Kind: bot.EventForm, FormID: flows.FormAsk, Values: map[string]string{"category": "call",
			"when": "friday 12:00", "area": "Villeray", "summary": "A call on Friday"}})
		if len(on(sent, p2, "#board")) != 1 || len(on(sent, bottest.Platform, "#board")) != 0 {
			t.Fatalf("dan's own request:\n%s", bottest.Dump(sent))
		}
	})
}
