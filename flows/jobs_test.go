package flows_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

var bg = context.Background()

func memberID(t *testing.T, db *store.DB, user string) int64 {
	t.Helper()
	return int64(storetest.Count(t, db, `SELECT member_id FROM identities WHERE platform = ? AND platform_user_id = ?`, bottest.Platform, user))
}

func actor(t *testing.T, h *bottest.H, user string) flows.Actor {
	t.Helper()
	return flows.Actor{CommunityID: h.Community, MemberID: memberID(t, h.DB, user), Platform: bottest.Platform,
		UserID: user, Name: strings.ToUpper(user[:1]) + user[1:], Locale: "en", EventID: "test-" + user, Surface: "test"}
}

func lastRequest(t *testing.T, db *store.DB) int64 {
	t.Helper()
	return int64(storetest.Count(t, db, `SELECT COALESCE(MAX(id), 0) FROM requests`))
}

func lastClaim(t *testing.T, db *store.DB) int64 {
	t.Helper()
	return int64(storetest.Count(t, db, `SELECT COALESCE(MAX(id), 0) FROM claims`))
}

func request(t *testing.T, db *store.DB, id int64) store.Request {
	t.Helper()
	var r store.Request
	if err := db.InTx(bg, func(tx *store.Tx) error {
		var err error
		r, err = tx.Request(bg, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

// render localises a Text in English the way the bot does, for assertions.
func render(h *bottest.H, t ui.Text) string {
	if t.Raw != "" {
		return t.Raw
	}
	args := map[string]any{}
	for k, v := range t.Args {
		switch x := v.(type) {
		case ui.Text:
			args[k] = render(h, x)
		case ui.UserText:
			args[k] = string(x)
		case ui.Window:
			args[k] = "(window)"
		default:
			args[k] = v
		}
	}
	if !h.Catalog.Has("en", t.ID) && t.Fallback != "" {
		return t.Fallback
	}
	return h.Catalog.Localize("en", t.ID, args)
}

func cardText(h *bottest.H, c ui.Card) string {
	parts := []string{render(h, c.Title)}
	for _, b := range c.Body {
		parts = append(parts, render(h, b))
	}
	for _, f := range c.Fields {
		parts = append(parts, render(h, f.Label)+": "+render(h, f.Value))
	}
	for _, b := range c.Buttons {
		parts = append(parts, "["+render(h, b.Label)+"]")
	}
	return strings.Join(parts, "\n")
}

func outsTo(outs []ui.Out, to ui.Target) []ui.Out {
	var out []ui.Out
	for _, o := range outs {
		if o.To == to {
			out = append(out, o)
		}
	}
	return out
}

// must fails the test on an error, and when a job's result answers an actor (a job has
// none). Use as must(t)(h.App.Flows().Nudge(ctx, id)).
func must(t *testing.T) func(flows.Result, error) flows.Result {
	t.Helper()
	return func(res flows.Result, err error) flows.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
}

// jobOuts checks that a job's result speaks to members, the board or the moderators only.
func jobOuts(t *testing.T) func(flows.Result, error) flows.Result {
	t.Helper()
	return func(res flows.Result, err error) flows.Result {
		t.Helper()
		res = must(t)(res, err)
		for _, o := range res.Outs {
			if o.To.Kind == ui.ToActor {
				t.Fatalf("a job answered an actor: %+v", o)
			}
		}
		return res
	}
}

func jobsOf(res flows.Result, kind string) []flows.Job {
	var out []flows.Job
	for _, j := range res.Jobs {
		if j.Kind == kind {
			out = append(out, j)
		}
	}
	return out
}

// matched asks with values, has bob claim and alice accept with sharing; it returns the
// request and bob's claim.
func matched(t *testing.T, h *bottest.H, values map[string]string) (int64, int64) {
	t.Helper()
	claim := h.MustButton(bottest.To(h.Ask("alice", values), "#board"), flows.ActClaim)
	ask := bottest.To(h.Press("bob", claim), "@alice")
	h.Press("alice", h.MustButton(ask, flows.ActAcceptShare))
	return lastRequest(t, h.DB), lastClaim(t, h.DB)
}

func TestAskSchedulesNudgeEscalateExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		now := h.Now.Unix()
		base := map[string]string{"category": "ride", "area": "Rosemont", "summary": "Ride to chemo", "address": "12 Rue Rachel Est"}
		with := func(kv ...string) map[string]string {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}

		// Days ahead: nudge after 2h, moderators after 6h, expiry at the end.
		res := must(t)(h.App.Flows().Ask(bg, actor(t, h, "alice"), with("when", "thursday 13:00", "until", "16:00")))
		r := request(t, db, lastRequest(t, db))
		want := []flows.Job{
			{Kind: flows.JobNudge, Ref: r.ID, At: now + 2*3600},
			{Kind: flows.JobEscalate, Ref: r.ID, At: now + 6*3600},
			{Kind: flows.JobExpire, Ref: r.ID, At: r.EndsAt},
		}
		if len(res.Jobs) != len(want) {
			t.Fatalf("jobs = %+v, want %+v", res.Jobs, want)
		}
		for i := range want {
			if res.Jobs[i] != want[i] {
				t.Errorf("job %d = %+v, want %+v", i, res.Jobs[i], want[i])
			}
		}

		// An hour ahead: both nudges fit before the start, in order.
		res = must(t)(h.App.Flows().Ask(bg, actor(t, h, "alice"), with("when", "today 11:00", "until", "12:00")))
		r = request(t, db, lastRequest(t, db))
		nudge, esc, exp := jobsOf(res, flows.JobNudge), jobsOf(res, flows.JobEscalate), jobsOf(res, flows.JobExpire)
		if len(nudge) != 1 || len(esc) != 1 || len(exp) != 1 {
			t.Fatalf("jobs for a request in an hour: %+v", res.Jobs)
		}
		if !(now < nudge[0].At && nudge[0].At < esc[0].At && esc[0].At < r.StartsAt && exp[0].At == r.EndsAt) {
			t.Fatalf("times for a request in an hour (now %d, start %d): %+v", now, r.StartsAt, res.Jobs)
		}

		// Invalid input schedules nothing.
		res = must(t)(h.App.Flows().Ask(bg, actor(t, h, "alice"), with("when", "whenever")))
		if len(res.Errors) == 0 || len(res.Jobs) != 0 {
			t.Fatalf("bad input: errors %v, jobs %+v", res.Errors, res.Jobs)
		}
	})
}

func TestNudgeAsksMatchingVolunteersAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		board := bottest.To(h.Ask("alice", nil), "#board")
		id := lastRequest(t, db)
		bob, carol := memberID(t, db, "bob"), memberID(t, db, "carol")
		h.Now = h.Now.Add(2 * time.Hour)

		res := jobOuts(t)(h.App.Flows().Nudge(bg, id))
		if len(res.Outs) != 2 || len(outsTo(res.Outs, ui.Member(bob))) != 1 || len(outsTo(res.Outs, ui.Member(carol))) != 1 {
			t.Fatalf("nudge outs: %+v", res.Outs)
		}
		txt := cardText(h, res.Outs[0].Card)
		if !strings.Contains(txt, "still needs a helper") || !strings.Contains(txt, "[I can help]") {
			t.Fatalf("nudge card:\n%s", txt)
		}
		for _, p := range privates {
			if strings.Contains(txt, p) {
				t.Fatalf("nudge carries %q", p)
			}
		}

		// Claimed: nothing to nudge.
		ask := bottest.To(h.Press("bob", h.MustButton(board, flows.ActClaim)), "@alice")
		if res := jobOuts(t)(h.App.Flows().Nudge(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("nudged a claimed request: %+v", res.Outs)
		}
		// Declined: open again, but bob, who offered, is not asked again.
		h.Press("alice", h.MustButton(ask, flows.ActDecline))
		res = jobOuts(t)(h.App.Flows().Nudge(bg, id))
		if len(res.Outs) != 1 || res.Outs[0].To != ui.Member(carol) {
			t.Fatalf("nudge after a decline: %+v", res.Outs)
		}
		// Started: too late to nudge.
		h.Now = h.Now.Add(4 * 24 * time.Hour)
		if res := jobOuts(t)(h.App.Flows().Nudge(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("nudged a request that has started: %+v", res.Outs)
		}
		if res := jobOuts(t)(h.App.Flows().Nudge(bg, 99999)); len(res.Outs) != 0 {
			t.Fatalf("nudged a request that does not exist: %+v", res.Outs)
		}
	})
}

func TestEscalateShowsModeratorsThePublicPartOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		board := bottest.To(h.Ask("alice", map[string]string{"show_name": "anonymous"}), "#board")
		id := lastRequest(t, db)
		h.Now = h.Now.Add(6 * time.Hour)

		res := jobOuts(t)(h.App.Flows().Escalate(bg, id))
		if len(res.Outs) != 1 || res.Outs[0].To != ui.Moderators(h.Community) {
			t.Fatalf("escalate outs: %+v", res.Outs)
		}
		card := res.Outs[0].Card
		txt := cardText(h, card)
		if !strings.Contains(txt, "No offer of help yet") || !strings.Contains(txt, "Ride to chemotherapy") || !strings.Contains(txt, "a neighbour") || !strings.Contains(txt, "Rosemont") {
			t.Fatalf("escalation card:\n%s", txt)
		}
		for _, p := range append([]string{"Alice"}, privates...) {
			if strings.Contains(txt, p) {
				t.Fatalf("escalation shows %q:\n%s", p, txt)
			}
		}
		if card.Reveal != 0 {
			t.Fatal("escalation reveals private details")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'request.escalated'`); n != 1 {
			t.Fatalf("escalation audit rows = %d", n)
		}

		// Someone offered since: the moderators are not bothered.
		h.Press("bob", h.MustButton(board, flows.ActClaim))
		if res := jobOuts(t)(h.App.Flows().Escalate(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("escalated a claimed request: %+v", res.Outs)
		}
	})
}

func TestExpireClosesAnUnclaimedRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		board := bottest.To(h.Ask("alice", nil), "#board")
		id := lastRequest(t, db)
		h.Press("bob", h.MustButton(board, flows.ActClaim)) // offered, never confirmed
		r := request(t, db, id)

		// Before the end of the window, nothing happens.
		if res := jobOuts(t)(h.App.Flows().Expire(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("expired before the end: %+v", res.Outs)
		}
		h.Now = time.Unix(r.EndsAt, 0)
		res := jobOuts(t)(h.App.Flows().Expire(bg, id))
		if got := request(t, db, id).Status; got != "expired" {
			t.Fatalf("status = %s, want expired", got)
		}
		if n := storetest.Count(t, db, `SELECT COALESCE(SUM(taken), 0) FROM slots WHERE request_id = ?`, id); n != 0 {
			t.Fatalf("slot still taken: %d", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE state = 'cancelled'`); n != 1 {
			t.Fatalf("bob's pending offer was not closed")
		}
		alice, bob := memberID(t, db, "alice"), memberID(t, db, "bob")
		boardOut := outsTo(res.Outs, ui.Board(h.Community))
		if len(boardOut) != 1 || boardOut[0].Key != "request:"+itoa(id) || !strings.Contains(cardText(h, boardOut[0].Card), "expired") {
			t.Fatalf("board card: %+v", boardOut)
		}
		if len(boardOut[0].Card.Buttons) != 0 {
			t.Fatal("an expired card keeps its claim button")
		}
		if a := outsTo(res.Outs, ui.Member(alice)); len(a) != 1 || !strings.Contains(cardText(h, a[0].Card), "ask again") {
			t.Fatalf("alice was not told: %+v", res.Outs)
		}
		if b := outsTo(res.Outs, ui.Member(bob)); len(b) != 1 || !strings.Contains(cardText(h, b[0].Card), "Thank you") {
			t.Fatalf("bob was not thanked: %+v", res.Outs)
		}
		// A second run changes nothing.
		if res := jobOuts(t)(h.App.Flows().Expire(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("expired twice: %+v", res.Outs)
		}
	})
}

func TestExpireLeavesAMatchedRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		id, _ := matched(t, h, nil)
		h.Now = time.Unix(request(t, db, id).EndsAt+60, 0)
		if res := jobOuts(t)(h.App.Flows().Expire(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("expired a matched request: %+v", res.Outs)
		}
		if got := request(t, db, id).Status; got != "matched" {
			t.Fatalf("status = %s, want matched", got)
		}
		if n := storetest.Count(t, db, `SELECT COALESCE(SUM(taken), 0) FROM slots WHERE request_id = ?`, id); n != 1 {
			t.Fatalf("the helper's place was released")
		}
	})
}

func TestRemindBeforeTheSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		h.Press("bob", claim)
		id, claimID := lastRequest(t, db), lastClaim(t, db)
		r := request(t, db, id)

		res := must(t)(h.App.Flows().Accept(bg, actor(t, h, "alice"), claimID, true))
		reminders := jobsOf(res, flows.JobRemind)
		if len(reminders) != 2 || reminders[0] != (flows.Job{Kind: flows.JobRemind, Ref: claimID, At: r.StartsAt - 24*3600}) ||
			reminders[1] != (flows.Job{Kind: flows.JobRemind, Ref: claimID, At: r.StartsAt - 3600}) {
			t.Fatalf("reminders scheduled: %+v", res.Jobs)
		}
		alice, bob := memberID(t, db, "alice"), memberID(t, db, "bob")

		h.Now = time.Unix(r.StartsAt-24*3600, 0)
		res = jobOuts(t)(h.App.Flows().Remind(bg, claimID))
		b, a := outsTo(res.Outs, ui.Member(bob)), outsTo(res.Outs, ui.Member(alice))
		if len(res.Outs) != 2 || len(b) != 1 || len(a) != 1 {
			t.Fatalf("reminder outs: %+v", res.Outs)
		}
		if txt := cardText(h, b[0].Card); !strings.Contains(txt, "tomorrow") || !strings.Contains(txt, "helping Alice") || !strings.Contains(txt, "When: (window)") {
			t.Fatalf("bob's reminder:\n%s", txt)
		}
		if txt := cardText(h, a[0].Card); !strings.Contains(txt, "tomorrow") || !strings.Contains(txt, "Bob is coming") {
			t.Fatalf("alice's reminder:\n%s", txt)
		}
		for _, o := range res.Outs {
			if txt := cardText(h, o.Card); strings.Contains(txt, "12 Rue Rachel") || o.Card.Reveal != 0 {
				t.Fatalf("a reminder carries private details:\n%s", txt)
			}
		}

		h.Now = time.Unix(r.StartsAt-3600, 0)
		res = jobOuts(t)(h.App.Flows().Remind(bg, claimID))
		if len(res.Outs) != 2 || !strings.Contains(cardText(h, res.Outs[0].Card), "soon") {
			t.Fatalf("the hour-before reminder: %+v", res.Outs)
		}

		// Bob steps back: the reminder is skipped; the request is nudged again later.
		res = must(t)(h.App.Flows().Withdraw(bg, actor(t, h, "bob"), claimID))
		if n := jobsOf(res, flows.JobNudge); len(n) != 1 || n[0].At <= h.Now.Unix() || n[0].At >= r.StartsAt {
			t.Fatalf("jobs after a withdrawal: %+v", res.Jobs)
		}
		if len(jobsOf(res, flows.JobExpire)) != 0 {
			t.Fatalf("a withdrawal scheduled a second expiry: %+v", res.Jobs)
		}
		if res := jobOuts(t)(h.App.Flows().Remind(bg, claimID)); len(res.Outs) != 0 {
			t.Fatalf("reminded a withdrawn helper: %+v", res.Outs)
		}
	})
}

func TestFollowUpOnlyWithConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		alice := memberID(t, db, "alice")

		// Without consent: no follow-up scheduled, and none sent if the job ran anyway.
		id, claimID := matched(t, h, map[string]string{"follow_up": "no"})
		res := must(t)(h.App.Flows().Done(bg, actor(t, h, "bob"), claimID))
		if len(res.Jobs) != 0 {
			t.Fatalf("follow-up scheduled without consent: %+v", res.Jobs)
		}
		if res := jobOuts(t)(h.App.Flows().FollowUp(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("followed up without consent: %+v", res.Outs)
		}

		// With consent: scheduled a day later, sent to alice only, with a way to ask again.
		id, claimID = matched(t, h, map[string]string{"follow_up": "yes", "summary": "Second ride"})
		if res := jobOuts(t)(h.App.Flows().FollowUp(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("followed up before it was done: %+v", res.Outs)
		}
		res = must(t)(h.App.Flows().Done(bg, actor(t, h, "bob"), claimID))
		if fu := jobsOf(res, flows.JobFollowUp); len(fu) != 1 || fu[0] != (flows.Job{Kind: flows.JobFollowUp, Ref: id, At: h.Now.Unix() + 24*3600}) {
			t.Fatalf("follow-up scheduled: %+v", res.Jobs)
		}
		h.Now = h.Now.Add(24 * time.Hour)
		res = jobOuts(t)(h.App.Flows().FollowUp(bg, id))
		if len(res.Outs) != 1 || res.Outs[0].To != ui.Member(alice) {
			t.Fatalf("follow-up outs: %+v", res.Outs)
		}
		txt := cardText(h, res.Outs[0].Card)
		if !strings.Contains(txt, "How did it go?") || !strings.Contains(txt, "Second ride") || len(res.Outs[0].Card.Buttons) != 1 || res.Outs[0].Card.Buttons[0].Action != flows.ActAsk {
			t.Fatalf("follow-up card:\n%s", txt)
		}

		// Withdrawn consent: nothing.
		if _, err := db.X.Exec(db.X.Rebind(`UPDATE consents SET withdrawn_at = ? WHERE purpose = ?`), h.Now.Unix(), store.PurposeFollowUp); err != nil {
			t.Fatal(err)
		}
		if res := jobOuts(t)(h.App.Flows().FollowUp(bg, id)); len(res.Outs) != 0 {
			t.Fatalf("followed up after consent was withdrawn: %+v", res.Outs)
		}
	})
}

func TestDigestListsOpenRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		if res := jobOuts(t)(h.App.Flows().Digest(bg, h.Community)); len(res.Outs) != 0 {
			t.Fatalf("a digest with nothing open: %+v", res.Outs)
		}
		h.Ask("alice", map[string]string{"summary": "First ride"})
		claim := h.MustButton(bottest.To(h.Ask("alice", map[string]string{"summary": "Claimed ride"}), "#board"), flows.ActClaim)
		h.Press("bob", claim)
		h.Ask("alice", map[string]string{"summary": "Meal on Friday", "category": "meal", "when": "friday 18:00", "until": "19:00", "show_name": "anonymous"})

		res := jobOuts(t)(h.App.Flows().Digest(bg, h.Community))
		if len(res.Outs) != 1 || res.Outs[0].To != ui.Board(h.Community) {
			t.Fatalf("digest outs: %+v", res.Outs)
		}
		txt := cardText(h, res.Outs[0].Card)
		first, meal := strings.Index(txt, "First ride"), strings.Index(txt, "Meal on Friday")
		if !strings.Contains(txt, "2 requests are still looking") || first < 0 || meal < first || strings.Contains(txt, "Claimed ride") {
			t.Fatalf("digest:\n%s", txt)
		}
		for _, p := range append([]string{"Alice"}, privates...) {
			if strings.Contains(txt, p) {
				t.Fatalf("the digest shows %q:\n%s", p, txt)
			}
		}

		// At most ten, oldest first, with how many more there are.
		for i := 0; i < 10; i++ {
			h.Ask("alice", map[string]string{"summary": "Errand " + itoa(int64(i)), "category": "errand"})
		}
		res = jobOuts(t)(h.App.Flows().Digest(bg, h.Community))
		card := res.Outs[0].Card
		txt = cardText(h, card)
		if !strings.Contains(txt, "12 requests") || !strings.Contains(txt, "and 2 more") || strings.Contains(txt, "Errand 9") || !strings.Contains(txt, "Errand 7") {
			t.Fatalf("a long digest:\n%s", txt)
		}
	})
}

func TestPurgeErasesClosedRequestsAfterRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		done, claimID := matched(t, h, nil)
		h.App.Flows().Done(bg, actor(t, h, "bob"), claimID)
		h.Ask("alice", map[string]string{"summary": "Still open"})
		open := lastRequest(t, db)
		// A member joins an offer with a private note; the offer ends on Thursday.
		h.Join("erin")
		board := bottest.To(h.Submit("carol", flows.FormOffer, "", map[string]string{"category": "grief_circle", "summary": "Grief circle",
			"when": "thursday 19:00", "until": "20:30", "area": "Rosemont", "capacity": "3"}), "#board")
		h.Submit("erin", flows.FormJoin, h.MustButton(board, flows.ActJoin).Payload, map[string]string{"notes": "I use a wheelchair", "share": "yes"})
		// A form left half answered.
		h.Command("alice", "ask")
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues`); n != 1 {
			t.Fatalf("dialogues = %d", n)
		}
		sealed := func(table string, id int64) bool {
			return storetest.Count(t, db, `SELECT COUNT(*) FROM `+table+` WHERE id = ? AND private_ct IS NOT NULL AND private_key_id IS NOT NULL`, id) == 1
		}
		joined := lastClaim(t, db)
		if !sealed("requests", done) || !sealed("requests", open) || !sealed("claims", joined) {
			t.Fatal("the private parts were not stored")
		}

		// Within retention nothing private goes, but the abandoned dialogue does.
		h.Now = h.Now.Add(29 * 24 * time.Hour)
		pc, err := h.App.Flows().Purge(bg, h.Now)
		if err != nil {
			t.Fatal(err)
		}
		if pc.Requests != 0 || pc.Claims != 0 || pc.Dialogues != 1 || !sealed("requests", done) {
			t.Fatalf("purge within retention: %+v", pc)
		}

		h.Now = h.Now.Add(5 * 24 * time.Hour) // 34 days after it was done, 31 after the offer ended
		pc, err = h.App.Flows().Purge(bg, h.Now)
		if err != nil {
			t.Fatal(err)
		}
		if pc.Requests != 1 || pc.Claims != 1 || pc.Communities != 1 {
			t.Fatalf("purge after retention: %+v", pc)
		}
		if storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE id = ? AND private_ct IS NULL AND private_key_id IS NULL`, done) != 1 {
			t.Fatal("the done request kept its private details")
		}
		if !sealed("requests", open) {
			t.Fatal("an open request lost its private details")
		}
		if storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE id = ? AND private_ct IS NULL`, joined) != 1 {
			t.Fatal("the note shared on a past offer was kept")
		}
		// The public part and the record stay; one audit row, counts only.
		if r := request(t, db, done); r.Summary == "" || r.Status != "done" {
			t.Fatalf("the public part went too: %+v", r)
		}
		var detail []string
		if err := db.X.Select(&detail, `SELECT detail FROM audit_log WHERE action = 'retention.purged'`); err != nil {
			t.Fatal(err)
		}
		if len(detail) != 1 || detail[0] != "requests=1 claims=1 retention_days=30" {
			t.Fatalf("purge audit: %q", detail)
		}
		// Nothing left to do.
		if pc, err := h.App.Flows().Purge(bg, h.Now); err != nil || pc != (flows.PurgeCounts{}) {
			t.Fatalf("second purge: %+v, %v", pc, err)
		}
	})
}

func TestRunJobDispatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		h.Ask("alice", nil)
		id := lastRequest(t, db)
		h.Now = h.Now.Add(2 * time.Hour)
		res := jobOuts(t)(h.App.Flows().RunJob(bg, flows.Job{Kind: flows.JobNudge, Ref: id}))
		if len(res.Outs) != 2 {
			t.Fatalf("RunJob nudge: %+v", res.Outs)
		}
		if _, err := h.App.Flows().RunJob(bg, flows.Job{Kind: "explode", Ref: id}); err == nil {
			t.Fatal("an unknown kind ran")
		}
		ids, err := h.App.Flows().Communities(bg)
		if err != nil || len(ids) != 1 || ids[0] != h.Community {
			t.Fatalf("Communities = %v, %v", ids, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
