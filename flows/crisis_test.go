package flows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// phrases is a stand-in detector for flow tests (the real one has its own corpus
// tests): a phrase anywhere in the text gives its tier.
type phrases map[string]string

func (p phrases) Screen(_ int64, text string) string {
	best := ""
	rank := map[string]int{"": 0, flows.TierDistress: 1, flows.TierIdeation: 2, flows.TierImminent: 3}
	for phrase, tier := range p {
		if strings.Contains(strings.ToLower(text), phrase) && rank[tier] > rank[best] {
			best = tier
		}
	}
	return best
}

var testPhrases = phrases{"can't go on": flows.TierDistress, "want to die": flows.TierIdeation, "pills ready": flows.TierImminent}

// crisisCast: alice (member), bob (vetted volunteer), maya (moderator), a partner whose
// channel is #partners on the same space.
func crisisCast(t *testing.T, db *store.DB) *bottest.H {
	t.Helper()
	h := bottest.New(t, db, "en")
	h.App.Flows().SetScreener(testPhrases)
	h.Join("alice")
	h.Join("maya")
	h.Volunteer("bob", "ride", "any", "any")
	h.Vet("bob")
	sent := h.Submit("maya", flows.FormPartner, "", map[string]string{"name": "Hospice Team", "kind": "palliative", "languages": "en, fr",
		"hours": "9-17", "route": bottest.Platform + ":" + bottest.Workspace + ":partners"})
	if !bottest.Contains(sent, "in the directory") {
		t.Fatalf("partner not saved:\n%s", bottest.Dump(sent))
	}
	h.Fake.Take()
	return h
}

func count(t *testing.T, db *store.DB, q string) int { return storetest.Count(t, db, q) }

func TestCrisisSignalHoldsTheRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := crisisCast(t, db)
		sent := h.Ask("alice", map[string]string{"summary": "Ride to the clinic, honestly I want to die"})
		if n := count(t, db, `SELECT COUNT(*) FROM requests`); n != 0 {
			t.Fatalf("a request with a crisis signal was posted (%d)", n)
		}
		for _, s := range sent {
			if strings.Contains(s.Text(), "want to die") {
				t.Errorf("the words reached %s", bottest.Where(s))
			}
			if bottest.Where(s) == "#board" {
				t.Errorf("the board got something: %s", s.Text())
			}
		}
		private := append(bottest.To(sent, "~alice"), bottest.To(sent, "@alice")...)
		if !bottest.Contains(private, "9-8-8", "not an emergency service") || len(bottest.To(sent, "@alice")) != 1 {
			t.Fatalf("alice did not get resources privately, in a DM too:\n%s", bottest.Dump(sent))
		}
		mods := bottest.To(sent, "#mods")
		if len(mods) != 1 || !bottest.Contains(mods, "Possible crisis signal", "Alice", "thoughts of suicide") {
			t.Fatalf("the moderators' case:\n%s", bottest.Dump(sent))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM escalations WHERE source = 'detector' AND severity = 'ideation' AND held_form = 'ask'`); n != 1 {
			t.Fatalf("cases = %d", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM escalations WHERE CAST(held_ct AS TEXT) LIKE '%clinic%'`); n != 0 {
			t.Fatal("the held request is in clear text")
		}
		// Posting releases it; the case stays open.
		post := h.MustButton(private, flows.ActCrisisPost)
		sent = h.Press("alice", post)
		if n := count(t, db, `SELECT COUNT(*) FROM requests`); n != 1 || !bottest.Contains(bottest.To(sent, "#board"), "Ride to the clinic") {
			t.Fatalf("post my request: %d requests\n%s", n, bottest.Dump(sent))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM escalations WHERE status = 'open'`); n != 1 {
			t.Fatal("the case closed when the request was posted")
		}
		again := h.Press("alice", post)
		if n := count(t, db, `SELECT COUNT(*) FROM requests`); n != 1 || !bottest.Contains(again, "already been posted") {
			t.Fatalf("a second press posted again (%d)", n)
		}
		// Someone else's press changes nothing.
		if sent := h.Press("bob", h.MustButton(private, flows.ActCrisisSafe)); !bottest.Contains(sent, "isn't for you") {
			t.Fatalf("bob pressed alice's button:\n%s", bottest.Dump(sent))
		}
	})
}

func TestNotWhatIMeant(t *testing.T) {
	tests := []struct {
		name, summary string
		stillOpen     bool
	}{
		{"distress closes quietly", "I can't go on with these stairs, need a ride", false},
		{"ideation closes quietly", "I want to die laughing, need a ride", false},
		{"imminent stays open", "pills ready, ride please", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := crisisCast(t, db)
				sent := h.Ask("alice", map[string]string{"summary": tt.summary})
				safe := h.MustButton(bottest.To(sent, "@alice"), flows.ActCrisisSafe)
				sent = h.Press("alice", safe)
				if n := count(t, db, `SELECT COUNT(*) FROM requests`); n != 1 {
					t.Fatalf("not what I meant did not post the request (%d)", n)
				}
				open := count(t, db, `SELECT COUNT(*) FROM escalations WHERE status = 'open'`)
				if (open == 1) != tt.stillOpen {
					t.Fatalf("open cases = %d, want still open %v", open, tt.stillOpen)
				}
				if !tt.stillOpen && count(t, db, `SELECT COUNT(*) FROM escalation_events WHERE action = 'not_meant'`) != 1 {
					t.Fatal("the quiet close is not counted")
				}
			})
		})
	}
}

func TestRealertsStopOnAcknowledgement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := crisisCast(t, db)
		h.Ask("alice", map[string]string{"summary": "pills ready, ride please"})
		var id int64
		if err := db.X.Get(&id, `SELECT id FROM escalations`); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		realert := func() []bottest.Sent {
			h.Now = h.Now.Add(10 * time.Minute)
			if err := h.App.RunJob(ctx, flows.Job{Kind: flows.JobCaseRealert, Ref: id, At: h.Now.Unix()}, "job:realert:"+h.Now.String()); err != nil {
				t.Fatal(err)
			}
			if err := h.App.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			return h.Fake.Take()
		}
		if sent := realert(); len(bottest.To(sent, "#mods")) != 1 || !bottest.Contains(sent, "Still waiting") {
			t.Fatalf("first re-alert:\n%s", bottest.Dump(sent))
		}
		// The second reaches the alert channel (here, the moderators' channel again).
		if sent := realert(); len(bottest.To(sent, "#mods")) != 2 {
			t.Fatalf("second re-alert:\n%s", bottest.Dump(sent))
		}
		sent := h.PressAction("maya", flows.ActCaseAck, flows.Ref(id))
		if !bottest.Contains(sent, "The alerts have stopped") {
			t.Fatalf("ack:\n%s", bottest.Dump(sent))
		}
		if again := h.PressAction("bob", flows.ActCaseAck, flows.Ref(id)); !bottest.Contains(again, "Only moderators") {
			t.Fatalf("a volunteer acknowledged:\n%s", bottest.Dump(again))
		}
		if sent := realert(); len(sent) != 0 {
			t.Fatalf("re-alerted after the acknowledgement:\n%s", bottest.Dump(sent))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM escalations WHERE acknowledged_by IS NOT NULL AND acknowledged_at IS NOT NULL`); n != 1 {
			t.Fatal("who acknowledged, and when, is not recorded")
		}
	})
}

