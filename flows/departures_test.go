package flows_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// departureCast: alice's ride has bob accepted; bob asked for a meal that carol holds
// (accepted); bob offers soup that erin joined, and took a place in carol's grief circle.
// Then bob leaves.
func departureCast(t *testing.T, db *store.DB) (h *bottest.H, ride, meal int64) {
	t.Helper()
	h = setup(t, db)
	h.Join("erin")
	gate := bottest.To(h.Press("bob", h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)), "@alice")
	h.Press("alice", h.MustButton(gate, flows.ActAcceptShare))
	ride = lastRequest(t, db)
	gate = bottest.To(h.Press("carol", h.MustButton(bottest.To(h.Ask("bob", map[string]string{"category": "meal", "summary": "Soup for my father",
		"when": "friday 12:00", "until": "13:00"}), "#board"), flows.ActClaim)), "@bob")
	h.Press("bob", h.MustButton(gate, flows.ActAcceptOnly))
	meal = lastRequest(t, db)
	join := h.MustButton(bottest.To(h.Submit("bob", flows.FormOffer, "", map[string]string{"category": "meal",
		"summary": "Lentil soup", "when": "thursday 18:00", "area": "Rosemont", "capacity": "3"}), "#board"), flows.ActJoin)
	h.Submit("erin", flows.FormJoin, join.Payload, map[string]string{"share": "no"})
	circle := h.MustButton(bottest.To(h.Submit("carol", flows.FormOffer, "", map[string]string{"category": "grief_circle",
		"summary": "Grief circle", "when": "thursday 19:00", "area": "Rosemont", "capacity": "8"}), "#board"), flows.ActJoin)
	h.Submit("bob", flows.FormJoin, circle.Payload, map[string]string{"share": "no"})
	// A half-answered form of bob's, to be dropped.
	h.Command("bob", "ask")
	h.Fake.Take()
	if n := storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues WHERE user_id = 'bob'`); n != 1 {
		t.Fatalf("bob's open dialogue: %d rows", n)
	}
	return h, ride, meal
}

func TestMemberLeftHandsClaimsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, ride, meal := departureCast(t, db)
		audits := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log`)

		sent := h.Leave("bob")
		for _, s := range sent {
			if w := bottest.Where(s); w == "@bob" || w == "~bob" {
				t.Fatalf("bob is gone, yet was sent:\n%s", bottest.Dump(sent))
			}
		}
		// His claim: the slot reopens, alice is told kindly, the board card and matching
		// volunteers too.
		if !bottest.Contains(bottest.To(sent, "@alice"), "Bob can no longer help with “Ride to chemotherapy") {
			t.Fatalf("alice was not told:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "#board"), "Ride to chemotherapy", "open again", "[I can help]") {
			t.Fatalf("the ride's card did not reopen:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "@carol"), "A request that matches", "Ride to chemotherapy") {
			t.Fatalf("matching volunteers were not told:\n%s", bottest.Dump(sent))
		}
		if r := request(t, db, ride); r.Status != "open" || r.PausedAt.Valid {
			t.Fatalf("ride is %s (paused %v), want open", r.Status, r.PausedAt.Valid)
		}
		if n := storetest.Count(t, db, `SELECT taken FROM slots WHERE request_id = ?`, ride); n != 0 {
			t.Fatalf("ride's slot holds %d, want 0", n)
		}
		// His request: paused, no claim button, carol told not to go ahead.
		var mealCard []bottest.Sent
		for _, s := range bottest.To(sent, "#board") {
			if bottest.Contains([]bottest.Sent{s}, "Soup for my father") {
				mealCard = append(mealCard, s)
			}
		}
		if len(mealCard) != 1 || !mealCard[0].Edit || !bottest.Contains(mealCard, "Paused for now") {
			t.Fatalf("the meal's card is not paused:\n%s", bottest.Dump(sent))
		}
		if _, ok := mealCard[0].Button(flows.ActClaim); ok {
			t.Fatalf("a paused request shows a claim button:\n%s", bottest.Dump(mealCard))
		}
		if !bottest.Contains(bottest.To(sent, "@carol"), "“Soup for my father” is paused for now", "[I can no longer help]") {
			t.Fatalf("carol was not told of the pause:\n%s", bottest.Dump(sent))
		}
		if r := request(t, db, meal); r.Status != "matched" || !r.PausedAt.Valid {
			t.Fatalf("meal is %s (paused %v), want matched and paused", r.Status, r.PausedAt.Valid)
		}
		// His place in carol's circle: given back, carol told.
		if !bottest.Contains(bottest.To(sent, "@carol"), "Bob can no longer come to “Grief circle”") || !bottest.Contains(bottest.To(sent, "#board"), "Grief circle", "0 of 8 taken") {
			t.Fatalf("bob's place in the circle was not given back:\n%s", bottest.Dump(sent))
		}
		// His offer: closed, erin told.
		if !bottest.Contains(bottest.To(sent, "@erin"), "“Lentil soup” has been called off") || !bottest.Contains(bottest.To(sent, "#board"), "This offer was withdrawn") {
			t.Fatalf("the offer was not closed:\n%s", bottest.Dump(sent))
		}
		// The moderators.
		mods := bottest.To(sent, "#mods")
		if len(mods) != 1 || !bottest.Contains(mods, "Bob is no longer in the space", "Places handed back: 2", "Offers closed: 1",
			"Requests paused: 1", "Their volunteering is paused", "#"+strconv.FormatInt(meal, 10)+" Meal: Soup for my father",
			"[Resume #"+strconv.FormatInt(meal, 10)+"]", "[Cancel #"+strconv.FormatInt(meal, 10)+"]") {
			t.Fatalf("moderators' card:\n%s", bottest.Dump(sent))
		}
		bob := memberID(t, db, "bob")
		for _, c := range []struct {
			q    string
			arg  any
			want int
		}{
			{`SELECT COUNT(*) FROM dialogues WHERE user_id = ?`, "bob", 0},
			{`SELECT COUNT(*) FROM volunteer_profiles WHERE paused AND member_id = ?`, bob, 1},
			{`SELECT COUNT(*) FROM audit_log WHERE action = 'member.left' AND actor_member_id IS NULL AND subject = ?`, "member:" + strconv.FormatInt(bob, 10), 1},
			{`SELECT COUNT(*) FROM departures WHERE member_id = ? AND claims = 2 AND offers = 1 AND requests = 1`, bob, 1},
		} {
			if n := storetest.Count(t, db, c.q, c.arg); n != c.want {
				t.Errorf("%s = %d, want %d", c.q, n, c.want)
			}
		}

		// The same event again, and another leave event: nothing more.
		after := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log`)
		if after <= audits {
			t.Fatal("the departure wrote no audit row")
		}
		ev := bot.Event{ID: "leave-bob", Platform: bottest.Platform, Workspace: bottest.Workspace, UserID: "bob", Kind: bot.EventMemberLeft}
		for i := 0; i < 2; i++ {
			if err := h.Deliver(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		if sent := h.Fake.Take(); len(sent) != 0 {
			t.Fatalf("a second leave event said:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log`); n != after {
			t.Fatalf("a second leave event wrote %d audit rows", n-after)
		}

		// While paused: no new claim, no reminder.
		h.Volunteer("dan", "meal", "any", "any")
		slot := strconv.Itoa(storetest.Count(t, db, `SELECT id FROM slots WHERE request_id = ?`, meal))
		if sent := h.PressAction("dan", flows.ActClaim, slot); !bottest.Contains(sent, "This request is paused") {
			t.Fatalf("a claim on a paused request:\n%s", bottest.Dump(sent))
		}
		carolClaim := int64(storetest.Count(t, db, `SELECT c.id FROM claims c JOIN slots s ON s.id = c.slot_id WHERE s.request_id = ? AND c.state = 'accepted'`, meal))
		if res, err := h.App.Flows().Remind(context.Background(), carolClaim); err != nil || len(res.Outs) != 0 {
			t.Fatalf("a reminder for a paused request: %v %+v", err, res.Outs)
		}
		h.Fake.Take()

		// bob comes back: told, nothing restored.
		sent = h.Command("bob", "mine")
		if !bottest.Contains(bottest.To(sent, "~bob"), "Welcome back", "we paused your request", "volunteering was paused too") {
			t.Fatalf("bob was not told on his return:\n%s", bottest.Dump(sent))
		}
		resume := h.MustButton(bottest.To(sent, "~bob"), flows.ActResume)
		if !bottest.Contains(bottest.To(sent, "~bob"), "Paused while you were away", "[Resume my request]") {
			t.Fatalf("bob's list:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "#mods"), "Bob left the space, and is back") {
			t.Fatalf("the moderators' card was not updated:\n%s", bottest.Dump(sent))
		}
		if r := request(t, db, meal); !r.PausedAt.Valid {
			t.Fatal("the meal was resumed silently")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE platform_user_id = 'bob' AND left_at IS NULL`); n != 1 {
			t.Fatal("bob's account is still marked as gone")
		}
		if sent := h.Command("bob", "mine"); bottest.Contains(sent, "Welcome back") {
			t.Fatalf("told twice:\n%s", bottest.Dump(sent))
		}
		if sent := h.PressAction("alice", flows.ActResume, resume.Payload); !bottest.Contains(sent, "Only the person who asked") {
			t.Fatalf("alice resuming bob's request:\n%s", bottest.Dump(sent))
		}

		sent = h.Press("bob", resume)
		if !bottest.Contains(bottest.To(sent, "~bob"), "is back on") || !bottest.Contains(bottest.To(sent, "@carol"), "is back on", "your place is still yours") {
			t.Fatalf("resume:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "#board"), "Soup for my father", "Matched") {
			t.Fatalf("the meal's card did not come back:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "#mods"), "None of their requests is paused") {
			t.Fatalf("the moderators' card:\n%s", bottest.Dump(sent))
		}
		if r := request(t, db, meal); r.PausedAt.Valid || r.Status != "matched" {
			t.Fatalf("meal after resume: %s, paused %v", r.Status, r.PausedAt.Valid)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'request.resumed' AND detail = 'by=requester'`); n != 1 {
			t.Fatalf("resume audit rows: %d", n)
		}
		if sent := h.Press("bob", resume); !bottest.Contains(sent, "isn't paused") {
			t.Fatalf("a second resume:\n%s", bottest.Dump(sent))
		}
	})
}

func TestModeratorResumesOrCancelsAPausedRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		h.Ask("alice", map[string]string{"category": "meal", "summary": "Soup"})
		soup := lastRequest(t, db)
		h.Press("bob", h.MustButton(bottest.To(h.Ask("alice", map[string]string{"category": "meal", "summary": "Groceries run"}), "#board"), flows.ActClaim))
		groceries := lastRequest(t, db)
		h.Fake.Take()

		sent := h.Leave("alice")
		mods := bottest.To(sent, "#mods")
		if !bottest.Contains(mods, "Alice is no longer in the space", "Places handed back: 0", "Requests paused: 2") {
			t.Fatalf("moderators' card:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "@bob"), "“Groceries run” is paused for now") {
			t.Fatalf("bob, waiting for alice's answer, was not told:\n%s", bottest.Dump(sent))
		}
		var resume, cancel bot.RenderedButton
		for _, b := range mods[0].Msg.Buttons {
			switch {
			case b.Action == flows.ActResume && b.Payload == strconv.FormatInt(soup, 10):
				resume = b
			case b.Action == flows.ActModCancel && b.Payload == strconv.FormatInt(groceries, 10):
				cancel = b
			}
		}
		if resume.Action == "" || cancel.Action == "" {
			t.Fatalf("no resume or cancel button:\n%s", bottest.Dump(mods))
		}
		if sent := h.Press("carol", cancel); !bottest.Contains(sent, "moderators") {
			t.Fatalf("carol cancelling:\n%s", bottest.Dump(sent))
		}
		if sent := h.Press("carol", resume); !bottest.Contains(sent, "Only the person who asked, or a moderator") {
			t.Fatalf("carol resuming:\n%s", bottest.Dump(sent))
		}

		sent = h.Press("maya", cancel)
		if !bottest.Contains(bottest.To(sent, "~maya"), "is cancelled") || !bottest.Contains(bottest.To(sent, "@bob"), "“Groceries run” is no longer needed") ||
			!bottest.Contains(bottest.To(sent, "#board"), "Groceries run", "No longer needed") {
			t.Fatalf("moderator's cancel:\n%s", bottest.Dump(sent))
		}
		// alice is gone: no direct message is tried (it would turn into a board notice
		// naming her).
		if a := bottest.To(sent, "@alice"); len(a) != 0 {
			t.Fatalf("a direct message to alice, who left:\n%s", bottest.Dump(a))
		}
		if m := bottest.To(sent, "#mods"); len(m) != 1 || !m[0].Edit || bottest.Contains(m, "Groceries run") || !bottest.Contains(m, "Soup") {
			t.Fatalf("the departure card was not updated:\n%s", bottest.Dump(sent))
		}
		// alice comes back; her request is still paused until maya resumes it, and now
		// she is told.
		if sent := h.Command("alice", "help"); !bottest.Contains(sent, "Welcome back") {
			t.Fatalf("alice's return:\n%s", bottest.Dump(sent))
		}
		sent = h.Press("maya", resume)
		if !bottest.Contains(bottest.To(sent, "#board"), "Meal: Soup", "[I can help]") || !bottest.Contains(bottest.To(sent, "@alice"), "A moderator has started “Soup” again") {
			t.Fatalf("moderator's resume:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "#mods"), "None of their requests is paused") {
			t.Fatalf("the departure card:\n%s", bottest.Dump(sent))
		}
		for action, detail := range map[string]string{"request.resumed": "by=moderator", "request.cancelled": "by=moderator"} {
			if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND detail = ? AND actor_member_id = ?`, action, detail, memberID(t, db, "maya")); n != 1 {
				t.Errorf("%s audit rows by maya: %d", action, n)
			}
		}
	})
}

func TestLinkedAccountStillPresentBlocksTheDeparture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		h.Press("bob", h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim))
		claim := lastClaim(t, db)
		bob := memberID(t, db, "bob")
		// bob's second account, as linking two accounts makes it.
		if _, err := db.X.Exec(db.X.Rebind(`INSERT INTO identities (community_id, platform, platform_user_id, member_id, created_at) VALUES (?, ?, ?, ?, ?)`),
			h.Community, bottest.Platform, "bob-phone", bob, h.Now.Unix()); err != nil {
			t.Fatal(err)
		}
		h.Fake.Take()

		if sent := h.Leave("bob"); len(sent) != 0 {
			t.Fatalf("bob's other account is still here, yet:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE id = ? AND state = 'offered'`, claim); n != 1 {
			t.Fatal("bob's claim was handed back while he is still here")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'identity.left'`); n != 1 {
			t.Fatalf("identity.left audit rows: %d", n)
		}
		sent := h.Leave("bob-phone")
		if !bottest.Contains(bottest.To(sent, "@alice"), "Bob can no longer help") || !bottest.Contains(bottest.To(sent, "#mods"), "Bob is no longer in the space") {
			t.Fatalf("the last account leaving:\n%s", bottest.Dump(sent))
		}
		// Someone never seen leaves: nothing.
		if sent := h.Leave("stranger"); len(sent) != 0 {
			t.Fatalf("a stranger leaving:\n%s", bottest.Dump(sent))
		}
	})
}
