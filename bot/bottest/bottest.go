// Package bottest is a fake adapter and a harness that drive the bot the way a platform
// would: events in, messages out, recorded with where each one went.
package bottest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// Platform and Workspace name the fake space.
const (
	Platform   = "fake"
	Workspace  = "ws1"
	Board      = "board"
	Moderators = "mods"
)

// Platform2 and Workspace2 name a second fake platform bound to the same community
// (AddPlatform), for one person's accounts on two platforms.
const (
	Platform2  = "fake2"
	Workspace2 = "ws2"
)

// Sent is one message the bot handed to the fake adapter.
type Sent struct {
	// Platform is the fake platform it went out on.
	Platform string
	Dest     bot.Destination
	Msg      bot.Rendered
	ID       string
	Edit     bool
	// Reply marks a message that answered the interaction rather than the outbox.
	Reply bool
}

// Text is the whole rendered message as one string, for assertions.
func (s Sent) Text() string {
	var b strings.Builder
	b.WriteString(s.Msg.Title)
	for _, l := range s.Msg.Body {
		b.WriteString("\n" + l)
	}
	for _, f := range s.Msg.Fields {
		b.WriteString("\n" + f.Label + ": " + f.Value)
	}
	for _, bt := range s.Msg.Buttons {
		b.WriteString("\n[" + bt.Label + "]")
	}
	return b.String()
}

// Button finds a button by action.
func (s Sent) Button(action string) (bot.RenderedButton, bool) {
	for _, b := range s.Msg.Buttons {
		if b.Action == action {
			return b, true
		}
	}
	return bot.RenderedButton{}, false
}

// Public reports whether everyone in the channel could read it.
func (s Sent) Public() bool { return s.Dest.Kind == bot.DestChannel && s.Dest.ChannelID == Board }

// Fake is an adapter that records what it is asked to send.
type Fake struct {
	mu      sync.Mutex
	n       int
	sent    []Sent
	history []Sent
	fail    func(bot.Delivery) error
	keys    map[string]int
	// name is the platform it plays; "" is Platform.
	name string
}

// FailWith makes every delivery first ask f, which may return an error to simulate a
// platform refusing (nil lets it through). FailWith(nil) heals.
func (f *Fake) FailWith(fn func(bot.Delivery) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

// Deliveries counts accepted deliveries per idempotency key.
func (f *Fake) Deliveries() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.keys {
		out[k] = v
	}
	return out
}

// accept runs the failure hook and counts the key; the caller holds the lock.
func (f *Fake) accept(d bot.Delivery) error {
	if f.fail != nil {
		if err := f.fail(d); err != nil {
			return err
		}
	}
	if f.keys == nil {
		f.keys = map[string]int{}
	}
	f.keys[d.Key]++
	return nil
}

// Platform is the fake platform's name.
func (f *Fake) Platform() string {
	if f.name != "" {
		return f.name
	}
	return Platform
}

// CanDM is always true.
func (f *Fake) CanDM() bool { return true }

// Send records a message.
func (f *Fake) Send(_ context.Context, d bot.Delivery) (string, error) {
	to, msg := d.To, d.Msg
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.accept(d); err != nil {
		return "", err
	}
	f.n++
	id := fmt.Sprintf("msg%d", f.n)
	f.sent = append(f.sent, Sent{Platform: f.Platform(), Dest: to, Msg: msg, ID: id})
	f.history = append(f.history, f.sent[len(f.sent)-1])
	return id, nil
}

// Edit records an edit.
func (f *Fake) Edit(_ context.Context, d bot.Delivery, id string) error {
	to, msg := d.To, d.Msg
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.accept(d); err != nil {
		return err
	}
	f.sent = append(f.sent, Sent{Platform: f.Platform(), Dest: to, Msg: msg, ID: id, Edit: true})
	f.history = append(f.history, f.sent[len(f.sent)-1])
	return nil
}

