// Package adaptertest is the contract every platform adapter passes: a whole exchange
// (ask, two helpers press, one claim, accept with sharing, private details only in the
// helper's DM, done) driven through the platform's own wire format, asserting what each
// person saw and where.
package adaptertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// Seen is one message a person could see, decoded from the platform's wire format.
type Seen struct {
	// Where is "#<channel>" for a channel, "@<user>" for a DM to user, "~<user>" for a
	// message only user sees in a channel.
	Where   string
	Text    string
	Buttons []Button
	// Edit marks an update of an earlier message.
	Edit bool
}

// Button is a button as the platform showed it; Ref is whatever the driver needs to
// press it (a message ts, a block id).
type Button struct {
	Label   string
	Action  string
	Payload string
	Ref     any
}

// Driver plays people on one platform through its wire protocol.
type Driver interface {
	// Adapter is the adapter under test, for the bot to send through.
	Adapter() bot.Adapter
	// Connect starts taking events from the platform side and handing them to h.
	Connect(t *testing.T, h bot.Handler)
	// Workspace and Board name the space the community is bound to.
	Workspace() string
	Board() string
	// UserID maps a person's name ("alice") to the platform's user id.
	UserID(name string) string
	// Command types "/tend <text>" in the board channel.
	Command(t *testing.T, user, text string)
	// Submit opens the form of "/tend <command>" and submits values, the platform's way
	// (a modal, or the DM dialogue).
	Submit(t *testing.T, user, command string, values map[string]string)
	// Press presses a button the person saw.
	Press(t *testing.T, user string, b Button)
	// Seen is everything delivered so far, in order.
	Seen() []Seen
	// Leave makes the person leave the space (or be removed from it) and sends the
	// platform's member-left event, returning once the bot has handled it.
	Leave(t *testing.T, user string)
}

// ServerModerators is a driver whose platform names the moderators' channel itself (a
// server-made id); others use the channel id "moderators".
type ServerModerators interface {
	Moderators() string
}

// start runs a bot with the driver's adapter on db, and returns step, which does one
// thing and delivers what it committed, and since, what was seen since it last asked.
func start(t *testing.T, db *store.DB, d Driver, roles bot.Roles) (step func(what string, fn func()), since func() []Seen) {
	t.Helper()
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	app := bot.New(bot.Options{DB: db, Catalog: cat, Roles: roles})
	app.Attach(d.Adapter())
	d.Connect(t, app)
	step = func(what string, fn func()) {
		t.Helper()
		fn()
		if err := app.Flush(context.Background()); err != nil {
			t.Fatalf("%s: flush: %v", what, err)
		}
	}
	mark := 0
	since = func() []Seen {
		all := d.Seen()
		out := all[mark:]
		mark = len(all)
		return out
	}
	return step, since
}

// moderators is the moderators' channel of the driver's space.
func moderators(d Driver) string {
	if m, ok := d.(ServerModerators); ok {
		return m.Moderators()
	}
	return "moderators"
}

