package flows_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

const newAddress = "4500 Rue Fabre, apt 2"

// requestPrivate decrypts a request's private part.
func requestPrivate(t *testing.T, db *store.DB, id int64) store.Private {
	t.Helper()
	var p store.Private
	if err := db.InTx(bg, func(tx *store.Tx) error {
		r, err := tx.Request(bg, id)
		if err != nil {
			return err
		}
		p, err = tx.RequestPrivate(r)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// neverPublic fails when a secret went anywhere but to the named DMs, or is at rest in
// clear (outbox, stored replies, log).
func neverPublic(t *testing.T, h *bottest.H, sent []bottest.Sent, secret string, allowed ...string) {
	t.Helper()
	for _, s := range sent {
		if strings.Contains(s.Text(), secret) && !contains(allowed, bottest.Where(s)) {
			t.Fatalf("%q reached %s", secret, bottest.Where(s))
		}
	}
	notAtRest(t, h, secret)
}

// sameRequest compares two loads of a request, its sealed part included.
func sameRequest(a, b store.Request) bool {
	return reflect.DeepEqual(a, b)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestEditPrivateDetails(t *testing.T) {
	cases := []struct {
		name           string
		claim, accept  bool
		share          bool
		over           map[string]string
		want           store.Private
		bob            []string // what bob's one message says; nil: bob hears nothing
		disclosures    int      // after the edit (the acceptance's included)
		alice          string
		bobSeesAddress bool
	}{
		{name: "before anyone claims: stored sealed", over: map[string]string{"address": newAddress},
			want: store.Private{Address: newAddress, Phone: "514-555-0199", Notes: "Walker; needs help with the front steps"}, alice: "stored encrypted"},
		{name: "offered only: nothing private", claim: true, over: map[string]string{"address": newAddress},
			want: store.Private{Address: newAddress, Phone: "514-555-0199", Notes: "Walker; needs help with the front steps"}, alice: "stored encrypted"},
		{name: "accepted without sharing: nothing private", claim: true, accept: true, over: map[string]string{"address": newAddress},
			want: store.Private{Address: newAddress, Phone: "514-555-0199", Notes: "Walker; needs help with the front steps"}, alice: "stored encrypted"},
		{name: "accepted with sharing: the new details", claim: true, accept: true, share: true, over: map[string]string{"address": newAddress},
			want: store.Private{Address: newAddress, Phone: "514-555-0199", Notes: "Walker; needs help with the front steps"},
			bob:  []string{"Updated details from Alice", "Address: " + newAddress, "Phone: 514-555-0199"}, disclosures: 2, alice: "went to Bob only", bobSeesAddress: true},
		{name: "accepted with sharing: the phone removed", claim: true, accept: true, share: true, over: map[string]string{"clear": "phone"},
			want: store.Private{Address: "12 Rue Rachel Est, apt 3", Notes: "Walker; needs help with the front steps"},
			bob:  []string{"Updated details from Alice", "Address: 12 Rue Rachel Est"}, disclosures: 2, alice: "went to Bob only"},
		{name: "accepted with sharing: all removed", claim: true, accept: true, share: true, over: map[string]string{"clear": "all"},
			bob: []string{"removed the private details"}, disclosures: 1, alice: "removed the private details you had shared"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := setup(t, db)
				var id int64
				if tc.claim {
					_, id = matchedRide(t, h, tc.accept, tc.share)
				} else {
					h.Ask("alice", nil)
					id = lastRequest(t, db)
				}
				h.Fake.Take()
				before := count(t, db, `SELECT COUNT(*) FROM disclosures`)
				sent := edit(t, h, "alice", id, tc.over)
				if got := requestPrivate(t, db, id); got != tc.want {
					t.Fatalf("private part = %+v, want %+v", got, tc.want)
				}
				if !bottest.Contains(sent, "Your request is updated", tc.alice) || len(bottest.To(sent, "#board")) != 0 {
					t.Fatalf("alice, and the board (untouched by a private change):\n%s", bottest.Dump(sent))
				}
				bob := bottest.To(sent, "@bob")
				if tc.bob == nil && len(bob) != 0 || tc.bob != nil && (len(bob) != 1 || !bottest.Contains(bob, tc.bob...)) {
					t.Fatalf("bob (want %v):\n%s", tc.bob, bottest.Dump(sent))
				}
				if tc.share && tc.over["clear"] == "phone" && bottest.Contains(bob, "514-555-0199") {
					t.Fatal("a removed phone number was revealed")
				}
				if len(bottest.To(sent, "@carol")) != 0 {
					t.Fatalf("carol heard of it:\n%s", bottest.Dump(sent))
				}
				if n := count(t, db, `SELECT COUNT(*) FROM disclosures`); n != tc.disclosures {
					t.Fatalf("disclosures = %d (were %d), want %d", n, before, tc.disclosures)
				}
				if tc.disclosures == 2 {
					bobID := memberID(t, db, "bob")
					if n := count(t, db, `SELECT COUNT(*) FROM disclosures WHERE basis = 'consent' AND consent_id IS NOT NULL AND request_id = `+itoa(id)+
						` AND viewer_member_id = `+itoa(bobID)); n != 2 {
						t.Fatalf("the new disclosure row is not bob's under consent (%d)", n)
					}
					if f := stored(t, db, `SELECT fields FROM disclosures ORDER BY id DESC`); f[0] != tc.want.Fields() {
						t.Fatalf("the new disclosure names %q, want %q", f[0], tc.want.Fields())
					}
				}
				allowed := []string{}
				if tc.bobSeesAddress {
					allowed = append(allowed, "@bob")
				}
				neverPublic(t, h, sent, newAddress, allowed...)
			})
		})
	}
}

// With two helpers on one visit, the new address goes to the one the requester shared
// with, and not to the one she accepted without sharing.
func TestEditPrivateReachesOnlyTheHelperSharedWith(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, _ := visitSetup(t, db)
		h.Vet("dave")
		board := bottest.To(h.Ask("alice", map[string]string{"category": "visit"}), "#board")
		claim := h.MustButton(board, flows.ActClaim)
		askBob := bottest.To(h.Press("bob", claim), "@alice")
		askDave := bottest.To(h.Press("dave", claim), "@alice")
		h.Press("alice", h.MustButton(askBob, flows.ActAcceptShare))
		h.Press("alice", h.MustButton(askDave, flows.ActAcceptOnly))
		h.Fake.Take()
		id := lastRequest(t, db)
		if r := request(t, db, id); r.Status != "matched" {
			t.Fatalf("visit not matched: %s", r.Status)
		}
		sent := edit(t, h, "alice", id, map[string]string{"address": newAddress})
		if !bottest.Contains(bottest.To(sent, "@bob"), "Address: "+newAddress) || len(bottest.To(sent, "@dave")) != 0 {
			t.Fatalf("who got the address:\n%s", bottest.Dump(sent))
		}
		neverPublic(t, h, sent, newAddress, "@bob")
		if n := count(t, db, `SELECT COUNT(*) FROM disclosures WHERE viewer_member_id = `+itoa(memberID(t, db, "dave"))); n != 0 {
			t.Fatalf("dave has %d disclosures", n)
		}
	})
}

func TestEditFormKeepsPrivateValuesOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		h.Ask("alice", nil)
		id := lastRequest(t, db)
		res := must(t)(h.App.Flows().EditForm(bg, actor(t, h, "alice"), id))
		b, err := json.Marshal(res.Form)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range privates {
			if strings.Contains(string(b), p) {
				t.Fatalf("%q is in the edit form", p)
			}
		}
		v := editValues(t, h, "alice", id, nil)
		if v["summary"] != "Ride to chemotherapy at the Jewish General" || v["area"] != "Rosemont" || v["when"] != "2026-11-26 13:00" ||
			v["until"] != "16:00" || v["show_name"] != "name" || v["clear"] != "none" || v["address"] != "" {
			t.Fatalf("prefilled: %v", v)
		}
		// From the form as it is, the dialogue goes through to the end: it keeps its form
		// in clear, so the secrets must not be there either.
		h.Fake.Take()
		h.Press("alice", h.MustButton(h.Command("alice", "mine"), flows.ActEdit))
		for _, f := range stored(t, db, `SELECT form FROM dialogues`) {
			for _, p := range privates {
				if strings.Contains(f, p) {
					t.Fatalf("%q is in the dialogue's form", p)
				}
			}
		}
		var sent []bottest.Sent
		for range 9 {
			sent = h.DM("alice", "skip")
		}
		if !bottest.Contains(sent, "Nothing was changed") {
			t.Fatalf("skipping every answer:\n%s", bottest.Dump(sent))
		}
	})
}

