package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// editValues are the edit form's answers as a modal would prefill them for user, with
// overrides.
func editValues(t *testing.T, h *bottest.H, user string, id int64, over map[string]string) map[string]string {
	t.Helper()
	res := must(t)(h.App.Flows().EditForm(bg, actor(t, h, user), id))
	if res.Form == nil {
		t.Fatalf("no edit form for %s: %+v", user, res.Outs)
	}
	v := map[string]string{}
	for _, f := range res.Form.Fields {
		v[f.Name] = f.Default
	}
	for k, x := range over {
		v[k] = x
	}
	return v
}

// edit submits alice's edit form for a request, as user.
func edit(t *testing.T, h *bottest.H, user string, id int64, over map[string]string) []bottest.Sent {
	t.Helper()
	return h.Submit(user, flows.FormEdit, flows.Ref(id), editValues(t, h, "alice", id, over))
}

// matchedRide has alice ask for the default ride and bob claim it; with accept, alice
// accepts him (sharing or not). It returns the board card's message id and the request.
func matchedRide(t *testing.T, h *bottest.H, accept, share bool) (string, int64) {
	t.Helper()
	board := bottest.To(h.Ask("alice", nil), "#board")
	ask := bottest.To(h.Press("bob", h.MustButton(board, flows.ActClaim)), "@alice")
	if accept {
		action := flows.ActAcceptOnly
		if share {
			action = flows.ActAcceptShare
		}
		h.Press("alice", h.MustButton(ask, action))
	}
	h.Fake.Take()
	return board[0].ID, lastRequest(t, h.DB)
}

func unix(s string) int64 {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, bottest.Start.Location())
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

func TestEditPublicPartUpdatesTheCardInPlace(t *testing.T) {
	cases := []struct {
		name, changed string
		over          map[string]string
		want          []string
		gone          string
	}{
		{name: "summary", changed: "summary", over: map[string]string{"summary": "Ride to radiotherapy at the Jewish General"}, want: []string{"Ride to radiotherapy"}, gone: "chemotherapy"},
		{name: "area", changed: "area", over: map[string]string{"area": "Villeray"}, want: []string{"Area: Villeray"}, gone: "Rosemont"},
		{name: "name hidden", changed: "show_name", over: map[string]string{"show_name": "anonymous"}, want: []string{"Asked by: a neighbour"}, gone: "Alice"},
		{name: "two at once", changed: "summary,area", over: map[string]string{"summary": "Ride home from the clinic", "area": "Villeray"}, want: []string{"Ride home from the clinic", "Area: Villeray"}, gone: "Rosemont"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := setup(t, db)
				post, id := matchedRide(t, h, true, true)
				sent := edit(t, h, "alice", id, tc.over)
				board := bottest.To(sent, "#board")
				if len(board) != 1 || !board[0].Edit || board[0].ID != post || !bottest.Contains(board, tc.want...) || bottest.Contains(board, tc.gone) {
					t.Fatalf("the board card was not edited in place (post %s):\n%s", post, bottest.Dump(sent))
				}
				bob := bottest.To(sent, "@bob")
				if len(bob) != 1 || !bottest.Contains(bob, "has changed", "how it stands now") || !bottest.Contains(bob, tc.want...) {
					t.Fatalf("bob was not told:\n%s", bottest.Dump(sent))
				}
				if _, asked := bob[0].Button(flows.ActRescheduleYes); asked {
					t.Fatal("a public change asked the helper to confirm a time")
				}
				for _, s := range sent {
					for _, p := range privates {
						if strings.Contains(s.Text(), p) {
							t.Fatalf("%q reached %s", p, bottest.Where(s))
						}
					}
				}
				if len(bottest.To(sent, "@carol")) != 0 || !bottest.Contains(sent, "Your request is updated", "board shows the new version") {
					t.Fatalf("what was said:\n%s", bottest.Dump(sent))
				}
				if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'request.edited' AND detail = 'changed=`+tc.changed+`'`); n != 1 {
					t.Fatalf("audit rows for changed=%s: %d", tc.changed, n)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM reschedules`) + count(t, db, `SELECT COUNT(*) FROM disclosures`); n != 1 {
					t.Fatalf("a public change asked for a time or disclosed again (%d rows)", n)
				}
				// The same form again changes nothing.
				sent = edit(t, h, "alice", id, tc.over)
				if len(sent) != 1 || !bottest.Contains(sent, "Nothing was changed") {
					t.Fatalf("an edit that changes nothing:\n%s", bottest.Dump(sent))
				}
			})
		})
	}
}

