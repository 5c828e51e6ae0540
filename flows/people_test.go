package flows_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// What alice types about her mother; the name is private like the address.
const (
	mumName = "Jeanne Tremblay"
	mumRel  = "my mother"
)

// askFor submits the ask-for form as alice for her mother, with the default ask's
// private details, overridden by values.
func askFor(h *bottest.H, values map[string]string) []bottest.Sent {
	h.T.Helper()
	v := map[string]string{"person": mumName, "relationship": mumRel, "agreed": "yes",
		"category": "ride", "when": "thursday 13:00", "until": "16:00", "area": "Rosemont",
		"summary": "Ride to chemotherapy at the Jewish General", "address": "12 Rue Rachel Est, apt 3", "phone": "514-555-0199",
		"notes": "Walker; needs help with the front steps", "show_name": "name", "may_share": "yes", "follow_up": "yes"}
	for k, x := range values {
		v[k] = x
	}
	return h.Submit("alice", flows.FormAskFor, "", v)
}

// beneficiaryID is the one person asked for by someone else.
func beneficiaryID(t *testing.T, db *store.DB) int64 {
	t.Helper()
	return int64(storetest.Count(t, db, `SELECT COALESCE(MAX(id), 0) FROM members WHERE contact_member_id IS NOT NULL`))
}

