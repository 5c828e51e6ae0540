package flows_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// flagRequest has alice ask and carol flag the request; it returns the moderators' card.
func flagRequest(t *testing.T, h *bottest.H) []bottest.Sent {
	t.Helper()
	h.Ask("alice", nil)
	h.Fake.Take()
	mods := bottest.To(h.Command("carol", "flag", "request", modRequestID(t, h.DB), "unsafe"), "#mods")
	if len(mods) != 1 {
		t.Fatal("no moderators' card")
	}
	return mods
}

// flagBob has carol flag bob; it returns the moderators' card.
func flagBob(t *testing.T, h *bottest.H) []bottest.Sent {
	t.Helper()
	mods := bottest.To(h.Command("carol", "flag", "member", "bob", "unsafe"), "#mods")
	if len(mods) != 1 {
		t.Fatal("no moderators' card")
	}
	return mods
}

func TestModerationIsForModerators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		flagBob(t, h)
		id := modCaseID(t, db)
		before := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log`)
		tries := map[string]func() []bottest.Sent{
			"queue":     func() []bottest.Sent { return h.Command("alice", "queue") },
			"file":      func() []bottest.Sent { return h.Command("alice", "file") },
			"case":      func() []bottest.Sent { return h.Command("alice", "case", id) },
			"audit":     func() []bottest.Sent { return h.Command("alice", "audit") },
			"unsuspend": func() []bottest.Sent { return h.Command("alice", "unsuspend", "bob") },
			"resolve": func() []bottest.Sent {
				return h.Submit("alice", flows.FormResolve, id, map[string]string{"note": "closing it"})
			},
		}
		for _, act := range []string{flows.ActModAck, flows.ActModContact, flows.ActModHide, flows.ActModSuspend, flows.ActModResolve, flows.ActModCase} {
			tries[act] = func() []bottest.Sent { return h.PressAction("alice", act, id) }
		}
		for name, try := range tries {
			sent := try()
			if len(sent) != 1 || !bottest.Contains(bottest.To(sent, "~alice"), "That's for moderators") {
				t.Errorf("%s by a member:\n%s", name, bottest.Dump(sent))
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log`); n != before {
			t.Errorf("refusals wrote %d audit rows", n-before)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations WHERE status <> 'open'`) + storetest.Count(t, db, `SELECT COUNT(*) FROM suspensions`); n != 0 {
			t.Error("a member changed a case")
		}
	})
}

func TestAcknowledgeFirstWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		flagBob(t, h)
		queue := h.Command("maya", "queue")
		if !bottest.Contains(queue, "One open case") || !bottest.Contains(queue, "About a member: Bob", "[Acknowledge]", "[Suspend]") {
			t.Fatalf("queue:\n%s", bottest.Dump(queue))
		}
		ack := h.MustButton(queue, flows.ActModAck)
		sent := h.Press("maya", ack)
		mods := bottest.To(sent, "#mods")
		if !bottest.Contains(sent, "You've taken case #") || len(mods) != 1 || !mods[0].Edit || !bottest.Contains(mods, "acknowledged by Maya") {
			t.Fatalf("acknowledge:\n%s", bottest.Dump(sent))
		}
		if bottest.Contains(mods, "[Acknowledge]") {
			t.Errorf("an acknowledged case still offers to acknowledge:\n%s", bottest.Dump(mods))
		}
		sent = h.Press("maya", ack)
		if len(sent) != 1 || !bottest.Contains(sent, "already acknowledged by Maya") {
			t.Fatalf("second press:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations WHERE status = 'acknowledged' AND acknowledged_by = ?`, memberID(t, db, "maya")); n != 1 {
			t.Fatalf("acknowledged cases = %d", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalation_events WHERE action = 'acknowledged'`); n != 1 {
			t.Fatalf("acknowledged events = %d, want 1", n)
		}
	})
}

func TestHideTakesItOffTheBoard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		if res, err := h.App.Flows().Digest(context.Background(), h.Community); err != nil || len(res.Outs) != 1 {
			t.Fatalf("digest before hiding: %v %d", err, len(res.Outs))
		}
		mods := bottest.To(h.Command("carol", "flag", "request", modRequestID(t, db), "inappropriate"), "#mods")

		sent := h.Press("maya", h.MustButton(mods, flows.ActModHide))
		board := bottest.To(sent, "#board")
		if len(board) != 1 || !board[0].Edit || !bottest.Contains(board, "The moderators have taken this off the board") {
			t.Fatalf("board card not replaced:\n%s", bottest.Dump(sent))
		}
		modNotIn(t, sent, "#board", "Ride to chemotherapy", "Alice", "[I can help]")
		if !bottest.Contains(bottest.To(sent, "#mods"), "acknowledged by Maya") || bottest.Contains(bottest.To(sent, "#mods"), "[Hide]") {
			t.Fatalf("case card after hiding:\n%s", bottest.Dump(sent))
		}
		if sent := h.Press("maya", h.MustButton(mods, flows.ActModHide)); !bottest.Contains(sent, "already hidden") {
			t.Fatalf("second hide:\n%s", bottest.Dump(sent))
		}

		// It cannot be claimed, is not in the digest, and its owner sees why.
		if sent := h.Press("bob", claim); !bottest.Contains(sent, "no longer open") || len(bottest.To(sent, "@alice")) != 0 {
			t.Fatalf("claim of a hidden request:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims`); n != 0 {
			t.Fatalf("claims = %d", n)
		}
		if res, err := h.App.Flows().Digest(context.Background(), h.Community); err != nil || len(res.Outs) != 0 {
			t.Fatalf("digest lists a hidden request: %v %d", err, len(res.Outs))
		}
		if sent := h.Command("alice", "mine"); !bottest.Contains(sent, "The moderators have taken this off the board") {
			t.Fatalf("owner's list:\n%s", bottest.Dump(sent))
		}

		// An offer the same way: hidden, and no one can join it.
		join := h.MustButton(bottest.To(h.Submit("bob", flows.FormOffer, "", map[string]string{"category": "meal",
			"summary": "Soup", "when": "thursday 18:00", "area": "Rosemont", "capacity": "3"}), "#board"), flows.ActJoin)
		offer := strconv.Itoa(storetest.Count(t, db, `SELECT MAX(id) FROM offers`))
		mods = bottest.To(h.Command("carol", "flag", "offer", offer, "spam"), "#mods")
		sent = h.Press("maya", h.MustButton(mods, flows.ActModHide))
		if b := bottest.To(sent, "#board"); len(b) != 1 || !b[0].Edit || bottest.Contains(b, "Soup") {
			t.Fatalf("offer card not replaced:\n%s", bottest.Dump(sent))
		}
		if sent := h.Press("alice", join); !bottest.Contains(sent, "no longer open") {
			t.Fatalf("join of a hidden offer:\n%s", bottest.Dump(sent))
		}
		if sent := h.Submit("alice", flows.FormJoin, join.Payload, map[string]string{"share": "no"}); !bottest.Contains(sent, "no longer open") {
			t.Fatalf("join form of a hidden offer:\n%s", bottest.Dump(sent))
		}
	})
}