func TestReferral(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := crisisCast(t, db)
		sent := h.Ask("alice", map[string]string{"summary": "I want to die, need a ride"})
		mods := bottest.To(sent, "#mods")
		if len(mods) != 1 || mods[0].Msg.Choice == nil || len(mods[0].Msg.Choice.Options) != 1 {
			t.Fatalf("no partner to refer to on the case:\n%s", bottest.Dump(sent))
		}
		refer := func(user string) []bottest.Sent {
			return h.Event(user, bot.Event{Kind: bot.EventButton, Action: flows.ActCaseRefer, Value: mods[0].Msg.Choice.Options[0].Value})
		}
		if sent := refer("bob"); !bottest.Contains(sent, "Only moderators") {
			t.Fatalf("a volunteer referred:\n%s", bottest.Dump(sent))
		}
		sent = refer("maya")
		ask := bottest.To(sent, "@alice")
		if len(ask) != 1 || !bottest.Contains(ask, "Hospice Team", "only your name") || len(bottest.To(sent, "#partners")) != 0 {
			t.Fatalf("consent was not asked first:\n%s", bottest.Dump(sent))
		}
		// No: nothing reaches the partner.
		no := h.Press("alice", h.MustButton(ask, flows.ActReferralNo))
		if len(bottest.To(no, "#partners")) != 0 || !bottest.Contains(bottest.To(no, "#mods"), "declined") {
			t.Fatalf("after no:\n%s", bottest.Dump(no))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM consents WHERE purpose = 'share_with_partner'`); n != 0 {
			t.Fatal("a consent was recorded for a no")
		}
		// Proposed again later (people change their minds), yes: the partner gets the
		// minimum.
		sent = refer("maya")
		ask = bottest.To(sent, "@alice")
		yes := h.Press("alice", h.MustButton(ask, flows.ActReferralYes))
		partner := bottest.To(yes, "#partners")
		if len(partner) != 1 || !bottest.Contains(partner, "Alice", "with the person's consent") {
			t.Fatalf("the partner did not get the referral:\n%s", bottest.Dump(yes))
		}
		for _, secret := range []string{"12 Rue Rachel", "514-555-0199", "want to die", "Walker"} {
			if bottest.Contains(partner, secret) {
				t.Errorf("%q reached the partner", secret)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM consents WHERE purpose = 'share_with_partner' AND evidence LIKE '%referral.consent%'`); n != 1 {
			t.Fatal("the consent was not recorded with its evidence")
		}
		// The partner acknowledges from its own channel.
		ack := h.Event("hospice", bot.Event{Kind: bot.EventButton, ChannelID: "partners", Action: flows.ActReferralAck, Payload: partner[0].Msg.Buttons[0].Payload})
		if !bottest.Contains(bottest.To(ack, "#mods"), "acknowledged the referral") {
			t.Fatalf("partner ack:\n%s", bottest.Dump(ack))
		}
		for _, action := range []string{"case.signal", "referral.asked", "referral.declined", "referral.sent", "referral.acknowledged"} {
			if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = '`+action+`'`); n < 1 {
				t.Errorf("no audit row for %s", action)
			}
		}
	})
}

func TestEmergencyReferral(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := crisisCast(t, db)
		sent := h.Ask("alice", map[string]string{"summary": "pills ready"})
		em := h.MustButton(bottest.To(sent, "#mods"), flows.ActCaseEmergency)
		caseID := em.Payload
		var partner string
		if err := db.X.Get(&partner, `SELECT CAST(id AS TEXT) FROM partners`); err != nil {
			t.Fatal(err)
		}
		refused := h.Submit("maya", flows.FormEmergency, caseID, map[string]string{"partner": partner, "reason": "  "})
		if !bottest.Contains(refused, "needs a written reason") || count(t, db, `SELECT COUNT(*) FROM referrals`) != 0 {
			t.Fatalf("an emergency referral without a reason:\n%s", bottest.Dump(refused))
		}
		if notMod := h.Submit("bob", flows.FormEmergency, caseID, map[string]string{"partner": partner, "reason": "worried"}); !bottest.Contains(notMod, "Only moderators") {
			t.Fatal("a volunteer made an emergency referral")
		}
		sent = h.Submit("maya", flows.FormEmergency, caseID, map[string]string{"partner": partner, "reason": "She said tonight; no answer by phone."})
		if !bottest.Contains(bottest.To(sent, "#partners"), "emergency override") || !bottest.Contains(bottest.To(sent, "@alice"), "worried for your safety") {
			t.Fatalf("emergency referral:\n%s", bottest.Dump(sent))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM referrals WHERE basis = 'emergency' AND reason_ct IS NOT NULL AND referred_by IS NOT NULL`); n != 1 {
			t.Fatal("the emergency referral is not recorded with its sealed reason and moderator")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'referral.emergency'`); n != 1 {
			t.Fatal("the emergency referral is not in the audit")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM escalation_events WHERE CAST(note_ct AS TEXT) LIKE '%tonight%'`); n != 0 {
			t.Fatal("the reason is in clear text")
		}
	})
}

// A person who has not joined is still answered, privately, and their case keeps only
// the platform account, the tier and where it was seen.
func TestSignalFromSomeoneNotJoined(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := crisisCast(t, db)
		sent := h.DM("zoe", "I want to die")
		if !bottest.Contains(bottest.To(sent, "@zoe"), "9-8-8") {
			t.Fatalf("zoe was not answered:\n%s", bottest.Dump(sent))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM escalations WHERE member_id IS NULL AND platform_user_id = 'zoe' AND seen_in = 'dialogue'`); n != 1 {
			t.Fatal("no case for zoe")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM members WHERE display_name = 'Zoe'`); n != 0 {
			t.Fatal("a member was created for someone who did not accept the notice")
		}
	})
}