func TestAskForSomeoneElse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		alice := memberID(t, db, "alice")
		sent := askFor(h, nil)
		board := bottest.To(sent, "#board")
		if !bottest.Contains(board, "Ride to chemotherapy", "Asked by: "+mumName, "[I can help]") || bottest.Contains(board, "Alice") {
			t.Fatalf("board card of a request for someone else:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "~alice"), "This request is for "+mumName, "Every message about it comes to you") {
			t.Fatalf("alice's confirmation:\n%s", bottest.Dump(sent))
		}
		mum := beneficiaryID(t, db)
		if mum == 0 || mum == alice {
			t.Fatalf("no person recorded for the request")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE member_id = ?`, mum); n != 0 {
			t.Fatalf("the person asked for has %d platform identities, want none", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM members WHERE id = ? AND contact_member_id = ? AND display_name = ''`, mum, alice); n != 1 {
			t.Fatal("the person is not recorded with alice as their contact and no name in clear")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE requester_id = ?`, mum); n != 1 {
			t.Fatalf("requests of the person = %d, want 1", n)
		}
		stated := `%"action":"stated_by_contact:` + flows.Ref(alice) + `"%`
		for _, purpose := range []string{store.PurposeStoreProfile, store.PurposeFollowUp} {
			if n := storetest.Count(t, db, `SELECT COUNT(*) FROM consents WHERE member_id = ? AND purpose = ? AND evidence LIKE ?`, mum, purpose, stated); n != 1 {
				t.Errorf("%s consent of the person stated by alice = %d, want 1", purpose, n)
			}
		}
		// A second request for the same person (however it is capitalised) is theirs too.
		askFor(h, map[string]string{"person": "jeanne tremblay", "summary": "Soup on Friday", "category": "meal", "when": "friday 12:00"})
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE requester_id = ?`, mum); n != 2 {
			t.Fatalf("the second request for the same person made a new person")
		}

		// Bob offers: the consent gate goes to alice, who speaks for her mother.
		claim := h.MustButton(board, flows.ActClaim)
		sent = h.Press("bob", claim)
		if !bottest.Contains(bottest.To(sent, "~bob"), "We've asked "+mumName+" to confirm") {
			t.Fatalf("bob's thanks:\n%s", bottest.Dump(sent))
		}
		gate := bottest.To(sent, "@alice")
		if !bottest.Contains(gate, "Bob would like to help", "the request you made for "+mumName, "[Accept Bob and share the details I gave]") {
			t.Fatalf("alice's consent gate:\n%s", bottest.Dump(sent))
		}
		// Alice cannot claim what she asked for herself.
		h.Submit("alice", flows.FormVolunteer, "", map[string]string{"categories": "ride", "areas": "any", "days": "any"})
		h.Vet("alice")
		if sent := h.Press("alice", claim); !bottest.Contains(sent, "your own request") {
			t.Fatalf("alice claiming her mother's request:\n%s", bottest.Dump(sent))
		}
		if sent := h.Press("carol", h.MustButton(gate, flows.ActAcceptShare)); !bottest.Contains(sent, "Only the person who asked") {
			t.Fatalf("carol accepting for alice's mother:\n%s", bottest.Dump(sent))
		}

		sent = h.Press("alice", h.MustButton(gate, flows.ActAcceptShare))
		bob := bottest.To(sent, "@bob")
		if !bottest.Contains(bob, mumName+" accepted your help", "Address: 12 Rue Rachel Est, apt 3", "Phone: 514-555-0199") {
			t.Fatalf("bob did not get the details:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "~alice"), "You're matched with Bob", "the request you made for "+mumName) {
			t.Fatalf("alice's match:\n%s", bottest.Dump(sent))
		}
		// The visit's code word, for the person at the door, is read by the one who asked.
		if !bottest.Contains(bottest.To(sent, "@alice"), "ask for the code word", "Code word: ") {
			t.Fatalf("alice did not get the code word:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures WHERE subject_member_id = ? AND viewer_member_id = ? AND basis = 'consent'`,
			mum, memberID(t, db, "bob")); n != 1 {
			t.Fatalf("disclosures with the person as subject = %d, want 1", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM consents WHERE member_id = ? AND purpose = ? AND scope_request_id IS NOT NULL
			AND scope_member_id = ? AND evidence LIKE ?`, mum, store.PurposeShareDetails, memberID(t, db, "bob"), stated); n != 1 {
			t.Fatalf("the share consent is not the person's, stated by alice")
		}
		for _, s := range h.Fake.History() {
			for _, secret := range privates {
				if strings.Contains(s.Text(), secret) && bottest.Where(s) != "@bob" {
					t.Fatalf("%q reached %s", secret, bottest.Where(s))
				}
			}
		}

		// Done by bob: alice is told; the follow-up goes to alice too.
		sent = h.Press("bob", h.MustButton(bob, flows.ActDone))
		if !bottest.Contains(bottest.To(sent, "@alice"), "Bob marked") {
			t.Fatalf("done:\n%s", bottest.Dump(sent))
		}
		first := int64(storetest.Count(t, db, `SELECT MIN(id) FROM requests WHERE requester_id = ?`, mum))
		res := jobOuts(t)(h.App.Flows().FollowUp(bg, first))
		if len(res.Outs) != 1 || res.Outs[0].To != ui.Member(alice) {
			t.Fatalf("follow-up for the person went to %+v, want alice", res.Outs)
		}

		// Mine labels the requests made for others and offers to forget the person.
		mine := h.Command("alice", "mine")
		if !bottest.Contains(mine, "Your request for "+mumName, "Soup on Friday") ||
			!bottest.Contains(mine, "You ask on behalf of "+mumName, mumRel, "[Forget "+mumName+"]") {
			t.Fatalf("alice's mine:\n%s", bottest.Dump(mine))
		}

		// Alice declines a helper and cancels, for her mother, as for herself.
		var soup bot.RenderedButton
		for _, m := range h.Fake.History() {
			if b, ok := m.Button(flows.ActClaim); ok && bottest.Where(m) == "#board" && strings.Contains(m.Text(), "Soup on Friday") {
				soup = b
			}
		}
		gate = bottest.To(h.Press("bob", soup), "@alice")
		sent = h.Press("alice", h.MustButton(gate, flows.ActDecline))
		if !bottest.Contains(bottest.To(sent, "~alice"), "Your request is open again") || !bottest.Contains(bottest.To(sent, "@bob"), "arranged another way") {
			t.Fatalf("alice declining for her mother:\n%s", bottest.Dump(sent))
		}
		for _, m := range mine {
			if b, ok := m.Button(flows.ActCancel); ok && strings.Contains(m.Text(), "Soup on Friday") {
				sent = h.Press("alice", b)
			}
		}
		if !bottest.Contains(sent, "Your request is cancelled") || !bottest.Contains(bottest.To(sent, "#board"), "No longer needed") {
			t.Fatalf("alice cancelling for her mother:\n%s", bottest.Dump(sent))
		}

		// Nothing was ever addressed to the person, and their name is nowhere in clear.
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE member_id = ?`, mum); n != 0 {
			t.Fatalf("%d messages were addressed to a person without an account", n)
		}
		if strings.Contains(h.Log.String(), "no reachable account") {
			t.Fatalf("a message went to someone without an account:\n%s", h.Log.String())
		}
		dump := storetest.Dump(t, db)
		for _, secret := range append([]string{mumName, "jeanne tremblay", mumRel}, privates...) {
			if bytes.Contains(dump, []byte(secret)) {
				t.Errorf("%q is stored in clear", secret)
			}
		}
		if !bytes.Contains(dump, []byte("Ride to chemotherapy")) {
			t.Fatal("the public summary is not in the dump either; the scan is not reading the data")
		}
		for _, secret := range []string{mumName, mumRel, "12 Rue Rachel"} {
			if strings.Contains(h.Log.String(), secret) {
				t.Errorf("%q reached a log line", secret)
			}
		}
	})
}

func TestAskForNeedsTheirAgreement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		members := storetest.Count(t, db, `SELECT COUNT(*) FROM members`)
		cases := []struct {
			name   string
			values map[string]string
			want   string
		}{
			{"not agreed", map[string]string{"agreed": "no"}, "only ask for help on someone's behalf when they have agreed"},
			{"not agreed, other answers bad too", map[string]string{"agreed": "no", "summary": ""}, "nothing was saved"},
			{"no answer", map[string]string{"agreed": ""}, "This one is needed"},
			{"no name", map[string]string{"person": " "}, "This one is needed"},
			{"long name", map[string]string{"person": strings.Repeat("n", flows.MaxPersonName+1)}, "80 characters"},
		}
		for _, c := range cases {
			sent := askFor(h, c.values)
			if !bottest.Contains(sent, c.want) {
				t.Errorf("%s: want %q in\n%s", c.name, c.want, bottest.Dump(sent))
			}
			if len(bottest.To(sent, "#board")) != 0 {
				t.Errorf("%s: something reached the board", c.name)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests`); n != 0 {
			t.Fatalf("refused asks created %d requests", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM members`); n != members {
			t.Fatalf("refused asks recorded %d people", n-members)
		}

		// Through the dialogue, where a platform has no forms: the same refusal, nothing kept.
		sent := h.Command("alice", "ask-for")
		if !bottest.Contains(bottest.To(sent, "@alice"), "(1/14)", "The person's name") {
			t.Fatalf("ask-for dialogue:\n%s", bottest.Dump(sent))
		}
		// Name, relationship, "No, not yet", then the ask's own questions.
		for _, answer := range []string{"Jeanne", "skip", "2", "1", "friday 10:00", "skip", "Rosemont", "Soup", "skip", "skip", "skip", "skip", "skip", "skip"} {
			sent = h.DM("alice", answer)
		}
		if !bottest.Contains(sent, "nothing was saved") {
			t.Fatalf("the dialogue did not end with the refusal:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests`) + storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues`); n != 0 {
			t.Fatalf("a refused dialogue left %d rows", n)
		}
	})
}

func TestForgetAPerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		h.Join("erin")
		h.Fake.Take()
		board := bottest.To(askFor(h, nil), "#board")
		askFor(h, map[string]string{"summary": "Soup on Friday", "category": "meal", "when": "friday 12:00"})
		mum := beneficiaryID(t, db)
		gate := bottest.To(h.Press("bob", h.MustButton(board, flows.ActClaim)), "@alice")
		h.Press("alice", h.MustButton(gate, flows.ActAcceptShare))

		var sealed [][]byte
		if err := db.X.Select(&sealed, db.X.Rebind(`SELECT person_ct FROM members WHERE id = ? UNION ALL
			SELECT private_ct FROM requests WHERE requester_id = ?`), mum, mum); err != nil {
			t.Fatal(err)
		}
		if len(sealed) != 3 || len(sealed[0]) == 0 {
			t.Fatalf("expected the sealed name and two sealed private parts, got %d values", len(sealed))
		}
		counts := func() [4]int {
			return [4]int{storetest.Count(t, db, `SELECT COUNT(*) FROM requests`), storetest.Count(t, db, `SELECT COUNT(*) FROM claims`),
				storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures`), storetest.Count(t, db, `SELECT COUNT(*) FROM members`)}
		}
		before := counts()

		// Only the contact and moderators may; someone else is refused and nothing changes.
		if sent := h.Command("erin", "forget-person", flows.Ref(mum)); !bottest.Contains(sent, "Only the member who asked") {
			t.Fatalf("erin forgetting alice's mother:\n%s", bottest.Dump(sent))
		}
		if sent := h.PressAction("erin", flows.ActForgetConfirm, flows.Ref(mum)); !bottest.Contains(sent, "Only the member who asked") {
			t.Fatalf("erin confirming:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("alice", "forget-person", "999999"); !bottest.Contains(sent, "can't find a person") {
			t.Fatalf("unknown person:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("alice", "forget-person", flows.Ref(memberID(t, db, "bob"))); !bottest.Contains(sent, "can't find a person") {
			t.Fatalf("forgetting a member with an account:\n%s", bottest.Dump(sent))
		}

		// Alice, from Mine: a confirmation first, then the erasure.
		ask := h.Press("alice", h.MustButton(h.Command("alice", "mine"), flows.ActForgetPerson))
		if !bottest.Contains(ask, "Forget "+mumName+"?", "calls off their 2 open requests", "[Yes, forget "+mumName+"]") {
			t.Fatalf("confirmation:\n%s", bottest.Dump(ask))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM members WHERE id = ? AND erased_at IS NULL`, mum); n != 1 {
			t.Fatal("asking for confirmation erased already")
		}
		sent := h.Press("alice", h.MustButton(ask, flows.ActForgetConfirm))
		if !bottest.Contains(bottest.To(sent, "~alice"), "Everything we kept about this person is erased") {
			t.Fatalf("done:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "@bob"), "no longer needed") {
			t.Fatalf("bob was not told:\n%s", bottest.Dump(sent))
		}
		cards := bottest.To(sent, "#board")
		if len(cards) != 2 || !bottest.Contains(cards, "No longer needed", "a neighbour") || bottest.Contains(cards, "Jeanne") {
			t.Fatalf("board cards after forgetting:\n%s", bottest.Dump(sent))
		}
		if sent := h.Press("alice", h.MustButton(ask, flows.ActForgetConfirm)); !bottest.Contains(sent, "already been forgotten") {
			t.Fatalf("second confirm:\n%s", bottest.Dump(sent))
		}

		// No name, address or phone anywhere, in clear or sealed; the counts stay.
		dump := storetest.Dump(t, db)
		for _, secret := range append([]string{mumName, mumRel}, privates...) {
			if bytes.Contains(dump, []byte(secret)) {
				t.Errorf("%q is still stored", secret)
			}
		}
		for i, ct := range sealed {
			if bytes.Contains(dump, ct) {
				t.Errorf("sealed value %d of the person is still stored", i)
			}
		}
		if !bytes.Contains(dump, []byte("Soup on Friday")) {
			t.Fatal("the public summary is not in the dump either; the scan is not reading the data")
		}
		if after := counts(); after != before {
			t.Fatalf("counts (requests, claims, disclosures, members) = %v, want %v", after, before)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM consents WHERE member_id = ? AND withdrawn_at IS NULL`, mum); n != 0 {
			t.Fatalf("%d consents of the forgotten person are still active", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE requester_id = ? AND status = 'cancelled'`, mum); n != 2 {
			t.Fatalf("cancelled requests of the forgotten person = %d, want 2", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'person.forgotten' AND subject = ? AND detail LIKE 'by=contact%'`, "member:"+flows.Ref(mum)); n != 1 {
			t.Fatal("no audit row for forgetting the person")
		}
		if mine := h.Command("alice", "mine"); bottest.Contains(mine, "on behalf of") {
			t.Fatalf("a forgotten person is still listed:\n%s", bottest.Dump(mine))
		}

		// A moderator may forget a person too, named by their request; the contact is told.
		askFor(h, map[string]string{"person": "Paul", "summary": "Groceries for Paul", "category": "groceries", "show_name": "anonymous"})
		paul := beneficiaryID(t, db)
		ask = h.Command("maya", "forget-person", "#"+flows.Ref(lastRequest(t, db)))
		sent = h.Press("maya", h.MustButton(ask, flows.ActForgetConfirm))
		if !bottest.Contains(bottest.To(sent, "@alice"), "A moderator has erased") {
			t.Fatalf("alice not told of a moderator's erasure:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM members WHERE id = ? AND erased_at IS NOT NULL AND person_ct IS NULL`, paul); n != 1 {
			t.Fatal("the moderator's erasure did not erase")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'person.forgotten' AND detail LIKE 'by=moderator%'`); n != 1 {
			t.Fatal("no audit row for the moderator's erasure")
		}
	})
}

// The one who asked for someone else edits and reschedules the request as their own,
// and hears the helper's answer; nobody else may.
func TestAskerEditsARequestForSomeoneElse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		board := bottest.To(askFor(h, nil), "#board")
		gate := bottest.To(h.Press("bob", h.MustButton(board, flows.ActClaim)), "@alice")
		h.Press("alice", h.MustButton(gate, flows.ActAcceptShare))
		id := lastRequest(t, db)
		if sent := h.Command("alice", "edit"); !bottest.Contains(sent, "Ride to chemotherapy", "[Edit]") {
			t.Fatalf("alice's editable requests:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("carol", "edit", flows.Ref(id)); !bottest.Contains(sent, "Only the person who asked can change") {
			t.Fatalf("carol opened the edit form of alice's mother's request:\n%s", bottest.Dump(sent))
		}
		sent := edit(t, h, "alice", id, map[string]string{"when": "friday 10:00", "until": "13:00"})
		bob := bottest.To(sent, "@bob")
		if !bottest.Contains(bob, "New time", "[I can't make it]") {
			t.Fatalf("bob was not asked about the new time:\n%s", bottest.Dump(sent))
		}
		sent = h.Press("bob", h.MustButton(bob, flows.ActRescheduleNo))
		if !bottest.Contains(bottest.To(sent, "@alice"), "Bob can't make the new time") {
			t.Fatalf("alice was not told:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE member_id = ?`, beneficiaryID(t, db)); n != 0 {
			t.Fatalf("%d messages were addressed to the person without an account", n)
		}
	})
}
