package flows_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// consentOf is the id of a member's newest consent for a purpose.
func consentOf(t *testing.T, db *store.DB, member int64, purpose string) string {
	t.Helper()
	return flows.Ref(int64(storetest.Count(t, db, `SELECT COALESCE(MAX(id), 0) FROM consents WHERE member_id = ? AND purpose = ?`, member, purpose)))
}

func TestMyDataListsConsentsAndWithdrawalBlocksTheReveal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		alice := memberID(t, db, "alice")
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		ask := bottest.To(h.Press("bob", claim), "@alice")
		// Bob's platform is down: his match (with the details, by reference) waits.
		h.Fake.FailWith(func(d bot.Delivery) error {
			if d.To.UserID == "bob" {
				return errors.New("503 from the platform")
			}
			return nil
		})
		h.Press("alice", h.MustButton(ask, flows.ActAcceptShare))
		h.Fake.Take()

		sent := h.Command("alice", "mydata")
		if !bottest.Contains(sent, "My data", "[Export my data]", "[Erase me]") ||
			!bottest.Contains(sent, "Sharing your private details with a helper", "For request #", "Given: ", "[Withdraw]") ||
			!bottest.Contains(sent, "Keeping your profile", "Privacy notice version: "+flows.NoticeVersion) {
			t.Fatalf("my data:\n%s", bottest.Dump(sent))
		}
		share := consentOf(t, db, alice, store.PurposeShareDetails)
		if sent := h.PressAction("alice", flows.ActMyDataWithdraw, share); !bottest.Contains(sent, "Withdrawn: Sharing your private details") {
			t.Fatalf("withdrawal:\n%s", bottest.Dump(sent))
		}
		if sent := h.PressAction("alice", flows.ActMyDataWithdraw, share); !bottest.Contains(sent, "already withdrawn") {
			t.Fatalf("second withdrawal:\n%s", bottest.Dump(sent))
		}
		// Someone else's consent, or keeping the profile, is not withdrawn this way.
		if sent := h.PressAction("bob", flows.ActMyDataWithdraw, consentOf(t, db, alice, store.PurposeFollowUp)); !bottest.Contains(sent, "can't find that consent") {
			t.Fatalf("bob withdrawing alice's consent:\n%s", bottest.Dump(sent))
		}
		if sent := h.PressAction("alice", flows.ActMyDataWithdraw, consentOf(t, db, alice, store.PurposeStoreProfile)); !bottest.Contains(sent, "Erase me") {
			t.Fatalf("withdrawing the profile consent:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM consents WHERE member_id = ? AND withdrawn_at IS NOT NULL`, alice); n != 1 {
			t.Fatalf("%d consents withdrawn, want 1", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'consent.withdrawn' AND subject = ?`, "consent:"+share); n != 1 {
			t.Fatal("the withdrawal is not audited")
		}

		// Bob's platform heals: his match arrives, without the details.
		h.Fake.FailWith(nil)
		h.Now = h.Now.Add(10 * time.Minute)
		if err := h.App.Flush(bg); err != nil {
			t.Fatal(err)
		}
		got := bottest.To(h.Fake.Take(), "@bob")
		if !bottest.Contains(got, "Alice accepted your help") {
			t.Fatalf("bob's match was not delivered:\n%s", bottest.Dump(got))
		}
		for _, secret := range []string{"12 Rue Rachel", "514-555-0199", "front steps"} {
			if bottest.Contains(got, secret) {
				t.Fatalf("revealed %q after the consent was withdrawn:\n%s", secret, bottest.Dump(got))
			}
		}
	})
}

func TestMyDataWithdrawingFollowUpStopsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		alice := memberID(t, db, "alice")
		id, claimID := matched(t, h, map[string]string{"follow_up": "yes"})
		h.PressAction("alice", flows.ActMyDataWithdraw, consentOf(t, db, alice, store.PurposeFollowUp))
		res := must(t)(h.App.Flows().Done(bg, actor(t, h, "bob"), claimID))
		if len(jobsOf(res, flows.JobFollowUp)) != 0 {
			t.Fatalf("a follow-up was scheduled after its consent was withdrawn: %+v", res.Jobs)
		}
		h.Now = h.Now.Add(24 * time.Hour)
		if res := jobOuts(t)(h.App.Flows().FollowUp(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("followed up after the consent was withdrawn: %+v", res.Outs)
		}
	})
}

func TestMyDataExportHoldsMineOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		h.Press("alice", h.MustButton(bottest.To(h.Press("bob", claim), "@alice"), flows.ActAcceptShare))
		// A second request of alice's, called off: its details say when they go.
		second := bottest.To(h.Ask("alice", map[string]string{"summary": "Soup on Friday", "address": "5 Avenue Laurier"}), "~alice")
		h.Press("alice", h.MustButton(second, flows.ActCancel))
		// Someone else's request and details.
		h.Ask("carol", map[string]string{"summary": "Groceries for carol", "address": "99 Carol Lane", "phone": "514-555-0333", "notes": "carol's note"})
		h.Fake.Take()

		sent := h.Press("alice", h.MustButton(h.Command("alice", "mydata"), flows.ActMyDataExport))
		mine := []string{`"display_name": "Alice"`, `"user_id": "alice"`, "12 Rue Rachel Est", "514-555-0199", "front steps", "5 Avenue Laurier",
			"Soup on Friday", "share_details_with_helper", "store_profile", `"viewer": "Bob"`, `"basis": "consent"`,
			`"private_purged_at"`, `"retention_days": 30`}
		if !bottest.Contains(bottest.To(sent, "~alice"), mine...) {
			t.Fatalf("alice's export:\n%s", bottest.Dump(sent))
		}
		for _, other := range []string{"99 Carol Lane", "514-555-0333", "carol's note", "Carol", "Maya", "maya", "Groceries for carol"} {
			if bottest.Contains(sent, other) {
				t.Fatalf("alice's export holds %q:\n%s", other, bottest.Dump(sent))
			}
		}
		if len(sent) != len(bottest.To(sent, "~alice")) {
			t.Fatalf("the export went somewhere else too:\n%s", bottest.Dump(sent))
		}
		// Shown once, kept nowhere.
		dump := storetest.Dump(t, db)
		for _, secret := range []string{"12 Rue Rachel", "5 Avenue Laurier", `"viewer"`} {
			if bytes.Contains(dump, []byte(secret)) {
				t.Errorf("%q is stored after the export", secret)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'member.exported' AND detail = 'by=self'`); n != 1 {
			t.Fatal("the export is not audited")
		}
		// Bob's export has his own claim, and none of alice's details.
		sent = h.Press("bob", h.MustButton(h.Command("bob", "mydata"), flows.ActMyDataExport))
		if !bottest.Contains(sent, `"user_id": "bob"`, `"state": "accepted"`) || bottest.Contains(sent, "12 Rue Rachel") || bottest.Contains(sent, "Alice") {
			t.Fatalf("bob's export:\n%s", bottest.Dump(sent))
		}
	})
}