// Reply records an interaction's reply as messages only the actor sees.
func (f *Fake) Reply(ev bot.Event, r bot.Reply) {
	to := bot.Destination{Kind: bot.DestEphemeral, Workspace: ev.Workspace, ChannelID: ev.ChannelID, UserID: ev.UserID, UserName: ev.UserName}
	if r.InDM || ev.InDM {
		to = bot.Destination{Kind: bot.DestDM, Workspace: ev.Workspace, UserID: ev.UserID, UserName: ev.UserName}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range r.Messages {
		f.sent = append(f.sent, Sent{Platform: f.Platform(), Dest: to, Msg: m, Reply: true})
		f.history = append(f.history, f.sent[len(f.sent)-1])
	}
}

// Take returns and forgets what was sent since the last Take.
func (f *Fake) Take() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

// History returns everything ever sent, Take or not.
func (f *Fake) History() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.history...)
}

// All returns everything recorded since the last Take without forgetting it.
func (f *Fake) All() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.sent...)
}

// H is a running bot on a test database with one community bound to the fake space.
type H struct {
	T         testing.TB
	DB        *store.DB
	App       *bot.App
	Fake      *Fake
	Catalog   *catalog.Catalog
	Community int64
	Now       time.Time
	n         int
	mods      map[string]bool
	vetted    map[string]bool
	// Log collects every log line the bot wrote, for privacy checks.
	Log *strings.Builder
	// Second is the adapter of the second platform, once AddPlatform has bound it.
	Second *Fake
	setup  store.CommunitySetup
}

// Start is the harness's fixed "now": Monday 23 November 2026, 10:00 in Montréal.
var Start = time.Date(2026, 11, 23, 10, 0, 0, 0, mustZone("America/Toronto"))

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// New sets up the community "test" (English unless locale says otherwise) on db.
func New(t testing.TB, db *store.DB, locale string) *H {
	t.Helper()
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	h := &H{T: t, DB: db, Fake: &Fake{}, Catalog: cat, Now: Start, mods: map[string]bool{"maya": true}, vetted: map[string]bool{}, Log: &strings.Builder{}}
	db.SetClock(func() time.Time { return h.Now })
	ctx := context.Background()
	setup := store.CommunitySetup{
		Community: store.Community{Slug: "test", Name: "Test Neighbours", Locale: locale, Timezone: "America/Toronto", Region: "CA", RetentionDays: 30, PrivacyOfficer: "Maya <privacy@example.org>"},
		Categories: []store.Category{
			{Key: "ride", Risk: "high", Tier: "vetted"}, {Key: "meal", Risk: "low", Tier: "volunteer"},
			{Key: "groceries", Risk: "low", Tier: "volunteer"}, {Key: "visit", Risk: "high", Tier: "vetted"},
			{Key: "call", Risk: "low", Tier: "volunteer"}, {Key: "errand", Risk: "low", Tier: "volunteer"},
			{Key: "grief_circle", Risk: "medium", Tier: "volunteer"},
		},
		Bindings: []store.Binding{{Platform: Platform, Workspace: Workspace, BoardChannel: Board, ModeratorsChannel: Moderators}},
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		h.Community, err = tx.ApplyCommunity(ctx, setup)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	h.setup = setup
	h.App = bot.New(bot.Options{DB: db, Catalog: cat, Logger: newLogger(h.Log), Roles: func(_ int64, platform, user string) (bool, bool) {
		return h.mods[user], h.vetted[user]
	}})
	h.App.Attach(h.Fake)
	return h
}

// AddPlatform binds a second fake platform (Platform2, Workspace2, with its own board
// and moderators' channels) to the same community and attaches its adapter, so one
// person can act from two platforms. It returns that adapter.
func (h *H) AddPlatform() *Fake {
	h.T.Helper()
	if h.Second != nil {
		return h.Second
	}
	ctx := context.Background()
	h.setup.Bindings = append(h.setup.Bindings, store.Binding{Platform: Platform2, Workspace: Workspace2, BoardChannel: Board, ModeratorsChannel: Moderators})
	if err := h.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ApplyCommunity(ctx, h.setup)
		return err
	}); err != nil {
		h.T.Fatal(err)
	}
	h.Second = &Fake{name: Platform2}
	h.App.Attach(h.Second)
	return h.Second
}

// Event sends one event as the named user and returns what the bot sent because of it.
// The event is in the fake space unless it names another workspace.
func (h *H) Event(user string, ev bot.Event) []Sent {
	h.T.Helper()
	return h.EventOn(Platform, user, ev)
}