// Run plays the contract on db with the driver.
func Run(t *testing.T, db *store.DB, d Driver) {
	t.Helper()
	ctx := context.Background()
	platform := d.Adapter().Platform()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, mustZone(t, "America/Toronto"))
	db.SetClock(func() time.Time { return now })
	var community int64
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		community, err = tx.ApplyCommunity(ctx, store.CommunitySetup{
			Community:  store.Community{Slug: "contract", Name: "Contract Neighbours", Locale: "en", Timezone: "America/Toronto", RetentionDays: 30},
			Categories: []store.Category{{Key: "ride", Risk: "high", Tier: "vetted"}, {Key: "meal", Risk: "low", Tier: "volunteer"}},
			Bindings:   []store.Binding{{Platform: platform, Workspace: d.Workspace(), BoardChannel: d.Board(), ModeratorsChannel: moderators(d)}},
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	maya := d.UserID("maya")
	step, since := start(t, db, d, func(c int64, p, u string) (bool, bool) {
		return c == community && p == platform && u == maya, false
	})
	where := func(user string) (dm, eph string) { return "@" + d.UserID(user), "~" + d.UserID(user) }

	for _, u := range []string{"alice", "bob", "carol", "maya"} {
		step(u+" opens tend", func() { d.Command(t, u, "help") })
		accept := mustButton(t, since(), flows.ActNoticeAccept, u+" privacy notice")
		step(u+" accepts", func() { d.Press(t, u, accept) })
		since()
	}
	for _, u := range []string{"bob", "carol"} {
		step(u+" volunteers", func() {
			d.Submit(t, u, "volunteer", map[string]string{"categories": "ride, meal", "areas": "any", "days": "any"})
		})
		step("maya vets "+u, func() { d.Command(t, "maya", "vet "+d.UserID(u)) })
	}
	since()

	step("alice asks", func() {
		d.Submit(t, "alice", "ask", map[string]string{"category": "ride", "when": "thursday 13:00", "until": "16:00",
			"area": "Rosemont", "summary": "Ride to chemotherapy", "address": "12 Rue Rachel Est", "phone": "514-555-0199",
			"notes": "Walker", "show_name": "name", "may_share": "yes", "follow_up": "no"})
	})
	seen := since()
	board := in(seen, "#"+d.Board())
	if !contains(board, "Ride to chemotherapy") {
		t.Fatalf("the board did not get the request:\n%s", dump(seen))
	}
	claim := mustButton(t, board, flows.ActClaim, "board card")

	step("bob presses", func() { d.Press(t, "bob", claim) })
	seen = since()
	bobDM, bobEph := where("bob")
	if !contains(append(in(seen, bobEph), in(seen, bobDM)...), "asked Alice to confirm") {
		t.Fatalf("bob was not thanked:\n%s", dump(seen))
	}
	aliceDM, _ := where("alice")
	gate := in(seen, aliceDM)
	share := mustButton(t, gate, flows.ActAcceptShare, "alice's consent gate")

	step("carol presses", func() { d.Press(t, "carol", claim) })
	seen = since()
	carolDM, carolEph := where("carol")
	if !contains(append(in(seen, carolEph), in(seen, carolDM)...), "already helping") {
		t.Fatalf("carol was not told it is taken:\n%s", dump(seen))
	}

	step("alice accepts bob and shares", func() { d.Press(t, "alice", share) })
	seen = since()
	bobSaw := in(seen, bobDM)
	if !contains(bobSaw, "12 Rue Rachel Est") || !contains(bobSaw, "514-555-0199") {
		t.Fatalf("bob did not receive the details in his DM:\n%s", dump(seen))
	}
	done := mustButton(t, bobSaw, flows.ActDone, "bob's match")

	step("bob marks it done", func() { d.Press(t, "bob", done) })
	seen = since()
	if !contains(in(seen, aliceDM), "marked") || !contains(in(seen, "#"+d.Board()), "Done") {
		t.Fatalf("done was not announced:\n%s", dump(seen))
	}

	leaveCase(t, d, step, since)

	// The private details went to bob's DM and nowhere else, ever.
	for _, s := range d.Seen() {
		for _, secret := range []string{"12 Rue Rachel", "514-555-0199", "Walker"} {
			if strings.Contains(s.Text, secret) && s.Where != bobDM {
				t.Errorf("%q reached %s", secret, s.Where)
			}
		}
	}
}

// leaveCase: a helper leaves the space: the claim is handed back. Alice asks for a meal,
// carol offers and is accepted, then carol leaves: alice is told kindly, the board card
// has its claim button again, the moderators are told, and carol is sent nothing.
func leaveCase(t *testing.T, d Driver, step func(string, func()), since func() []Seen) {
	t.Helper()
	aliceDM := "@" + d.UserID("alice")
	step("alice asks for a meal", func() {
		d.Submit(t, "alice", "ask", map[string]string{"category": "meal", "when": "friday 12:00", "until": "13:00",
			"area": "Rosemont", "summary": "Soup for two", "show_name": "name", "may_share": "no", "follow_up": "no"})
	})
	claim := mustButton(t, in(since(), "#"+d.Board()), flows.ActClaim, "the meal's card")
	step("carol offers", func() { d.Press(t, "carol", claim) })
	accept := mustButton(t, in(since(), aliceDM), flows.ActAcceptOnly, "alice's consent gate for carol")
	step("alice accepts carol", func() { d.Press(t, "alice", accept) })
	since()

	step("carol leaves the space", func() { d.Leave(t, "carol") })
	seen := since()
	if !contains(in(seen, aliceDM), "Carol can no longer help with “Soup for two”") {
		t.Fatalf("alice was not told carol's place is free:\n%s", dump(seen))
	}
	board := in(seen, "#"+d.Board())
	if !contains(board, "Soup for two") || !contains(board, "open again") {
		t.Fatalf("the meal's card did not reopen:\n%s", dump(seen))
	}
	mustButton(t, board, flows.ActClaim, "the reopened card")
	if !contains(in(seen, "#"+moderators(d)), "Carol is no longer in the space") {
		t.Fatalf("the moderators were not told:\n%s", dump(seen))
	}
	for _, s := range seen {
		if s.Where == "@"+d.UserID("carol") || s.Where == "~"+d.UserID("carol") {
			t.Fatalf("carol is gone, yet was sent:\n%s", dump(seen))
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func in(seen []Seen, where string) []Seen {
	var out []Seen
	for _, s := range seen {
		if s.Where == where {
			out = append(out, s)
		}
	}
	return out
}

func contains(seen []Seen, sub string) bool {
	for _, s := range seen {
		if strings.Contains(s.Text, sub) {
			return true
		}
	}
	return false
}

func mustButton(t *testing.T, seen []Seen, action, what string) Button {
	t.Helper()
	for i := len(seen) - 1; i >= 0; i-- {
		for _, b := range seen[i].Buttons {
			if b.Action == action {
				return b
			}
		}
	}
	t.Fatalf("no %q button in %s:\n%s", action, what, dump(seen))
	return Button{}
}

func dump(seen []Seen) string {
	var b strings.Builder
	for _, s := range seen {
		fmt.Fprintf(&b, "[%s] %s", s.Where, strings.ReplaceAll(s.Text, "\n", " | "))
		for _, bt := range s.Buttons {
			fmt.Fprintf(&b, " [%s]", bt.Label)
		}
		b.WriteString("\n")
	}
	return b.String()
}
