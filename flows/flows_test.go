package flows_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// private strings the default ask carries; they must reach bob's DM and nowhere else.
var privates = []string{"12 Rue Rachel", "514-555-0199", "front steps"}

// setup is the cast: alice asks, bob and carol are vetted ride volunteers, maya moderates.
func setup(t *testing.T, db *store.DB) *bottest.H {
	h := bottest.New(t, db, "en")
	h.Join("alice")
	h.Join("maya")
	h.Volunteer("bob", "ride, meal", "Rosemont", "any")
	h.Volunteer("carol", "ride", "any", "thu, fri")
	h.Vet("bob")
	h.Vet("carol")
	h.Fake.Take()
	return h
}

func TestHappyPathRideToChemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		sent := h.Ask("alice", nil)
		board := bottest.To(sent, "#board")
		if len(board) != 1 || !bottest.Contains(board, "Ride: Ride to chemotherapy", "Thu 26 Nov, 13:00–16:00", "Rosemont", "Alice", "[I can help]") {
			t.Fatalf("board card:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "@bob"), "matches") || !bottest.Contains(bottest.To(sent, "@carol"), "matches") {
			t.Fatalf("matching volunteers were not told:\n%s", bottest.Dump(sent))
		}
		claim := h.MustButton(board, flows.ActClaim)

		sent = h.Press("bob", claim)
		if !bottest.Contains(bottest.To(sent, "~bob"), "We've asked Alice to confirm") {
			t.Fatalf("bob's thanks:\n%s", bottest.Dump(sent))
		}
		ask := bottest.To(sent, "@alice")
		if !bottest.Contains(ask, "Bob would like to help you", "[Accept Bob and share my details]", "[Accept Bob; I'll share details myself]", "[Not this time]") {
			t.Fatalf("alice's consent gate:\n%s", bottest.Dump(sent))
		}
		if b := bottest.To(sent, "#board"); len(b) != 1 || !b[0].Edit || !bottest.Contains(b, "waiting for confirmation") {
			t.Fatalf("board not edited to pending:\n%s", bottest.Dump(sent))
		}

		sent = h.Press("carol", claim)
		if !bottest.Contains(bottest.To(sent, "~carol"), "Someone else is already helping") || len(sent) != 1 {
			t.Fatalf("carol should be thanked and told it's taken:\n%s", bottest.Dump(sent))
		}

		sent = h.Press("alice", h.MustButton(ask, flows.ActAcceptShare))
		bob := bottest.To(sent, "@bob")
		if !bottest.Contains(bob, "Alice accepted your help", "Address: 12 Rue Rachel Est, apt 3", "Phone: 514-555-0199", "[Mark as done]") {
			t.Fatalf("bob did not get the details:\n%s", bottest.Dump(sent))
		}
		for _, s := range sent {
			if bottest.Where(s) != "@bob" && bottest.Contains([]bottest.Sent{s}, "12 Rue Rachel") {
				t.Fatalf("address reached %s", bottest.Where(s))
			}
		}
		if !bottest.Contains(bottest.To(sent, "~alice"), "You're matched with Bob", "received your details") {
			t.Fatalf("alice not introduced:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "#board"), "Matched") {
			t.Fatalf("board not matched:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures WHERE basis = 'consent' AND fields = 'address,phone,notes'`); n != 1 {
			t.Fatalf("disclosures = %d, want 1", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM consents WHERE purpose = ? AND scope_request_id IS NOT NULL AND scope_member_id IS NOT NULL`, store.PurposeShareDetails); n != 1 {
			t.Fatalf("scoped share consents = %d, want 1", n)
		}

		sent = h.Press("bob", h.MustButton(bob, flows.ActDone))
		if !bottest.Contains(bottest.To(sent, "@alice"), "Bob marked") || !bottest.Contains(bottest.To(sent, "#board"), "Done. Thank you!") {
			t.Fatalf("done:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE status = 'done'`); n != 1 {
			t.Fatalf("done requests = %d", n)
		}
		// A second press changes nothing and says so kindly.
		sent = h.Press("bob", h.MustButton(bob, flows.ActDone))
		if !bottest.Contains(sent, "already marked as done") || len(sent) != 1 {
			t.Fatalf("second done:\n%s", bottest.Dump(sent))
		}
	})
}

func TestChangesOfPlans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		board := bottest.To(h.Ask("alice", map[string]string{"show_name": "anonymous"}), "#board")
		if bottest.Contains(board, "Alice") || !bottest.Contains(board, "a neighbour") {
			t.Fatalf("anonymous request shows a name:\n%s", bottest.Dump(board))
		}
		claim := h.MustButton(board, flows.ActClaim)

		// Decline: the slot reopens quietly and bob is thanked.
		ask := bottest.To(h.Press("bob", claim), "@alice")
		sent := h.Press("alice", h.MustButton(ask, flows.ActDecline))
		if !bottest.Contains(bottest.To(sent, "@bob"), "arranged another way") || !bottest.Contains(bottest.To(sent, "#board"), "[I can help]") {
			t.Fatalf("decline:\n%s", bottest.Dump(sent))
		}
		if len(bottest.To(sent, "@carol")) != 0 {
			t.Fatalf("a decline should be quiet:\n%s", bottest.Dump(sent))
		}

		// Carol claims, is accepted without sharing, then withdraws.
		ask = bottest.To(h.Press("carol", claim), "@alice")
		sent = h.Press("alice", h.MustButton(ask, flows.ActAcceptOnly))
		carol := bottest.To(sent, "@carol")
		if bottest.Contains(carol, "12 Rue Rachel") || !bottest.Contains(carol, "will share any details with you directly") {
			t.Fatalf("accept without sharing revealed details:\n%s", bottest.Dump(sent))
		}
		if bottest.Contains(bottest.To(sent, "#board"), "Carol") {
			t.Fatalf("board names the helper of an anonymous request")
		}
		sent = h.Press("carol", h.MustButton(carol, flows.ActWithdraw))
		if !bottest.Contains(bottest.To(sent, "@alice"), "Carol can no longer help") ||
			!bottest.Contains(bottest.To(sent, "#board"), "open again", "[I can help]") ||
			!bottest.Contains(bottest.To(sent, "@bob"), "matches") {
			t.Fatalf("withdraw:\n%s", bottest.Dump(sent))
		}

		// Bob claims again; alice cancels; bob is told; later presses are refused kindly.
		ask = bottest.To(h.Press("bob", claim), "@alice")
		sent = h.Press("alice", h.MustButton(h.Command("alice", "mine"), flows.ActCancel))
		if !bottest.Contains(bottest.To(sent, "@bob"), "no longer needed") || !bottest.Contains(bottest.To(sent, "#board"), "No longer needed") {
			t.Fatalf("cancel:\n%s", bottest.Dump(sent))
		}
		if sent := h.Press("carol", claim); !bottest.Contains(sent, "no longer open") {
			t.Fatalf("claim on cancelled:\n%s", bottest.Dump(sent))
		}
		if sent := h.Press("alice", h.MustButton(ask, flows.ActAcceptShare)); !bottest.Contains(sent, "no longer open") {
			t.Fatalf("accept on cancelled:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures`); n != 0 {
			t.Fatalf("disclosures = %d, want 0", n)
		}
		if n := storetest.Count(t, db, `SELECT COALESCE(SUM(taken), 0) FROM slots`); n != 0 {
			t.Fatalf("slots still taken: %d", n)
		}
	})
}