// modScreener finds a crisis in one phrase.
type modScreener struct{}

func (modScreener) Screen(_ int64, text string) string {
	if strings.Contains(text, "no way out") {
		return flows.TierImminent
	}
	return ""
}

func TestSuspendAndUnsuspend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		h.App.Flows().SetScreener(modScreener{})
		mods := flagBob(t, h)
		sent := h.Press("maya", h.MustButton(mods, flows.ActModSuspend))
		if !bottest.Contains(sent, "Bob can no longer use tend") || !bottest.Contains(bottest.To(sent, "@bob"), "paused your use of tend") {
			t.Fatalf("suspend:\n%s", bottest.Dump(sent))
		}
		modNotIn(t, sent, "@bob", "Carol", "flag", "Unsafe")
		if sent := h.Press("maya", h.MustButton(mods, flows.ActModSuspend)); !bottest.Contains(sent, "already suspended") {
			t.Fatalf("second suspend:\n%s", bottest.Dump(sent))
		}

		suspended := "Your use of tend is paused"
		for _, ev := range []bot.Event{
			{Kind: bot.EventCommand, Command: "ask"},
			{Kind: bot.EventCommand, Command: "offer"},
			{Kind: bot.EventCommand, Command: "flag", Args: []string{"member", "carol", "spam"}},
			{Kind: bot.EventForm, FormID: flows.FormOffer, Values: map[string]string{"category": "meal", "summary": "Soup", "when": "thursday 18:00", "area": "Rosemont", "capacity": "3"}},
			{Kind: bot.EventButton, Action: flows.ActAsk},
		} {
			if sent := h.Event("bob", ev); len(sent) != 1 || !bottest.Contains(sent, suspended) {
				t.Errorf("%s %s%s while suspended:\n%s", ev.Kind, ev.Command, ev.Action, bottest.Dump(sent))
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM offers`) + storetest.Count(t, db, `SELECT COUNT(*) FROM escalations WHERE reporter_id = ?`, memberID(t, db, "bob")); n != 0 {
			t.Fatal("a suspended member changed something")
		}
		for _, cmd := range []string{"mine", "privacy", "moi", "mydata", "mesdonnees"} {
			if sent := h.Command("bob", cmd); bottest.Contains(sent, suspended) || len(sent) == 0 {
				t.Errorf("%s while suspended:\n%s", cmd, bottest.Dump(sent))
			}
		}
		// His data stays his to see and take away.
		if sent := h.Press("bob", h.MustButton(h.Command("bob", "privacy"), flows.ActMyData)); !bottest.Contains(sent, "[Export my data]") {
			t.Errorf("my data while suspended:\n%s", bottest.Dump(sent))
		}
		if sent := h.PressAction("bob", flows.ActMyDataExport, ""); !bottest.Contains(sent, `"display_name": "Bob"`) {
			t.Errorf("export while suspended:\n%s", bottest.Dump(sent))
		}
		// A crisis is still answered.
		if sent := h.DM("bob", "I see no way out"); !bottest.Contains(sent, suspended) || len(bottest.To(sent, "@bob")) < 2 {
			t.Errorf("crisis while suspended:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations WHERE source = 'detector' AND member_id = ?`, memberID(t, db, "bob")); n != 1 {
			t.Errorf("detector cases = %d, want 1", n)
		}
		// Others are not affected.
		if sent := h.Command("alice", "ask"); bottest.Contains(sent, suspended) {
			t.Fatalf("alice is suspended too:\n%s", bottest.Dump(sent))
		}
		h.Command("alice", "cancel")

		if sent := h.Command("maya", "unsuspend", "<@bob>"); !bottest.Contains(sent, "Bob can use tend again") || !bottest.Contains(bottest.To(sent, "@bob"), "Welcome back") {
			t.Fatalf("unsuspend:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("maya", "unsuspend", "bob"); !bottest.Contains(sent, "isn't suspended") {
			t.Fatalf("second unsuspend:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("bob", "offer"); bottest.Contains(sent, suspended) {
			t.Fatalf("still suspended:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalation_events WHERE action IN ('suspended', 'unsuspended')`); n != 2 {
			t.Fatalf("suspension events = %d, want 2", n)
		}
	})
}

func TestResolveSealsTheNote(t *testing.T) {
	const note = "Spoke with Alice by phone; the ride is with her nephew"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		mods := flagRequest(t, h)
		id := modCaseID(t, db)
		if sent := h.Press("maya", h.MustButton(mods, flows.ActModResolve)); len(sent) == 0 {
			t.Fatal("resolve opened nothing")
		}
		h.Command("maya", "cancel")
		if sent := h.Submit("maya", flows.FormResolve, id, map[string]string{"note": "  "}); !bottest.Contains(sent, "A few answers need another look") {
			t.Fatalf("resolve without a note:\n%s", bottest.Dump(sent))
		}
		sent := h.Submit("maya", flows.FormResolve, id, map[string]string{"note": note})
		if !bottest.Contains(sent, "Case #"+id+" is resolved") || !bottest.Contains(bottest.To(sent, "#mods"), "resolved by Maya") {
			t.Fatalf("resolve:\n%s", bottest.Dump(sent))
		}
		for _, s := range h.Fake.History() {
			if strings.Contains(s.Text(), "nephew") {
				t.Fatalf("the note reached %s", bottest.Where(s))
			}
		}
		for _, ct := range modSealedNotes(t, db) {
			if bytes.Contains(ct, []byte("nephew")) {
				t.Fatal("the note is stored in clear")
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalation_events WHERE action = 'resolved' AND note_ct IS NOT NULL AND note_key_id IS NOT NULL`); n != 1 {
			t.Fatalf("sealed resolution notes = %d", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%nephew%' OR subject LIKE '%nephew%'`); n != 0 {
			t.Fatal("the note reached the audit log")
		}
		if strings.Contains(h.Log.String(), "nephew") {
			t.Fatal("the note reached a log line")
		}
		// Moderators read it in the case's timeline; the queue is empty.
		if sent := h.Command("maya", "dossier", id); !bottest.Contains(sent, "resolved: "+note) {
			t.Fatalf("case timeline:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("maya", "queue"); !bottest.Contains(sent, "No open cases") {
			t.Fatalf("queue:\n%s", bottest.Dump(sent))
		}
		if sent := h.Submit("maya", flows.FormResolve, id, map[string]string{"note": "again"}); !bottest.Contains(sent, "already resolved") {
			t.Fatalf("second resolve:\n%s", bottest.Dump(sent))
		}
	})
}

func TestEveryActionIsAudited(t *testing.T) {
	cases := []struct {
		name, event, audit string
		flag               func(t *testing.T, h *bottest.H) []bottest.Sent
		act                func(h *bottest.H, mods []bottest.Sent, id string) []bottest.Sent
	}{
		{"acknowledge", "acknowledged", "case.acknowledged", flagBob, func(h *bottest.H, mods []bottest.Sent, _ string) []bottest.Sent {
			return h.Press("maya", h.MustButton(mods, flows.ActModAck))
		}},
		{"contact", "contacted", "case.contacted", flagBob, func(h *bottest.H, mods []bottest.Sent, _ string) []bottest.Sent {
			return h.Press("maya", h.MustButton(mods, flows.ActModContact))
		}},
		{"hide", "hidden", "request.hidden", flagRequest, func(h *bottest.H, mods []bottest.Sent, _ string) []bottest.Sent {
			return h.Press("maya", h.MustButton(mods, flows.ActModHide))
		}},
		{"suspend", "suspended", "member.suspended", flagBob, func(h *bottest.H, mods []bottest.Sent, _ string) []bottest.Sent {
			return h.Press("maya", h.MustButton(mods, flows.ActModSuspend))
		}},
		{"resolve", "resolved", "case.resolved", flagBob, func(h *bottest.H, _ []bottest.Sent, id string) []bottest.Sent {
			return h.Submit("maya", flows.FormResolve, id, map[string]string{"note": "done"})
		}},
		{"view", "opened", "case.viewed", flagBob, func(h *bottest.H, _ []bottest.Sent, id string) []bottest.Sent {
			return h.Command("maya", "case", id)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := modSetup(t, db)
				mods := tc.flag(t, h)
				id := modCaseID(t, db)
				if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'case.opened' AND subject = ?`, "case:"+id); n != 1 {
					t.Fatalf("case.opened rows = %d", n)
				}
				if sent := tc.act(h, mods, id); len(sent) == 0 {
					t.Fatal("the action said nothing")
				}
				if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND actor_member_id = ?`, tc.audit, memberID(t, db, "maya")); n != 1 {
					t.Errorf("%s rows = %d, want 1", tc.audit, n)
				}
				if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalation_events WHERE escalation_id = ? AND action = ?`, id, tc.event); n != 1 {
					t.Errorf("%s events = %d, want 1", tc.event, n)
				}
			})
		})
	}
}

func TestAuditView(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		// A disclosure through the ordinary flow: bob helps alice, who shares her details.
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		gate := bottest.To(h.Press("bob", claim), "@alice")
		h.Press("alice", h.MustButton(gate, flows.ActAcceptShare))
		h.Now = bottest.Start.Add(48 * time.Hour)
		h.Command("carol", "flag", "member", "bob", "spam")

		seen := "Bob saw Alice's Address, Phone, Notes (with their consent; request #"
		cases := []struct {
			args       []string
			want, not  []string
			usageError bool
		}{
			{nil, []string{"Audit trail:", seen, "Carol · case.opened"}, nil, false},
			{[]string{"member", "bob"}, []string{"About Bob", seen, "claim.offered"}, []string{"Carol · case.opened"}, false},
			{[]string{"member", "<@carol>"}, []string{"About Carol", "Carol · case.opened"}, []string{" saw "}, false},
			{[]string{"since", "2026-11-24"}, []string{"Since 2026-11-24", "case.opened"}, []string{" saw ", "claim.offered"}, false},
			{[]string{"until", "2026-11-23"}, []string{seen}, []string{"case.opened"}, false},
			{[]string{"membre", "alice", "depuis", "2026-11-23", "jusqua", "2026-11-23"}, []string{seen}, []string{"case.opened"}, false},
			{[]string{"since", "yesterday"}, []string{"Usage: /tend audit"}, nil, true},
			{[]string{"since", "2026-11-25", "until", "2026-11-24"}, []string{"Usage: /tend audit"}, nil, true},
			{[]string{"member"}, []string{"Usage: /tend audit"}, nil, true},
			{[]string{"member", "nobody"}, []string{"don't know anyone called nobody"}, nil, true},
		}
		looks := 0
		for _, tc := range cases {
			sent := h.Command("maya", "audit", tc.args...)
			all := bottest.Dump(sent)
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("audit %v lacks %q:\n%s", tc.args, w, all)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(all, w) {
					t.Errorf("audit %v shows %q:\n%s", tc.args, w, all)
				}
			}
			if !tc.usageError {
				looks++
			}
			if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'audit.viewed' AND actor_member_id = ?`, memberID(t, db, "maya")); n != looks {
				t.Fatalf("after audit %v: %d audit.viewed rows, want %d", tc.args, n, looks)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'audit.viewed' AND subject = ?`, "member:"+strconv.FormatInt(memberID(t, db, "bob"), 10)); n != 1 {
			t.Errorf("looks at bob's trail = %d, want 1", n)
		}

		// A long trail shows the newest 30 and counts the rest.
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			for i := 0; i < 40; i++ {
				if err := tx.Audit(context.Background(), h.Community, 0, "test.filler", "community:1", ""); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sent := h.Command("maya", "journal")
		lines := strings.Count(bottest.Dump(sent), " · ")
		total := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log`) - 1 + storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures`)
		if !bottest.Contains(sent, "and "+strconv.Itoa(total-30)+" more") || lines < 30 {
			t.Fatalf("long trail (%d in all):\n%s", total, bottest.Dump(sent))
		}
	})
}