// EventOn is Event on a given fake platform (Platform, or Platform2 after AddPlatform).
// It returns what went out on every fake platform.
func (h *H) EventOn(platform, user string, ev bot.Event) []Sent {
	h.T.Helper()
	h.n++
	ev.ID = fmt.Sprintf("ev%d", h.n)
	ev.Platform = platform
	if ev.Workspace == "" {
		ev.Workspace = Workspace
		if platform == Platform2 {
			ev.Workspace = Workspace2
		}
	}
	ev.UserID, ev.UserName = user, strings.ToUpper(user[:1])+user[1:]
	if ev.ChannelID == "" && !ev.InDM {
		ev.ChannelID = Board
	}
	if ev.InDM {
		ev.ChannelID = "dm-" + user
	}
	ev.ReceivedAt = h.Now
	if err := h.Deliver(context.Background(), ev); err != nil {
		h.T.Fatalf("%s: handle %s: %v", user, ev.Kind, err)
	}
	sent := h.Fake.Take()
	if h.Second != nil {
		sent = append(sent, h.Second.Take()...)
	}
	return sent
}

// Deliver hands an event to the bot the way a platform adapter does: the reply goes
// back where the person acted, then everything committed for sending is delivered.
func (h *H) Deliver(ctx context.Context, ev bot.Event) error {
	reply, err := h.App.Handle(ctx, ev)
	if h.Second != nil && ev.Platform == Platform2 {
		h.Second.Reply(ev, reply)
	} else {
		h.Fake.Reply(ev, reply)
	}
	if err != nil {
		return err
	}
	return h.App.Flush(ctx)
}

// Command runs "/tend <cmd> <args...>" in the board channel.
func (h *H) Command(user, cmd string, args ...string) []Sent {
	h.T.Helper()
	return h.Event(user, bot.Event{Kind: bot.EventCommand, Command: cmd, Args: args})
}

// CommandOn runs "/tend <cmd> <args...>" in the board channel of a given platform.
func (h *H) CommandOn(platform, user, cmd string, args ...string) []Sent {
	h.T.Helper()
	return h.EventOn(platform, user, bot.Event{Kind: bot.EventCommand, Command: cmd, Args: args})
}

// PressOn presses a button on a given platform.
func (h *H) PressOn(platform, user string, b bot.RenderedButton) []Sent {
	h.T.Helper()
	return h.EventOn(platform, user, bot.Event{Kind: bot.EventButton, Action: b.Action, Payload: b.Payload})
}

// JoinOn makes user on a given platform a member by accepting the privacy notice.
func (h *H) JoinOn(platform, user string) {
	h.T.Helper()
	b, ok := FindButton(h.CommandOn(platform, user, "help"), flows.ActNoticeAccept)
	if !ok {
		h.T.Fatalf("%s on %s was not shown the privacy notice", user, platform)
	}
	h.PressOn(platform, user, b)
}

// Press presses a button.
func (h *H) Press(user string, b bot.RenderedButton) []Sent {
	h.T.Helper()
	return h.Event(user, bot.Event{Kind: bot.EventButton, Action: b.Action, Payload: b.Payload})
}

// PressAction presses a button made up from an action and payload (a forged or stale one).
func (h *H) PressAction(user, action, payload string) []Sent {
	h.T.Helper()
	return h.Event(user, bot.Event{Kind: bot.EventButton, Action: action, Payload: payload})
}

// DM writes a direct message to the bot.
func (h *H) DM(user, text string) []Sent {
	h.T.Helper()
	return h.Event(user, bot.Event{Kind: bot.EventText, Text: text, InDM: true})
}

// Submit submits a whole form at once, as a modal would.
func (h *H) Submit(user, form, payload string, values map[string]string) []Sent {
	h.T.Helper()
	return h.Event(user, bot.Event{Kind: bot.EventForm, FormID: form, FormPayload: payload, Values: values})
}

// Leave is the platform saying user left the space or was removed (a member-left event).
func (h *H) Leave(user string) []Sent {
	h.T.Helper()
	return h.Event(user, bot.Event{Kind: bot.EventMemberLeft})
}

// Join makes user a member by accepting the privacy notice.
func (h *H) Join(user string) {
	h.T.Helper()
	sent := h.Command(user, "help")
	b, ok := FindButton(sent, flows.ActNoticeAccept)
	if !ok {
		h.T.Fatalf("%s was not shown the privacy notice", user)
	}
	h.Press(user, b)
}