func TestPermissionsAndTiers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		h.Volunteer("dave", "ride, meal", "any", "any") // not vetted
		h.Join("erin")                                  // not a volunteer
		h.Fake.Take()
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)

		cases := []struct {
			who, want string
		}{
			{"dave", "needs a vetted volunteer"},
			{"erin", "sign up as a volunteer"},
			{"alice", "your own request"},
			{"zoe", "Nothing about you is kept until you accept"}, // not a member: privacy notice
		}
		for _, c := range cases {
			if sent := h.Press(c.who, claim); !bottest.Contains(sent, c.want) {
				t.Errorf("%s pressing claim: want %q in\n%s", c.who, c.want, bottest.Dump(sent))
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims`); n != 0 {
			t.Fatalf("refused claims wrote %d rows", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE platform_user_id = 'zoe'`); n != 0 {
			t.Fatal("a non-member's platform id was stored before they accepted")
		}

		// Someone else pressing alice's accept button.
		ask := bottest.To(h.Press("bob", claim), "@alice")
		accept := h.MustButton(ask, flows.ActAcceptShare)
		if sent := h.Press("carol", accept); !bottest.Contains(sent, "Only the person who asked") {
			t.Fatalf("carol pressing alice's accept:\n%s", bottest.Dump(sent))
		}
		if sent := h.Press("bob", accept); !bottest.Contains(sent, "Only the person who asked") {
			t.Fatalf("bob accepting himself:\n%s", bottest.Dump(sent))
		}
		h.Press("alice", accept)
		if sent := h.Press("alice", accept); !bottest.Contains(sent, "already accepted") {
			t.Fatalf("second accept:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures`); n != 1 {
			t.Fatalf("disclosures = %d after a double accept, want 1", n)
		}
		// Forged and unknown buttons.
		for _, p := range []string{"999999", "abc", "", "-1"} {
			if sent := h.PressAction("bob", flows.ActDone, p); !bottest.Contains(sent, "no longer exists") {
				t.Errorf("done %q:\n%s", p, bottest.Dump(sent))
			}
		}
		if sent := h.PressAction("bob", "explode", "1"); !bottest.Contains(sent, "doesn't do anything") {
			t.Errorf("unknown action:\n%s", bottest.Dump(sent))
		}
		// Moderator-only command.
		if sent := h.Command("bob", "vet", "dave"); !bottest.Contains(sent, "Only moderators") {
			t.Errorf("bob vetting:\n%s", bottest.Dump(sent))
		}
	})
}

func TestBadAskInputChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		cases := []struct {
			name   string
			values map[string]string
			want   string
		}{
			{"empty summary", map[string]string{"summary": "  "}, "This one is needed"},
			{"long summary", map[string]string{"summary": strings.Repeat("a", flows.MaxSummary+1)}, "140 characters"},
			{"unknown category", map[string]string{"category": "limousine"}, "isn't one of this community's kinds of help"},
			{"past date", map[string]string{"when": "2026-11-20 10:00"}, "already passed"},
			{"earlier today", map[string]string{"when": "today 8:00"}, "already passed"},
			{"end before start", map[string]string{"when": "thursday 14:00", "until": "13:00"}, "end must come after the start"},
			{"nonsense date", map[string]string{"when": "whenever"}, "couldn't read that date"},
			{"impossible date", map[string]string{"when": "2026-02-30 10:00"}, "couldn't read that date"},
			{"far future", map[string]string{"when": "2028-01-01 10:00"}, "more than a year away"},
			{"bad choice", map[string]string{"may_share": "perhaps"}, "pick one of the options"},
			{"long address", map[string]string{"address": strings.Repeat("x", flows.MaxAddress+1)}, "200 characters"},
			{"two-line summary", map[string]string{"summary": "one\ntwo"}, "one line"},
		}
		for _, c := range cases {
			sent := h.Ask("alice", c.values)
			if !bottest.Contains(sent, c.want) {
				t.Errorf("%s: want %q in\n%s", c.name, c.want, bottest.Dump(sent))
			}
			if len(bottest.To(sent, "#board")) != 0 {
				t.Errorf("%s: something reached the board", c.name)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests`); n != 0 {
			t.Fatalf("bad input created %d requests", n)
		}
	})
}

func TestOfferWithPlaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		h.Join("erin")
		h.Join("frank")
		h.Fake.Take()
		sent := h.Submit("carol", flows.FormOffer, "", map[string]string{"category": "grief_circle", "summary": "Grief circle at the library",
			"when": "thursday 19:00", "until": "20:30", "area": "Rosemont", "capacity": "2"})
		board := bottest.To(sent, "#board")
		if !bottest.Contains(board, "Grief circle at the library", "0 of 2 taken", "[Join]") {
			t.Fatalf("offer card:\n%s", bottest.Dump(sent))
		}
		join := h.MustButton(board, flows.ActJoin)
		if sent := h.Press("carol", join); !bottest.Contains(sent, "your own offer") {
			t.Fatalf("carol joining her own offer:\n%s", bottest.Dump(sent))
		}
		// Pressing Join opens the join form; submitting takes a place.
		if sent := h.Press("alice", join); !bottest.Contains(sent, "(1/2)") {
			t.Fatalf("join form not opened:\n%s", bottest.Dump(sent))
		}
		h.DM("alice", "cancel")
		sent = h.Submit("alice", flows.FormJoin, join.Payload, map[string]string{"notes": "I use a wheelchair; 12 Rue Rachel Est", "share": "yes"})
		if !bottest.Contains(bottest.To(sent, "@carol"), "Alice joined", "Notes: I use a wheelchair") || !bottest.Contains(bottest.To(sent, "#board"), "1 of 2 taken") {
			t.Fatalf("alice joining:\n%s", bottest.Dump(sent))
		}
		if bottest.Contains(bottest.To(sent, "#board"), "wheelchair") {
			t.Fatal("a joiner's note reached the board")
		}
		sent = h.Submit("erin", flows.FormJoin, join.Payload, map[string]string{"share": "no"})
		if !bottest.Contains(bottest.To(sent, "#board"), "All places are taken") || bottest.Contains(bottest.To(sent, "#board"), "[Join]") {
			t.Fatalf("full offer:\n%s", bottest.Dump(sent))
		}
		if sent := h.Submit("frank", flows.FormJoin, join.Payload, map[string]string{}); !bottest.Contains(sent, "All places are already taken") {
			t.Fatalf("frank on a full offer:\n%s", bottest.Dump(sent))
		}
		leave := h.MustButton(h.Command("erin", "mine"), flows.ActLeave)
		sent = h.Press("erin", leave)
		if !bottest.Contains(bottest.To(sent, "@carol"), "Erin can no longer come") || !bottest.Contains(bottest.To(sent, "#board"), "1 of 2 taken", "[Join]") {
			t.Fatalf("leave:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures WHERE claim_id IS NOT NULL`); n != 1 {
			t.Fatalf("join disclosures = %d, want 1", n)
		}
	})
}

