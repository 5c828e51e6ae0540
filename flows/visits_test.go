package flows_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// jobRecorder stands in for the job queue: it keeps what the flows schedule.
type jobRecorder struct {
	mu   sync.Mutex
	jobs []flows.Job
}

func (r *jobRecorder) Schedule(_ context.Context, _ *store.Tx, jobs []flows.Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, jobs...)
	return nil
}

func (r *jobRecorder) of(kind string) []flows.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []flows.Job
	for _, j := range r.jobs {
		if j.Kind == kind {
			out = append(out, j)
		}
	}
	return out
}

// visitSetup is setup with the safe-visit categories: rides, two-helper home visits,
// meals at the door (under the older name "low") and calls; dave is an unvetted
// volunteer and the job queue is a recorder.
func visitSetup(t *testing.T, db *store.DB) (*bottest.H, *jobRecorder) {
	t.Helper()
	h := setup(t, db)
	if err := db.InTx(bg, func(tx *store.Tx) error {
		_, err := tx.ApplyCommunity(bg, store.CommunitySetup{
			Community: store.Community{Slug: "test", Name: "Test Neighbours", Locale: "en", Timezone: "America/Toronto", Region: "CA",
				RetentionDays: 30, PrivacyOfficer: "Maya <privacy@example.org>"},
			Categories: []store.Category{
				{Key: "ride", Risk: store.RiskRide, Tier: "vetted"}, {Key: "visit", Risk: store.RiskHome, Tier: "vetted", Helpers: 2},
				{Key: "meal", Risk: "low", Tier: "volunteer"}, {Key: "call", Risk: store.RiskCall, Tier: "volunteer"},
			},
			Resources: []store.CrisisResource{{Label: "Emergency services", Contact: "911"}},
			Visits:    store.VisitSettings{Contact: "Maya, coordinator: 514-555-0100", GraceMinutes: 30},
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rec := &jobRecorder{}
	h.App.UseScheduler(rec)
	h.Volunteer("dave", "ride, visit", "any", "any")
	h.Fake.Take()
	return h, rec
}

// codeWordIn finds the code word field in messages, in English or French.
func codeWordIn(sent []bottest.Sent) string {
	for _, s := range sent {
		for _, f := range s.Msg.Fields {
			if f.Label == "Code word" || f.Label == "Mot de passe" {
				return f.Value
			}
		}
	}
	return ""
}

// stored lists a text column of every row of a table, to look for clear text at rest.
func stored(t *testing.T, db *store.DB, q string) []string {
	t.Helper()
	var out []string
	if err := db.X.Select(&out, q); err != nil {
		t.Fatal(err)
	}
	return out
}

// notAtRest fails when a secret is in the outbox's cards, the inbox's stored replies or
// the log.
func notAtRest(t *testing.T, h *bottest.H, secret string) {
	t.Helper()
	for _, q := range []string{`SELECT card FROM outbox`, `SELECT reply FROM inbox`} {
		for _, v := range stored(t, h.DB, q) {
			if strings.Contains(v, secret) {
				t.Fatalf("%q is in clear in %s:\n%s", secret, q, v)
			}
		}
	}
	if strings.Contains(h.Log.String(), secret) {
		t.Fatalf("%q reached the log", secret)
	}
}

// ask has alice ask in a category, bob claim, and alice accept him (sharing or not); it
// returns what the acceptance sent, the request and bob's claim.
func askAndAccept(t *testing.T, h *bottest.H, values map[string]string, share bool) ([]bottest.Sent, int64, int64) {
	t.Helper()
	claim := h.MustButton(bottest.To(h.Ask("alice", values), "#board"), flows.ActClaim)
	ask := bottest.To(h.Press("bob", claim), "@alice")
	action := flows.ActAcceptOnly
	if share {
		action = flows.ActAcceptShare
	}
	return h.Press("alice", h.MustButton(ask, action)), lastRequest(t, h.DB), lastClaim(t, h.DB)
}

func TestVisitCodeWordAndRules(t *testing.T) {
	cases := []struct {
		name, category        string
		share                 bool
		codeWord, rules, late bool
	}{
		{"a ride, details shared", "ride", true, true, true, true},
		{"a ride, details not shared", "ride", false, true, true, true},
		{"a meal at the door", "meal", true, true, false, false},
		{"a check-in call", "call", true, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h, rec := visitSetup(t, db)
				sent, _, claimID := askAndAccept(t, h, map[string]string{"category": tc.category}, tc.share)
				// Alice's code word comes in a DM of its own, beside the answer to her press.
				bob, alice := bottest.To(sent, "@bob"), bottest.To(sent, "@alice")
				if len(bob) != 1 || len(bottest.To(sent, "~alice")) != 1 || len(alice) != map[bool]int{true: 1, false: 0}[tc.codeWord] {
					t.Fatalf("acceptance:\n%s", bottest.Dump(sent))
				}
				word := codeWordIn(bob)
				if tc.codeWord != (word != "") || codeWordIn(alice) != word {
					t.Fatalf("code words: bob %q, alice %q (want one: %v)\n%s", word, codeWordIn(alice), tc.codeWord, bottest.Dump(sent))
				}
				if tc.share != bottest.Contains(bob, "Address: 12 Rue Rachel") {
					t.Fatalf("details shared = %v:\n%s", tc.share, bottest.Dump(bob))
				}
				if tc.codeWord {
					if len(strings.Fields(word)) != 2 || !bottest.Contains(alice, "ask for the code word at the door") ||
						!bottest.Contains(bob, "may ask for it at the door") {
						t.Fatalf("code word %q:\n%s", word, bottest.Dump(sent))
					}
					notAtRest(t, h, word)
					if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE id = ? AND code_ct IS NOT NULL`, claimID); n != 1 {
						t.Fatal("the code word is not sealed on the claim")
					}
				}
				rules := bottest.Contains(bob, "Before you go", "Never accept cash", "Don't go inside unless you are invited", "Who to call: Maya, coordinator: 514-555-0100")
				_, arrived := bob[0].Button(flows.ActArrived)
				if rules != tc.rules || arrived != tc.rules {
					t.Fatalf("rules %v, arrived button %v, want %v:\n%s", rules, arrived, tc.rules, bottest.Dump(bob))
				}
				if _, ok := bob[0].Button(flows.ActDone); !ok {
					t.Fatalf("no done button:\n%s", bottest.Dump(bob))
				}
				if got := len(rec.of(flows.JobVisitOverdue)); (got == 1) != tc.late || got > 1 {
					t.Fatalf("overdue checks scheduled: %d", got)
				}
				// Nothing of it reached anyone else.
				for _, s := range sent {
					if w := bottest.Where(s); w != "@bob" && w != "@alice" && word != "" && strings.Contains(s.Text(), word) {
						t.Fatalf("the code word reached %s", w)
					}
				}
			})
		})
	}
}

func TestVisitCodeWordInTheRequestersLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "fr")
		h.Join("alice")
		h.Join("maya")
		h.Volunteer("bob", "ride", "any", "any")
		h.Vet("bob")
		h.Fake.Take()
		sent, _, _ := askAndAccept(t, h, map[string]string{"when": "jeudi 13h", "until": "16h"}, true)
		word := codeWordIn(bottest.To(sent, "@bob"))
		if word == "" || codeWordIn(bottest.To(sent, "@alice")) != word {
			t.Fatalf("no code word:\n%s", bottest.Dump(sent))
		}
		cat, err := catalog.New()
		if err != nil {
			t.Fatal(err)
		}
		first := strings.Split(cat.Localize("fr", "visit.words.first", nil), ", ")
		if f := strings.Fields(word); len(f) != 2 || !slices.Contains(first, f[0]) {
			t.Fatalf("French code word %q:\n%s", word, bottest.Dump(sent))
		}
	})
}

func TestVisitArrivedTellsTheRequesterOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, _ := visitSetup(t, db)
		sent, _, claimID := askAndAccept(t, h, nil, true)
		word := codeWordIn(bottest.To(sent, "@bob"))
		arrived := h.MustButton(bottest.To(sent, "@bob"), flows.ActArrived)

		if got := h.Press("carol", arrived); !bottest.Contains(got, "Only the helper") || len(got) != 1 {
			t.Fatalf("carol pressing bob's arrival:\n%s", bottest.Dump(got))
		}
		got := h.Press("bob", arrived)
		if !bottest.Contains(bottest.To(got, "~bob"), "We've let Alice know") {
			t.Fatalf("bob's thanks:\n%s", bottest.Dump(got))
		}
		told := bottest.To(got, "@alice")
		if len(told) != 1 || !bottest.Contains(told, "Bob says they've arrived") || codeWordIn(told) != word {
			t.Fatalf("alice not told (with the code word %q):\n%s", word, bottest.Dump(got))
		}
		at := storetest.Count(t, db, `SELECT arrived_at FROM claims WHERE id = ?`, claimID)
		if int64(at) != h.Now.Unix() {
			t.Fatalf("arrived_at = %d", at)
		}

		h.Now = h.Now.Add(10 * time.Minute)
		got = h.Press("bob", arrived)
		if !bottest.Contains(got, "already told us") || len(got) != 1 {
			t.Fatalf("second press:\n%s", bottest.Dump(got))
		}
		if again := storetest.Count(t, db, `SELECT arrived_at FROM claims WHERE id = ?`, claimID); again != at {
			t.Fatalf("a second press moved arrived_at from %d to %d", at, again)
		}
		notAtRest(t, h, word)
	})
}

func TestVisitOverdueCheck(t *testing.T) {
	cases := []struct {
		name string
		ask  map[string]string
		// before runs before the first check; between, between the two.
		before, between string
		asked, alerted  bool
		who             string
	}{
		{name: "no answer", asked: true, alerted: true, who: "Bob with Alice"},
		{name: "no answer, anonymous", ask: map[string]string{"show_name": "anonymous"}, asked: true, alerted: true, who: "Bob with a neighbour"},
		{name: "done before the check", before: flows.ActDone},
		{name: "helper stepped back", before: flows.ActWithdraw},
		{name: "done when asked", between: flows.ActDone, asked: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h, rec := visitSetup(t, db)
				sent, id, claimID := askAndAccept(t, h, tc.ask, true)
				word := codeWordIn(bottest.To(sent, "@bob"))
				r := request(t, db, id)
				checks := rec.of(flows.JobVisitOverdue)
				if len(checks) != 1 || checks[0] != (flows.Job{Kind: flows.JobVisitOverdue, Ref: claimID, At: r.EndsAt + 30*60}) {
					t.Fatalf("overdue check scheduled: %+v (visit ends %d)", checks, r.EndsAt)
				}
				if tc.before != "" {
					h.Press("bob", h.MustButton(bottest.To(sent, "@bob"), tc.before))
				}
				got := runJob(t, h, checks[0], "1")
				asked := bottest.To(got, "@bob")
				if tc.asked != (len(asked) == 1 && bottest.Contains(asked, "Is everything all right?", "[Mark as done]", "[I need help]")) || len(got) != len(asked) {
					t.Fatalf("the check (want asked %v):\n%s", tc.asked, bottest.Dump(got))
				}
				// The same job run again (a retry under another key) changes nothing.
				if again := runJob(t, h, checks[0], "2"); len(again) != 0 {
					t.Fatalf("the check ran twice:\n%s", bottest.Dump(again))
				}
				mods := rec.of(flows.JobVisitOverdueMods)
				if !tc.asked {
					if len(mods) != 0 {
						t.Fatalf("moderators' check scheduled without asking: %+v", mods)
					}
					return
				}
				if len(mods) != 1 || mods[0].At != h.Now.Unix()+30*60 || mods[0].Ref != claimID {
					t.Fatalf("moderators' check: %+v", mods)
				}
				if tc.between != "" {
					h.Press("bob", h.MustButton(asked, tc.between))
				}
				got = runJob(t, h, mods[0], "1")
				alert := bottest.To(got, "#"+bottest.Moderators)
				if tc.alerted != (len(alert) == 1) || len(got) != len(alert) {
					t.Fatalf("moderators told (want %v):\n%s", tc.alerted, bottest.Dump(got))
				}
				if tc.alerted {
					want := fmt.Sprintf("No word after the visit: %s, request #%d", tc.who, id)
					if !bottest.Contains(alert, "No word after a visit", want, "30 minutes ago") {
						t.Fatalf("moderators' card, want %q:\n%s", want, bottest.Dump(alert))
					}
					for _, secret := range slices.Concat(privates, []string{word}) {
						if bottest.Contains(alert, secret) {
							t.Fatalf("%q reached the moderators", secret)
						}
					}
				}
				if again := runJob(t, h, mods[0], "2"); len(again) != 0 {
					t.Fatalf("the moderators were told twice:\n%s", bottest.Dump(again))
				}
			})
		})
	}
}

// runJob runs a flow job at its time the way the job queue does, and returns what it sent.
func runJob(t *testing.T, h *bottest.H, j flows.Job, attempt string) []bottest.Sent {
	t.Helper()
	if at := time.Unix(j.At, 0); at.After(h.Now) {
		h.Now = at
	}
	if err := h.App.RunJob(bg, j, fmt.Sprintf("job:%s:%d:%s", j.Kind, j.Ref, attempt)); err != nil {
		t.Fatal(err)
	}
	if err := h.App.Flush(bg); err != nil {
		t.Fatal(err)
	}
	return h.Fake.Take()
}

func TestVisitNeedHelpReachesTheModerators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, _ := visitSetup(t, db)
		sent, id, _ := askAndAccept(t, h, nil, true)
		arrived := h.Press("bob", h.MustButton(bottest.To(sent, "@bob"), flows.ActArrived))
		help := h.MustButton(arrived, flows.ActNeedHelp)

		if got := h.Press("carol", help); !bottest.Contains(got, "Only the helper") || len(got) != 1 {
			t.Fatalf("carol pressing bob's call for help:\n%s", bottest.Dump(got))
		}
		got := h.Press("bob", help)
		mods := bottest.To(got, "#"+bottest.Moderators)
		want := fmt.Sprintf("Bob pressed “I need help” during the visit with Alice, request #%d", id)
		if len(mods) != 1 || !bottest.Contains(mods, "A helper needs help", want) {
			t.Fatalf("moderators, want %q:\n%s", want, bottest.Dump(got))
		}
		if !bottest.Contains(bottest.To(got, "~bob"), "We've told the moderators", "Emergency services: 911") {
			t.Fatalf("bob's answer:\n%s", bottest.Dump(got))
		}
		for _, secret := range privates {
			if bottest.Contains(mods, secret) {
				t.Fatalf("%q reached the moderators", secret)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'visit.help'`); n != 1 {
			t.Fatalf("audit rows = %d", n)
		}
	})
}

func TestVisitWithTwoHelpers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, rec := visitSetup(t, db)
		h.Vet("dave")
		h.Fake.Take()
		board := bottest.To(h.Ask("alice", map[string]string{"category": "visit", "summary": "Company for an afternoon"}), "#board")
		id := lastRequest(t, db)
		if !bottest.Contains(board, "Helpers: 0 of 2 helpers") {
			t.Fatalf("board card:\n%s", bottest.Dump(board))
		}
		claim := h.MustButton(board, flows.ActClaim)

		sent := h.Press("bob", claim)
		bobClaim := lastClaim(t, db)
		if b := bottest.To(sent, "#board"); !bottest.Contains(b, "Helpers: 1 of 2 helpers", "[I can help]") {
			t.Fatalf("board after one offer:\n%s", bottest.Dump(sent))
		}
		acceptBob := h.MustButton(bottest.To(sent, "@alice"), flows.ActAcceptShare)
		sent = h.Press("carol", claim)
		carolClaim := lastClaim(t, db)
		if b := bottest.To(sent, "#board"); !bottest.Contains(b, "Helpers: 2 of 2 helpers", "waiting for confirmation") {
			t.Fatalf("board after two offers:\n%s", bottest.Dump(sent))
		}
		acceptCarol := h.MustButton(bottest.To(sent, "@alice"), flows.ActAcceptShare)
		if got := h.Press("dave", claim); !bottest.Contains(got, "Someone else is already helping") {
			t.Fatalf("a third helper:\n%s", bottest.Dump(got))
		}

		// One of two accepted: not matched yet, and bob is told not to go alone.
		sent = h.Press("alice", acceptBob)
		word := codeWordIn(bottest.To(sent, "@bob"))
		if !bottest.Contains(bottest.To(sent, "@bob"), "needs two helpers", "don't go alone") ||
			!bottest.Contains(bottest.To(sent, "~alice"), "1 of 2 confirmed") || word == "" {
			t.Fatalf("first acceptance:\n%s", bottest.Dump(sent))
		}
		if r := request(t, db, id); r.Status != "open" {
			t.Fatalf("request %s after one of two acceptances", r.Status)
		}
		if got := h.Press("alice", acceptBob); !bottest.Contains(got, "already accepted") {
			t.Fatalf("accepting bob again:\n%s", bottest.Dump(got))
		}

		// Both accepted: matched, one code word for the visit, both told who comes.
		sent = h.Press("alice", acceptCarol)
		if r := request(t, db, id); r.Status != "matched" {
			t.Fatalf("request %s after both acceptances", r.Status)
		}
		carol := bottest.To(sent, "@carol")
		if codeWordIn(carol) != word || codeWordIn(bottest.To(sent, "@alice")) != word || !bottest.Contains(carol, "together with Bob") {
			t.Fatalf("second acceptance (code word %q):\n%s", word, bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "@bob"), "Carol is confirmed as the second helper") ||
			!bottest.Contains(bottest.To(sent, "#board"), "Matched") {
			t.Fatalf("bob or the board not told:\n%s", bottest.Dump(sent))
		}
		if n := len(rec.of(flows.JobVisitOverdue)); n != 2 {
			t.Fatalf("overdue checks = %d, want one per helper", n)
		}
		notAtRest(t, h, word)

		// Done when both are done.
		h.PressAction("bob", flows.ActDone, itoa(bobClaim))
		if r := request(t, db, id); r.Status != "matched" {
			t.Fatalf("request %s with one of two done", r.Status)
		}
		h.PressAction("carol", flows.ActDone, itoa(carolClaim))
		if r := request(t, db, id); r.Status != "done" {
			t.Fatalf("request %s with both done", r.Status)
		}
	})
}

func TestVisitShortOfASecondHelperIsCalledOff(t *testing.T) {
	for _, went := range []bool{false, true} {
		t.Run(fmt.Sprintf("arrived=%v", went), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h, rec := visitSetup(t, db)
				sent, id, claimID := askAndAccept(t, h, map[string]string{"category": "visit"}, true)
				if went {
					h.Press("bob", h.MustButton(bottest.To(sent, "@bob"), flows.ActArrived))
				}
				r := request(t, db, id)
				got := runJob(t, h, flows.Job{Kind: flows.JobExpire, Ref: id, At: r.EndsAt}, "1")
				state := store.ClaimCancelled
				if went {
					state = store.ClaimAccepted
				}
				if c := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE id = ? AND state = ?`, claimID, state); c != 1 {
					t.Fatalf("bob's claim is not %s:\n%s", state, bottest.Dump(got))
				}
				if told := bottest.Contains(bottest.To(got, "@bob"), "called off", "don't go alone"); told == went {
					t.Fatalf("bob told the visit is off: %v:\n%s", told, bottest.Dump(got))
				}
				// Who went anyway is still asked whether all is well.
				asked := runJob(t, h, rec.of(flows.JobVisitOverdue)[0], "1")
				if bottest.Contains(asked, "Is everything all right?") != went {
					t.Fatalf("check after a called-off visit:\n%s", bottest.Dump(asked))
				}
			})
		})
	}
}

func TestVettingRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, _ := visitSetup(t, db)
		h.Volunteer("erin", "ride", "any", "any")
		h.Fake.Take()
		cases := []struct {
			args    []string
			want    string
			written bool
		}{
			{[]string{"dave", "interview", "until", "2026-11-24"}, "valid until 2026-11-24", true},
			{[]string{"dave", "references", "until", "next", "week"}, "couldn't read that date", false},
			{[]string{"dave", "references", "until", "2026-11-20"}, "already passed", false},
			{[]string{"erin", "interview"}, "passed the step “interview”", true},
		}
		for _, c := range cases {
			before := storetest.Count(t, db, `SELECT COUNT(*) FROM vettings`)
			got := h.Command("maya", "vet", c.args...)
			if !bottest.Contains(bottest.To(got, "~maya"), c.want) {
				t.Errorf("vet %v: want %q in\n%s", c.args, c.want, bottest.Dump(got))
			}
			if wrote := storetest.Count(t, db, `SELECT COUNT(*) FROM vettings`) > before; wrote != c.written {
				t.Errorf("vet %v wrote a record: %v", c.args, wrote)
			}
		}
		// Dave's vetting holds on the 24th and ends with it.
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		h.Now = time.Date(2026, 11, 24, 23, 0, 0, 0, h.Now.Location())
		if got := h.Press("dave", claim); !bottest.Contains(got, "We've asked Alice to confirm") {
			t.Fatalf("dave while vetted:\n%s", bottest.Dump(got))
		}
		h.PressAction("dave", flows.ActWithdraw, itoa(lastClaim(t, db)))
		h.Now = time.Date(2026, 11, 25, 0, 1, 0, 0, h.Now.Location())
		if got := h.Press("dave", claim); !bottest.Contains(got, "needs a vetted volunteer") {
			t.Fatalf("dave after his vetting expired:\n%s", bottest.Dump(got))
		}
		if got := h.Press("erin", claim); !bottest.Contains(got, "We've asked Alice to confirm") {
			t.Fatalf("erin, vetted with no end date:\n%s", bottest.Dump(got))
		}
		mine := h.Command("dave", "mine")
		if !bottest.Contains(mine, "Vetting step “interview”, verified by Maya on 2026-11-23, valid until 2026-11-24: it has expired") {
			t.Fatalf("dave's records:\n%s", bottest.Dump(mine))
		}
		if !bottest.Contains(h.Command("erin", "mine"), "Vetting step “interview”, verified by Maya on 2026-11-23, with no end date") {
			t.Fatal("erin's records are missing")
		}
	})
}

func TestVettingLastsTheCommunitysDefault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "en")
		if err := db.InTx(bg, func(tx *store.Tx) error {
			_, err := tx.ApplyCommunity(bg, store.CommunitySetup{
				Community:  store.Community{Slug: "test", Name: "Test Neighbours", Locale: "en", Timezone: "America/Toronto", RetentionDays: 30},
				Categories: []store.Category{{Key: "ride", Risk: store.RiskRide, Tier: "vetted"}},
				Visits:     store.VisitSettings{VettingValidDays: 365},
			})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		h.Join("maya")
		h.Volunteer("bob", "ride", "any", "any")
		h.Fake.Take()
		got := h.Command("maya", "vet", "bob", "references")
		if !bottest.Contains(bottest.To(got, "@bob"), "valid until 2027-11-23") {
			t.Fatalf("a year's vetting:\n%s", bottest.Dump(got))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM vettings WHERE expires_at = ?`, h.Now.Unix()+365*86400); n != 1 {
			t.Fatal("the vetting does not end a year from now")
		}
	})
}