func TestMyDataEraseMe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		const who, name = "zephyrine", "Zephyrine"
		h.Volunteer(who, "ride, meal", "any", "any")
		h.Vet(who)
		zeph := memberID(t, db, who)
		// Zephyrine helps alice (accepted, with alice's details) ...
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		h.Press("alice", h.MustButton(bottest.To(h.Press(who, claim), "@alice"), flows.ActAcceptShare))
		aliceReq := lastRequest(t, db)
		// ... and asks herself, with bob offering.
		board := bottest.To(h.Ask(who, map[string]string{"summary": "Soup for the week", "address": "77 Rue Zephyr", "phone": "438-555-0777", "notes": "allergic to nuts"}), "#board")
		h.Press("bob", h.MustButton(board, flows.ActClaim))
		ownReq := lastRequest(t, db)
		// ... and offers soup, which maya joins.
		join := h.MustButton(bottest.To(h.Submit(who, flows.FormOffer, "", map[string]string{"category": "meal",
			"summary": "Lentil soup", "when": "thursday 18:00", "area": "Rosemont", "capacity": "3"}), "#board"), flows.ActJoin)
		h.Submit("maya", flows.FormJoin, join.Payload, map[string]string{"share": "no"})
		// A half-answered form of hers.
		h.Command(who, "ask")
		h.Fake.Take()
		counts := func() [3]int {
			return [3]int{storetest.Count(t, db, `SELECT COUNT(*) FROM requests`) + storetest.Count(t, db, `SELECT COUNT(*) FROM offers`),
				storetest.Count(t, db, `SELECT COUNT(*) FROM claims`), storetest.Count(t, db, `SELECT COUNT(*) FROM members`)}
		}
		before := counts()

		ask := h.Press(who, h.MustButton(h.Command(who, "mydata"), flows.ActMyDataErase))
		if !bottest.Contains(ask, "Erase everything about you?", "[Yes, erase everything about me]", "[No, keep it]") {
			t.Fatalf("erase confirmation:\n%s", bottest.Dump(ask))
		}
		if sent := h.Press(who, h.MustButton(ask, flows.ActMyDataEraseKeep)); !bottest.Contains(sent, "nothing was erased") {
			t.Fatalf("keep:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE member_id = ?`, zeph); n != 1 {
			t.Fatal("asking to erase erased before the confirmation")
		}
		sent := h.Press(who, h.MustButton(ask, flows.ActMyDataEraseConfirm))
		if !bottest.Contains(bottest.To(sent, "~"+who), "Everything we kept about you is erased", "3 open requests or places") {
			t.Fatalf("erase:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "@maya"), "Lentil soup") {
			t.Fatalf("maya was not told the offer is called off:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM offers WHERE status = 'cancelled'`); n != 1 {
			t.Fatal("her offer is not called off")
		}
		if !bottest.Contains(bottest.To(sent, "@bob"), "Soup for the week") {
			t.Fatalf("bob was not told the request is called off:\n%s", bottest.Dump(sent))
		}
		if got := bottest.To(sent, "@alice"); !bottest.Contains(got, "Ride to chemotherapy") || bottest.Contains(got, name) {
			t.Fatalf("alice was not told kindly, without the name:\n%s", bottest.Dump(sent))
		}
		if b := bottest.To(sent, "#board"); len(b) < 2 || bottest.Contains(b, name) {
			t.Fatalf("board cards after the erasure:\n%s", bottest.Dump(sent))
		}
		for id, want := range map[int64]string{aliceReq: "open", ownReq: "cancelled"} {
			if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE id = ? AND status = ?`, id, want); n != 1 {
				t.Fatalf("request %d is not %s", id, want)
			}
		}

		// A second press changes nothing: she is no longer a member.
		audits := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log`)
		if sent := h.Press(who, h.MustButton(ask, flows.ActMyDataEraseConfirm)); bottest.Contains(sent, "is erased") {
			t.Fatalf("second confirmation:\n%s", bottest.Dump(sent))
		}
		if got := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log`); got != audits {
			t.Fatalf("the second press wrote %d audit rows", got-audits)
		}
		if err := h.App.Flush(bg); err != nil {
			t.Fatal(err)
		}
		h.Fake.Take()

		// Nothing names her anywhere; the counts and the audit trail stay.
		dump := storetest.Dump(t, db)
		for _, secret := range []string{who, name, "77 Rue Zephyr", "438-555-0777", "allergic to nuts"} {
			if bytes.Contains(bytes.ToLower(dump), []byte(strings.ToLower(secret))) {
				t.Errorf("%q is still stored", secret)
			}
		}
		if !bytes.Contains(dump, []byte("Soup for the week")) {
			t.Fatal("the public summary is not in the dump either; the scan is not reading the data")
		}
		if after := counts(); after != before {
			t.Fatalf("counts (requests and offers, claims, members) = %v, want %v", after, before)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE actor_member_id = ?`, zeph); n < 3 {
			t.Fatalf("the audit trail lost her rows: %d left", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'member.erased' AND subject = ?`, "member:"+flows.Ref(zeph)); n != 1 {
			t.Fatal("the erasure is not audited")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM consents WHERE member_id = ? AND withdrawn_at IS NULL`, zeph); n != 0 {
			t.Fatalf("%d of her consents are still live", n)
		}
	})
}