func TestAskThroughTheDialogue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		sent := h.Command("alice", "ask")
		if !bottest.Contains(bottest.To(sent, "~alice"), "private message") || !bottest.Contains(bottest.To(sent, "@alice"), "(1/11)", "1) Ride") {
			t.Fatalf("dialogue start:\n%s", bottest.Dump(sent))
		}
		steps := []struct{ answer, want string }{
			{"9", "Please answer with a number from 1 to 7"},
			{"1", "(2/11)"},
			{"last monday", "(3/11)"}, // the flow checks dates when the form is complete
			{"skip", "(4/11)"},
			{"Rosemont", "(5/11)"},
			{"Ride to my radiotherapy", "(6/11)"},
			{"12 Rue Rachel Est", "(7/11)"},
			{"skip", "(8/11)"},
			{"skip", "(9/11)"},
			{"2", "(10/11)"},
			{"yes", "(11/11)"},
			{"skip", "(2/11)"}, // the flow refused "last monday": asked again with the reason
			{"friday 10:00", "Your request is on the board"},
		}
		for i, s := range steps {
			sent := h.DM("alice", s.answer)
			if !bottest.Contains(sent, s.want) {
				t.Fatalf("step %d %q: want %q in\n%s", i, s.answer, s.want, bottest.Dump(sent))
			}
			if s.answer == "skip" && i == 11 && !bottest.Contains(sent, "couldn't read that date") {
				t.Fatalf("refused field asked again without the reason:\n%s", bottest.Dump(sent))
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE show_name = ? AND may_share = ?`, true, true); n != 1 {
			t.Fatalf("requests from the dialogue = %d", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues`); n != 0 {
			t.Fatalf("dialogue left behind")
		}
		// Cancelling midway keeps nothing.
		h.Command("alice", "ask")
		h.DM("alice", "2")
		if sent := h.DM("alice", "cancel"); !bottest.Contains(sent, "Nothing you typed") {
			t.Fatalf("cancel:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues`); n != 0 {
			t.Fatal("cancelled dialogue kept")
		}
		if sent := h.DM("alice", "hello?"); !bottest.Contains(sent, "not waiting for an answer") {
			t.Fatalf("stray DM:\n%s", bottest.Dump(sent))
		}
	})
}