func TestEditTimeAsksTheHelper(t *testing.T) {
	cases := []struct {
		name        string
		accept, can bool
	}{
		{name: "accepted, can", accept: true, can: true},
		{name: "accepted, can't", accept: true},
		{name: "offered, can", can: true},
		{name: "offered, can't"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := setup(t, db)
				post, id := matchedRide(t, h, tc.accept, true)
				claimID := lastClaim(t, db)
				before := request(t, db, id)
				sent := edit(t, h, "alice", id, map[string]string{"when": "friday 10:00", "until": "13:00"})
				r := request(t, db, id)
				if r.StartsAt != unix("2026-11-27 10:00") || r.EndsAt != unix("2026-11-27 13:00") || r.Status != before.Status {
					t.Fatalf("request after the edit: %+v", r)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM slots WHERE request_id = `+itoa(id)+` AND starts_at = `+itoa(r.StartsAt)+` AND ends_at = `+itoa(r.EndsAt)); n != 1 {
					t.Fatal("the slot did not move with the request")
				}
				board := bottest.To(sent, "#board")
				if len(board) != 1 || !board[0].Edit || board[0].ID != post || !bottest.Contains(board, "Fri 27 Nov, 10:00–13:00") {
					t.Fatalf("board:\n%s", bottest.Dump(sent))
				}
				bob := bottest.To(sent, "@bob")
				if len(bob) != 1 || !bottest.Contains(bob, "New time", "When: Fri 27 Nov, 10:00–13:00", "Before: Thu 26 Nov, 13:00–16:00", "[I can make it]", "[I can't make it]") {
					t.Fatalf("bob was not asked:\n%s", bottest.Dump(sent))
				}
				if !bottest.Contains(sent, "asked your helper whether they can make the new time") {
					t.Fatalf("alice was not told bob is asked:\n%s", bottest.Dump(sent))
				}
				if n := count(t, db, `SELECT COUNT(*) FROM reschedules WHERE state = 'asked' AND claim_id = `+itoa(claimID)); n != 1 {
					t.Fatalf("asks waiting: %d", n)
				}
				action := flows.ActRescheduleNo
				if tc.can {
					action = flows.ActRescheduleYes
				}
				answer := h.MustButton(bob, action)
				sent = h.Press("bob", answer)
				var state string
				if err := db.X.Get(&state, db.X.Rebind(`SELECT state FROM claims WHERE id = ?`), claimID); err != nil {
					t.Fatal(err)
				}
				if tc.can {
					if !bottest.Contains(sent, "let them know you can make the new time") || !bottest.Contains(bottest.To(sent, "@alice"), "Bob can make the new time", "Fri 27 Nov") ||
						len(bottest.To(sent, "#board")) != 0 || state == store.ClaimWithdrawn || request(t, db, id).Status != before.Status {
						t.Fatalf("can (claim %s):\n%s", state, bottest.Dump(sent))
					}
				} else {
					if !bottest.Contains(sent, "thank you for offering your time") || !bottest.Contains(bottest.To(sent, "@alice"), "Bob can't make the new time") ||
						!bottest.Contains(bottest.To(sent, "#board"), "open again", "[I can help]") || !bottest.Contains(bottest.To(sent, "@carol"), "matches") ||
						state != store.ClaimWithdrawn || request(t, db, id).Status != "open" {
						t.Fatalf("can't (claim %s):\n%s", state, bottest.Dump(sent))
					}
					if n := count(t, db, `SELECT taken FROM slots WHERE request_id = `+itoa(id)); n != 0 {
						t.Fatalf("the place was not handed back: taken %d", n)
					}
					// Carol steps in.
					ask := bottest.To(h.Press("carol", h.MustButton(bottest.To(sent, "#board"), flows.ActClaim)), "@alice")
					if !bottest.Contains(ask, "Carol would like to help you") {
						t.Fatalf("carol could not claim the reopened ride:\n%s", bottest.Dump(ask))
					}
				}
				// A second press changes nothing and says so kindly.
				sent = h.Press("bob", answer)
				if len(sent) != 1 || !bottest.Contains(sent, "already answered") {
					t.Fatalf("second press:\n%s", bottest.Dump(sent))
				}
				if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action IN ('claim.reschedule_confirmed', 'claim.reschedule_declined')`); n != 1 {
					t.Fatalf("answers audited: %d", n)
				}
			})
		})
	}
}

func TestEditStaleTimeAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		_, id := matchedRide(t, h, true, true)
		first := bottest.To(edit(t, h, "alice", id, map[string]string{"when": "friday 10:00", "until": "13:00"}), "@bob")
		second := bottest.To(edit(t, h, "alice", id, map[string]string{"when": "saturday 10:00", "until": "13:00"}), "@bob")
		if !bottest.Contains(second, "Sat 28 Nov, 10:00–13:00", "Before: Fri 27 Nov") {
			t.Fatalf("second ask:\n%s", bottest.Dump(second))
		}
		for _, action := range []string{flows.ActRescheduleNo, flows.ActRescheduleYes} {
			sent := h.Press("bob", h.MustButton(first, action))
			if len(sent) != 1 || !bottest.Contains(sent, "changed again since this message") {
				t.Fatalf("a stale answer:\n%s", bottest.Dump(sent))
			}
		}
		if r := request(t, db, id); r.Status != "matched" {
			t.Fatalf("a stale \"can't\" reopened the request: %s", r.Status)
		}
		// Someone else cannot answer for bob.
		if sent := h.Press("carol", h.MustButton(second, flows.ActRescheduleNo)); len(sent) != 1 || !bottest.Contains(sent, "Only the helper") {
			t.Fatalf("carol answered for bob:\n%s", bottest.Dump(sent))
		}
		// A public change since leaves the ask standing.
		if told := bottest.To(edit(t, h, "alice", id, map[string]string{"area": "Villeray"}), "@bob"); !bottest.Contains(told, "has changed", "Villeray") {
			t.Fatalf("bob not told of the area:\n%s", bottest.Dump(told))
		}
		sent := h.Press("bob", h.MustButton(second, flows.ActRescheduleYes))
		if !bottest.Contains(bottest.To(sent, "@alice"), "Bob can make the new time") {
			t.Fatalf("the newest ask:\n%s", bottest.Dump(sent))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM reschedules WHERE state = 'superseded'`); n != 1 {
			t.Fatalf("superseded asks: %d", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM reschedules WHERE state = 'confirmed'`); n != 1 {
			t.Fatalf("confirmed asks: %d", n)
		}
	})
}

func TestEditTimeMovesTheJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, rec := visitSetup(t, db)
		_, id := matchedRide(t, h, true, true)
		claimID := lastClaim(t, db)
		old := request(t, db, id)
		oldReminders, oldChecks := rec.of(flows.JobRemind), rec.of(flows.JobVisitOverdue)
		if len(oldReminders) != 2 || len(oldChecks) != 1 {
			t.Fatalf("jobs of the acceptance: %+v", rec.jobs)
		}
		edit(t, h, "alice", id, map[string]string{"when": "friday 10:00", "until": "13:00"})
		r := request(t, db, id)
		reminders, checks, expiries := rec.of(flows.JobRemind)[2:], rec.of(flows.JobVisitOverdue)[1:], rec.of(flows.JobExpire)
		if len(reminders) != 2 || reminders[0] != (flows.Job{Kind: flows.JobRemind, Ref: claimID, At: r.StartsAt - 24*3600}) ||
			reminders[1] != (flows.Job{Kind: flows.JobRemind, Ref: claimID, At: r.StartsAt - 3600}) {
			t.Fatalf("reminders for the new time: %+v", reminders)
		}
		if len(checks) != 1 || checks[0] != (flows.Job{Kind: flows.JobVisitOverdue, Ref: claimID, At: r.EndsAt + 30*60}) {
			t.Fatalf("the check after the visit: %+v", checks)
		}
		if expiries[len(expiries)-1] != (flows.Job{Kind: flows.JobExpire, Ref: id, At: r.EndsAt}) {
			t.Fatalf("expiry for the new end: %+v", expiries)
		}
		// The jobs of the old time, when they come, do nothing.
		for _, j := range append(oldReminders, oldChecks...) {
			if got := runJob(t, h, j, "old"); len(got) != 0 {
				t.Fatalf("a job for the old time (%s at %d, was %d–%d) spoke:\n%s", j.Kind, j.At, old.StartsAt, old.EndsAt, bottest.Dump(got))
			}
		}
		got := runJob(t, h, reminders[0], "new")
		if !bottest.Contains(bottest.To(got, "@bob"), "tomorrow", "Fri 27 Nov, 10:00–13:00") {
			t.Fatalf("the reminder for the new time:\n%s", bottest.Dump(got))
		}
		got = runJob(t, h, checks[0], "new")
		if !bottest.Contains(bottest.To(got, "@bob"), "Is everything all right?") {
			t.Fatalf("the check after the new time:\n%s", bottest.Dump(got))
		}
	})
}