func TestEditRefusals(t *testing.T) {
	cases := []struct {
		name, user string
		before     func(h *bottest.H, id int64)
		over       map[string]string
		field      string // a validation error on this field
		reply      string // else a kind refusal
	}{
		{name: "someone else", user: "bob", over: map[string]string{"summary": "Mine now"}, reply: "Only the person who asked"},
		{name: "a moderator", user: "maya", over: map[string]string{"summary": "Tidied"}, reply: "Only the person who asked"},
		{name: "cancelled", user: "alice", over: map[string]string{"summary": "Later"}, reply: "can't be changed any more",
			before: func(h *bottest.H, id int64) { h.PressAction("alice", flows.ActCancel, flows.Ref(id)) }},
		{name: "bad time", user: "alice", over: map[string]string{"when": "someday soon"}, field: "when"},
		{name: "past time", user: "alice", over: map[string]string{"when": "2026-11-20 10:00"}, field: "when"},
		{name: "end before start", user: "alice", over: map[string]string{"until": "09:00"}, field: "until"},
		{name: "summary too long", user: "alice", over: map[string]string{"summary": strings.Repeat("a", flows.MaxSummary+1)}, field: "summary"},
		{name: "area empty", user: "alice", over: map[string]string{"area": " "}, field: "area"},
		{name: "remove and replace", user: "alice", over: map[string]string{"address": newAddress, "clear": "address"}, field: "clear"},
		{name: "not a choice", user: "alice", over: map[string]string{"show_name": "maybe"}, field: "show_name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := setup(t, db)
				_, id := matchedRide(t, h, true, true)
				values := editValues(t, h, "alice", id, tc.over)
				if tc.before != nil {
					tc.before(h, id)
					h.Fake.Take()
				}
				r := request(t, db, id)
				audit := count(t, db, `SELECT COUNT(*) FROM audit_log`)
				sent := h.Submit(tc.user, flows.FormEdit, flows.Ref(id), values)
				if got := request(t, db, id); !sameRequest(got, r) || requestPrivate(t, db, id).Address != "12 Rue Rachel Est, apt 3" {
					t.Fatalf("the request changed:\n%+v\n%+v", r, got)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM audit_log`); n != audit {
					t.Fatalf("audit rows %d -> %d", audit, n)
				}
				if len(sent) != 1 || !sent[0].Reply {
					t.Fatalf("more than an answer to %s:\n%s", tc.user, bottest.Dump(sent))
				}
				if tc.reply != "" {
					if !bottest.Contains(sent, tc.reply) {
						t.Fatalf("refusal:\n%s", bottest.Dump(sent))
					}
					if tc.user != "alice" {
						// Nor can they open the form.
						if form := bottest.To(h.PressAction(tc.user, flows.ActEdit, flows.Ref(id)), "~"+tc.user); !bottest.Contains(form, tc.reply) {
							t.Fatalf("%s opened the form:\n%s", tc.user, bottest.Dump(form))
						}
					}
					return
				}
				res := must(t)(h.App.Flows().Edit(bg, actor(t, h, "alice"), flows.Ref(id), values))
				if len(res.Errors) != 1 || res.Errors[0].Field != tc.field || len(res.Outs) != 0 || len(res.Jobs) != 0 {
					t.Fatalf("errors %+v, outs %d, jobs %+v; want one on %s", res.Errors, len(res.Outs), res.Jobs, tc.field)
				}
			})
		})
	}
}

func TestEditScreensNewWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := crisisCast(t, db)
		board := bottest.To(h.Ask("alice", nil), "#board")
		id := lastRequest(t, db)
		h.Fake.Take()
		sent := edit(t, h, "alice", id, map[string]string{"summary": "Ride to the clinic, honestly I want to die"})
		if r := request(t, db, id); r.Summary != "Ride to chemotherapy at the Jewish General" || len(bottest.To(sent, "#board")) != 0 {
			t.Fatalf("the edit went through (%q):\n%s", r.Summary, bottest.Dump(sent))
		}
		for _, s := range sent {
			if strings.Contains(s.Text(), "want to die") {
				t.Fatalf("the words reached %s", bottest.Where(s))
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM escalations WHERE held_form = 'edit'`); n != 1 {
			t.Fatalf("held edits: %d", n)
		}
		// Posting it as written applies the edit to the same card.
		sent = h.Press("alice", h.MustButton(append(bottest.To(sent, "~alice"), bottest.To(sent, "@alice")...), flows.ActCrisisPost))
		b := bottest.To(sent, "#board")
		if r := request(t, db, id); r.Summary != "Ride to the clinic, honestly I want to die" || len(b) != 1 || !b[0].Edit || b[0].ID != board[0].ID {
			t.Fatalf("the held edit (%q):\n%s", r.Summary, bottest.Dump(sent))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM requests`); n != 1 {
			t.Fatalf("a held edit made a new request (%d)", n)
		}
		// Words already on the board are not screened again.
		sent = edit(t, h, "alice", id, map[string]string{"area": "Villeray"})
		if !bottest.Contains(bottest.To(sent, "#board"), "Villeray") {
			t.Fatalf("an area change was held for the summary:\n%s", bottest.Dump(sent))
		}
	})
}