// Volunteer makes user a member and a volunteer.
func (h *H) Volunteer(user, categories, areas, days string) {
	h.T.Helper()
	h.Join(user)
	h.Submit(user, flows.FormVolunteer, "", map[string]string{"categories": categories, "areas": areas, "days": days})
}

// Vet records a vetting for user by the moderator maya.
func (h *H) Vet(user string) {
	h.T.Helper()
	if sent := h.Command("maya", "vet", user); len(sent) == 0 {
		h.T.Fatalf("vetting %s sent nothing", user)
	}
}

// Ask submits an ask form for user with sensible defaults overridden by values.
func (h *H) Ask(user string, values map[string]string) []Sent {
	h.T.Helper()
	v := map[string]string{"category": "ride", "when": "thursday 13:00", "until": "16:00", "area": "Rosemont",
		"summary": "Ride to chemotherapy at the Jewish General", "address": "12 Rue Rachel Est, apt 3", "phone": "514-555-0199",
		"notes": "Walker; needs help with the front steps", "show_name": "name", "may_share": "yes"}
	for k, x := range values {
		v[k] = x
	}
	return h.Submit(user, flows.FormAsk, "", v)
}

// To filters messages by where they went: "#board", "#mods", "@alice" (DM), "~alice"
// (ephemeral to alice).
func To(sent []Sent, where string) []Sent {
	var out []Sent
	for _, s := range sent {
		if Where(s) == where {
			out = append(out, s)
		}
	}
	return out
}

// Where names a message's destination the way To expects.
func Where(s Sent) string {
	switch s.Dest.Kind {
	case bot.DestChannel:
		return "#" + s.Dest.ChannelID
	case bot.DestDM:
		return "@" + s.Dest.UserID
	default:
		return "~" + s.Dest.UserID
	}
}

// FindButton finds the first button with an action among messages.
func FindButton(sent []Sent, action string) (bot.RenderedButton, bool) {
	for _, s := range sent {
		if b, ok := s.Button(action); ok {
			return b, true
		}
	}
	return bot.RenderedButton{}, false
}

// MustButton is FindButton that fails the test when there is none.
func (h *H) MustButton(sent []Sent, action string) bot.RenderedButton {
	h.T.Helper()
	b, ok := FindButton(sent, action)
	if !ok {
		h.T.Fatalf("no %q button in:\n%s", action, Dump(sent))
	}
	return b
}

// Dump prints messages for failure output.
func Dump(sent []Sent) string {
	var b strings.Builder
	for _, s := range sent {
		edit := ""
		if s.Edit {
			edit = " (edit " + s.ID + ")"
		}
		fmt.Fprintf(&b, "[%s]%s %s\n", Where(s), edit, strings.ReplaceAll(s.Text(), "\n", " | "))
	}
	return b.String()
}

// Contains reports whether any message contains all of the substrings.
func Contains(sent []Sent, subs ...string) bool {
	for _, s := range sent {
		t := s.Text()
		ok := true
		for _, sub := range subs {
			if !strings.Contains(t, sub) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// OpenRequests writes n open single-slot meal requests by requester, as the ask flow
// would (with a sealed private part), three days after Start, and returns their slots.
func (h *H) OpenRequests(requester int64, n int) []int64 {
	h.T.Helper()
	ctx := context.Background()
	starts := Start.Add(72 * time.Hour).Unix()
	slots := make([]int64, 0, n)
	if err := h.DB.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			id, err := tx.CreateRequest(ctx, store.NewRequest{CommunityID: h.Community, RequesterID: requester, Category: "meal",
				Summary: "Soup for two", Area: "Rosemont", StartsAt: starts, EndsAt: starts + 3600, ShowName: true, MayShare: true,
				Slots: 1, Private: store.Private{Address: "12 Rue Rachel Est", Phone: "514-555-0199"}})
			if err != nil {
				return err
			}
			ss, err := tx.SlotsOfRequest(ctx, id)
			if err != nil {
				return err
			}
			slots = append(slots, ss[0].ID)
		}
		return nil
	}); err != nil {
		h.T.Fatal(err)
	}
	return slots
}