func TestFrenchCommunity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "fr")
		sent := h.Command("alice", "aide")
		if !bottest.Contains(sent, "[J'accepte]") && !bottest.Contains(sent, "accepte") {
			t.Fatalf("French notice:\n%s", bottest.Dump(sent))
		}
		h.Join("alice")
		sent = h.Ask("alice", map[string]string{"when": "jeudi 13h", "until": "16h"})
		if !bottest.Contains(bottest.To(sent, "#board"), "jeu. 26 nov.", "13 h 00") {
			t.Fatalf("French board card:\n%s", bottest.Dump(sent))
		}
	})
}

func TestUserTextCannotPing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		sent := h.Ask("alice", map[string]string{"summary": "@everyone <!here> <@&123> help", "area": "@here"})
		for _, s := range sent {
			txt := s.Text()
			for _, bad := range []string{"@everyone", "@here", "<!here>", "<@&123>"} {
				if strings.Contains(txt, bad) {
					t.Fatalf("%s got a live %q:\n%s", bottest.Where(s), bad, txt)
				}
			}
		}
	})
}

func TestMineListsWhatIsOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		h.Press("bob", claim)
		if sent := h.Command("alice", "mine"); !bottest.Contains(sent, "Open requests: 1") || !bottest.Contains(sent, "[Cancel my request]") {
			t.Fatalf("alice's mine:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("bob", "mine"); !bottest.Contains(sent, "waiting for confirmation", "[I can no longer help]") {
			t.Fatalf("bob's mine:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("bob", "volunteer", "pause"); !bottest.Contains(sent, "Paused") {
			t.Fatalf("pause:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("bob", "volunteer", "pause"); !bottest.Contains(sent, "already paused") {
			t.Fatalf("pause twice:\n%s", bottest.Dump(sent))
		}
		// A paused volunteer is not told about new requests.
		if sent := h.Ask("alice", map[string]string{"summary": "Second ride"}); len(bottest.To(sent, "@bob")) != 0 {
			t.Fatalf("paused bob was notified:\n%s", bottest.Dump(sent))
		}
		_ = context.Background()
	})
}

// A button carrying another community's slot claims nothing there.
func TestClaimStaysInItsCommunity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		ctx := context.Background()
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			other, err := tx.ApplyCommunity(ctx, store.CommunitySetup{
				Community:  store.Community{Slug: "elsewhere", Name: "Elsewhere", Locale: "en", Timezone: "UTC", RetentionDays: 30},
				Categories: []store.Category{{Key: "ride", Tier: "member"}},
				Bindings:   []store.Binding{{Platform: bottest.Platform, Workspace: "ws2", BoardChannel: "b", ModeratorsChannel: "m"}},
			})
			if err != nil {
				return err
			}
			_, _, err = tx.CreateMember(ctx, other, bottest.Platform, "mallory", "Mallory", "", flows.NoticeVersion, store.Evidence{Surface: "test"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		reply, err := h.App.Handle(ctx, bot.Event{ID: "x1", Platform: bottest.Platform, Workspace: "ws2", UserID: "mallory",
			Kind: bot.EventButton, ChannelID: "b", Action: claim.Action, Payload: claim.Payload})
		if err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims`); n != 0 {
			t.Fatalf("a member of another community claimed: %+v", reply)
		}
	})
}
