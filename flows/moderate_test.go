package flows_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// modSetup is setup plus a crisis line of the community's own, so a worried reporter
// gets the community's resources before the region's.
func modSetup(t *testing.T, db *store.DB) *bottest.H {
	t.Helper()
	h := setup(t, db)
	if _, err := db.X.Exec(db.X.Rebind(`INSERT INTO crisis_resources (community_id, label, contact, position) VALUES (?, ?, ?, 0)`),
		h.Community, "Tel-Aide", "514-935-1101"); err != nil {
		t.Fatal(err)
	}
	return h
}

// modSealedNotes returns every sealed note of the case timelines, as stored.
func modSealedNotes(t *testing.T, db *store.DB) [][]byte {
	t.Helper()
	var notes [][]byte
	if err := db.X.Select(&notes, `SELECT note_ct FROM escalation_events WHERE note_ct IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	return notes
}

// modNotIn fails when any of the messages sent to where contains one of the strings.
func modNotIn(t *testing.T, sent []bottest.Sent, where string, subs ...string) {
	t.Helper()
	for _, s := range bottest.To(sent, where) {
		for _, sub := range subs {
			if strings.Contains(s.Text(), sub) {
				t.Errorf("%s received %q:\n%s", where, sub, s.Text())
			}
		}
	}
}

func TestWorriedGoesToModeratorsOnly(t *testing.T) {
	const note = "He hasn't left the house since the funeral"
	cases := []struct {
		name   string
		report func(h *bottest.H) []bottest.Sent
		sev    string
		note   bool
	}{
		{"command", func(h *bottest.H) []bottest.Sent { return h.Command("alice", "worried", "bob", "safety") }, "urgent", false},
		{"mention in French", func(h *bottest.H) []bottest.Sent { return h.Command("alice", "inquiète", "<@bob>", "santé") }, "normal", false},
		{"form", func(h *bottest.H) []bottest.Sent {
			return h.Submit("alice", flows.FormWorried, "", map[string]string{"who": "@bob", "reason": "wellbeing", "note": note})
		}, "normal", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := modSetup(t, db)
				sent := tc.report(h)
				mods := bottest.To(sent, "#mods")
				if len(mods) != 1 || !bottest.Contains(mods, "A member is worried about Bob", "[Contact]", "[Resolve]") {
					t.Fatalf("moderators' card:\n%s", bottest.Dump(sent))
				}
				if bottest.Contains(mods, "[Suspend]") {
					t.Errorf("a worry offers to suspend the person:\n%s", bottest.Dump(mods))
				}
				modNotIn(t, sent, "#mods", "Alice", note)
				if n := len(bottest.To(sent, "@bob")) + len(bottest.To(sent, "#board")); n != 0 {
					t.Fatalf("the person named or the board was told:\n%s", bottest.Dump(sent))
				}
				mine := bottest.To(sent, "~alice")
				if !bottest.Contains(mine, "Thank you for looking out for them", "Tel-Aide: 514-935-1101", "9-8-8", "look after yourself") {
					t.Fatalf("reporter's answer:\n%s", bottest.Dump(sent))
				}
				if lines := strings.Count(mine[0].Text(), ": "); lines > 4 {
					t.Errorf("more than three resources:\n%s", mine[0].Text())
				}
				if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations WHERE source = 'worried' AND reporter_id = ? AND member_id = ? AND severity = ?`,
					memberID(t, db, "alice"), memberID(t, db, "bob"), tc.sev); n != 1 {
					t.Fatalf("worried cases = %d", n)
				}
				for _, ct := range modSealedNotes(t, db) {
					if bytes.Contains(ct, []byte("funeral")) {
						t.Fatal("the reporter's note is stored in clear")
					}
				}
				if tc.note && len(modSealedNotes(t, db)) != 1 {
					t.Fatal("the reporter's note was not kept")
				}

				// Telling them again opens nothing new, and still answers with resources.
				sent = h.Command("alice", "worried", "bob", "safety")
				if len(bottest.To(sent, "#mods")) != 0 || !bottest.Contains(bottest.To(sent, "~alice"), "already told the moderators", "9-8-8") {
					t.Fatalf("second report:\n%s", bottest.Dump(sent))
				}
				if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations`); n != 1 {
					t.Fatalf("cases = %d, want 1", n)
				}
				// A note given the second time joins the open case, sealed.
				h.Submit("alice", flows.FormWorried, "", map[string]string{"who": "bob", "reason": "health", "note": "He missed the funeral lunch"})
				if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalation_events WHERE action = 'noted' AND note_ct IS NOT NULL`); n != 1 ||
					storetest.Count(t, db, `SELECT COUNT(*) FROM escalations`) != 1 {
					t.Fatalf("second note: %d noted events", n)
				}
				for _, ct := range modSealedNotes(t, db) {
					if bytes.Contains(ct, []byte("funeral")) {
						t.Fatal("a note is stored in clear")
					}
				}
			})
		})
	}
}

func TestWorriedAsksAndRefuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		// Without a reason, a form asks (here as a direct-message dialogue).
		if sent := h.Command("alice", "worried", "bob"); !bottest.Contains(bottest.To(sent, "@alice"), "worried about") {
			t.Fatalf("no form:\n%s", bottest.Dump(sent))
		}
		h.Command("alice", "cancel")
		if sent := h.Command("alice", "worried", "nobody", "safety"); !bottest.Contains(sent, "I don't know anyone called nobody") {
			t.Fatalf("unknown name:\n%s", bottest.Dump(sent))
		}
		sent := h.Submit("alice", flows.FormWorried, "", map[string]string{"who": "nobody", "reason": "safety"})
		if !bottest.Contains(sent, "I don't know anyone called nobody") {
			t.Fatalf("unknown name in the form:\n%s", bottest.Dump(sent))
		}
		// A platform mention names a real account: someone who has not joined yet.
		sent = h.Command("alice", "worried", "<@zoe>", "wellbeing")
		if !bottest.Contains(bottest.To(sent, "#mods"), "someone who hasn't joined (account zoe)") {
			t.Fatalf("worry about someone who has not joined:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations WHERE member_id IS NULL AND platform_user_id = 'zoe'`); n != 1 {
			t.Fatalf("cases about zoe = %d", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE platform_user_id = 'zoe'`); n != 0 {
			t.Fatal("zoe became a member")
		}
	})
}

// modRequestID is the id of the newest request.
func modRequestID(t *testing.T, db *store.DB) string {
	t.Helper()
	return strconv.Itoa(storetest.Count(t, db, `SELECT MAX(id) FROM requests`))
}

func modCaseID(t *testing.T, db *store.DB) string {
	t.Helper()
	return strconv.Itoa(storetest.Count(t, db, `SELECT MAX(id) FROM escalations`))
}

func TestFlagHidesTheReporter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		h.Ask("alice", nil)
		h.Fake.Take()
		req := modRequestID(t, db)

		sent := h.Command("carol", "flag", "request", req, "unsafe")
		mods := bottest.To(sent, "#mods")
		if !bottest.Contains(mods, "About request #"+req, "Ride to chemotherapy", "Raised by a member", "Unsafe", "[Hide]") {
			t.Fatalf("moderators' card:\n%s", bottest.Dump(sent))
		}
		modNotIn(t, sent, "#mods", "Carol")
		if n := len(bottest.To(sent, "@alice")) + len(bottest.To(sent, "#board")); n != 0 {
			t.Fatalf("the requester or the board was told:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "~carol"), "never shown to the person concerned") {
			t.Fatalf("reporter's thanks:\n%s", bottest.Dump(sent))
		}

		// The same reporter again: one case.
		if sent := h.Command("carol", "flag", "request", req, "spam"); !bottest.Contains(sent, "already flagged") || len(bottest.To(sent, "#mods")) != 0 {
			t.Fatalf("duplicate flag:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations WHERE source = 'flag'`); n != 1 {
			t.Fatalf("flag cases = %d, want 1", n)
		}

		// Contacting the requester never says who flagged.
		sent = h.Press("maya", h.MustButton(mods, flows.ActModContact))
		alice := bottest.To(sent, "@alice")
		if !bottest.Contains(alice, "A moderator would like to check in with you") {
			t.Fatalf("contact:\n%s", bottest.Dump(sent))
		}
		modNotIn(t, sent, "@alice", "Carol", "flag", "Unsafe")
		modNotIn(t, h.Fake.History(), "#board", "Carol")

		// The case details name the reporter, for moderators.
		if sent := h.Command("maya", "case", modCaseID(t, db)); !bottest.Contains(sent, "Raised by: Carol") || !bottest.Contains(sent, "Maya · contacted the person") {
			t.Fatalf("case details:\n%s", bottest.Dump(sent))
		}
	})
}

func TestFlagPicksAReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := modSetup(t, db)
		sent := h.Command("carol", "flag", "member", "@bob")
		pick := bottest.To(sent, "~carol")
		if len(pick) != 1 || pick[0].Msg.Choice == nil || pick[0].Msg.Choice.Action != flows.ActFlagPick || len(pick[0].Msg.Choice.Options) != 4 {
			t.Fatalf("no choice of reasons:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations`); n != 0 {
			t.Fatal("a case was opened before a reason was picked")
		}
		spam := pick[0].Msg.Choice.Options[2]
		sent = h.Event("carol", bot.Event{Kind: bot.EventButton, Action: flows.ActFlagPick, Value: spam.Value})
		if !bottest.Contains(bottest.To(sent, "#mods"), "About a member: Bob", "Spam", "[Suspend]") || len(bottest.To(sent, "@bob")) != 0 {
			t.Fatalf("flag on a member:\n%s", bottest.Dump(sent))
		}
		// Twice, or from a stale menu: still one case.
		h.Event("carol", bot.Event{Kind: bot.EventButton, Action: flows.ActFlagPick, Value: spam.Value})
		h.Command("carol", "signaler", "membre", "bob", "pourriel")
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM escalations WHERE subject_kind = 'member' AND reason = 'spam'`); n != 1 {
			t.Fatalf("cases = %d, want 1", n)
		}
		for _, tc := range []struct {
			user string
			args []string
			want string
		}{
			{"carol", []string{"member", "carol", "spam"}, "That's your own"},
			{"carol", []string{"request", "999", "spam"}, "can't find 999"},
			{"carol", []string{"nonsense"}, "Usage: /tend flag"},
			{"carol", []string{"member", "nobody"}, "don't know anyone called nobody"},
		} {
			if sent := h.Command(tc.user, "flag", tc.args...); !bottest.Contains(sent, tc.want) {
				t.Errorf("flag %v:\n%s", tc.args, bottest.Dump(sent))
			}
		}
	})
}

func TestFlagInFrench(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "fr")
		h.Join("alice")
		h.Join("carol")
		h.Fake.Take()
		sent := h.Command("carol", "signaler", "membre", "alice")
		if !bottest.Contains(sent, "Pourquoi signalez-vous ceci?") {
			t.Fatalf("French pick:\n%s", bottest.Dump(sent))
		}
		sent = h.Command("carol", "signaler", "membre", "alice", "inapproprie")
		if !bottest.Contains(bottest.To(sent, "#mods"), "Au sujet d'un membre : Alice", "Inapproprié", "[Suspendre]") {
			t.Fatalf("French case card:\n%s", bottest.Dump(sent))
		}
	})
}