// TestTwoHelpersAcceptedAtOnce: the requester's two acceptances of a two-helper visit
// arrive together; whichever commits second sees both helpers and matches the request.
func TestTwoHelpersAcceptedAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, _ := visitSetup(t, db)
		for round := 0; round < 8; round++ {
			claim := h.MustButton(bottest.To(h.Ask("alice", map[string]string{"category": "visit"}), "#board"), flows.ActClaim)
			var accepts []bottest.Sent
			for _, helper := range []string{"bob", "carol"} {
				accepts = append(accepts, bottest.To(h.Press(helper, claim), "@alice")...)
			}
			id := lastRequest(t, db)
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			for i, a := range accepts {
				b := h.MustButton([]bottest.Sent{a}, flows.ActAcceptOnly)
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := h.App.Handle(bg, bot.Event{ID: fmt.Sprintf("accept-%d-%d", round, i), Platform: bottest.Platform,
						Workspace: bottest.Workspace, UserID: "alice", UserName: "Alice", Kind: bot.EventButton, InDM: true,
						Action: b.Action, Payload: b.Payload})
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if r := request(t, db, id); r.Status != "matched" {
				t.Fatalf("round %d: request %s with both helpers accepted", round, r.Status)
			}
			h.Fake.Take()
		}
	})
}
