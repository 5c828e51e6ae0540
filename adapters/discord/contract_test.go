package discord

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/adapters/discord/discordtest"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/adaptertest"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// The guild the tests play in.
const (
	testGuild = "800000000000000001"
	testBoard = "800000000000000010"
	testToken = "contract.token"
)

var testUsers = map[string]discordtest.User{
	"alice":  {ID: "700000000000000001", Username: "alice", GlobalName: "Alice"},
	"bob":    {ID: "700000000000000002", Username: "bob", GlobalName: "Bob"},
	"carol":  {ID: "700000000000000003", Username: "carol", GlobalName: "Carol"},
	"maya":   {ID: "700000000000000004", Username: "maya", GlobalName: "Maya"},
	"zoe":    {ID: "700000000000000005", Username: "zoe", GlobalName: "Zoe"},
	"olivia": {ID: "700000000000000006", Username: "olivia", GlobalName: "Olivia"},
	"nina":   {ID: "700000000000000007", Username: "nina", GlobalName: "Nina"},
	"nora":   {ID: "700000000000000008", Username: "nora", GlobalName: "Nora"},
}

// rig is the adapter connected to a fake Discord.
type rig struct {
	t   *testing.T
	srv *discordtest.Server
	ad  *Adapter
	// roles are each person's guild roles, sent with their interactions.
	roles map[string][]string
	// staleOK accepts presses on a button an edit has since removed: the contract has
	// a second helper press "I can help" on the card as it was before the first claim
	// updated it, as happens when two people press at once.
	staleOK bool
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	srv := discordtest.New(t, discordtest.Options{Token: testToken})
	cfg.Token, cfg.HTTPClient, cfg.Dialer = testToken, srv.Client(), srv.Dialer()
	ad, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ad.Register(context.Background(), testGuild); err != nil {
		t.Fatalf("register: %v", err)
	}
	return &rig{t: t, srv: srv, ad: ad, roles: map[string][]string{}}
}

// connect runs the adapter's gateway connection with h until the test ends.
func (r *rig) connect(h bot.Handler) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ad.Run(ctx, h) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("run: %v", err)
		}
		var problems []string
		for _, p := range r.srv.Problems() {
			if r.staleOK && strings.Contains(p, "has no component with that custom_id") {
				continue
			}
			problems = append(problems, p)
		}
		if len(problems) > 0 {
			r.t.Errorf("protocol problems:\n%s", strings.Join(problems, "\n"))
		}
	})
	r.srv.WaitSessions(r.t, 1)
}

// settle waits until the adapter has answered an interaction and nothing is running.
func (r *rig) settle(interaction string) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r.ad.busy.Load() == 0 && (interaction == "" || r.answered(interaction)) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatalf("interaction %s was not answered", interaction)
}

// waitFor waits for what the adapter does in the background.
func (r *rig) waitFor(cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			r.settle("")
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatal("waited in vain")
}

func (r *rig) answered(interaction string) bool {
	for _, c := range r.srv.Callbacks() {
		if c.InteractionID == interaction {
			return true
		}
	}
	return false
}

// command types "/tend <text>" in the board channel.
func (r *rig) command(user, text string) string {
	r.t.Helper()
	return r.commandIn(user, testBoard, text)
}

// commandIn types "/tend <text>" in a channel of the guild.
func (r *rig) commandIn(user, channel, text string) string {
	r.t.Helper()
	words := strings.Fields(text)
	sub, opts := "help", map[string]any{}
	if len(words) > 0 {
		sub = words[0]
	}
	switch sub {
	case "vet":
		if len(words) > 1 {
			opts["member"] = discordtest.UserOption{ID: words[1]}
		}
	case "volunteer":
		if len(words) > 1 {
			opts["state"] = words[1]
		}
	case "setup":
		if len(words) > 1 {
			opts["channel"] = words[1]
		}
	}
	id, _ := r.srv.Command(testGuild, channel, testUsers[user], r.roles[user], Command, sub, opts, "en-US")
	r.settle(id)
	return id
}

// press presses a button someone saw; ref is where.
func (r *rig) press(user string, ref buttonRef) string {
	r.t.Helper()
	guild := testGuild
	if ref.dm {
		guild = ""
	}
	id, _ := r.srv.Press(guild, ref.channel, testUsers[user], r.roles[user], ref.message, ref.customID, nil, "en-US")
	r.settle(id)
	return id
}

// submit opens a form with "/tend <command>" and answers it part after part, pressing
// "Continue" between the parts, as a person would.
func (r *rig) submit(user, command string, values map[string]string) {
	r.t.Helper()
	r.fill(user, testBoard, r.command(user, command), "", values)
}

// fill answers, part after part, the form whose first modal interaction opened in
// channel; form, when set, is the form the modals must belong to.
func (r *rig) fill(user, channel, interaction, form string, values map[string]string) {
	r.t.Helper()
	what := form
	if what == "" {
		what = "the form"
	}
	for part := 0; part < 10; part++ {
		md, ok := r.srv.Modal(interaction)
		for try := 0; !ok && try < 3; try++ {
			// The bot took longer than ReplyWithin: the answer, deferred, could not be a
			// modal, and offers a button that opens it.
			next, deferred := r.lastButton(interaction, idNext)
			if !deferred {
				break
			}
			interaction = r.press(user, next)
			md, ok = r.srv.Modal(interaction)
		}
		if !ok {
			r.t.Fatalf("%s: no modal opened (part %d)", what, part+1)
		}
		if kind, parts := splitID(md.CustomID); form != "" && (kind != idModal || len(parts) < 2 || parts[1] != form) {
			r.t.Fatalf("the modal %q is not form %s", md.CustomID, form)
		}
		in := map[string]string{}
		for _, f := range md.Fields {
			if v, ok := values[f.CustomID]; ok {
				in[f.CustomID] = v
			} else {
				in[f.CustomID] = f.Value
			}
		}
		id, _ := r.srv.SubmitModal(testGuild, channel, testUsers[user], r.roles[user], md.CustomID, in, "en-US")
		r.settle(id)
		next, ok := r.lastButton(id, idNext)
		if !ok {
			return
		}
		interaction = r.press(user, next)
	}
	r.t.Fatalf("%s never ended", what)
}

// buttonRef is what pressing a button takes: its message, channel and custom id.
type buttonRef struct {
	message, channel, customID string
	dm                         bool
}

// lastButton finds the adapter's own button (continue, fix) on an interaction's answer.
func (r *rig) lastButton(interaction, kind string) (buttonRef, bool) {
	msgs := r.srv.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.InteractionID != interaction {
			continue
		}
		for _, b := range m.Buttons {
			if k, _ := splitID(b.CustomID); k == kind {
				return buttonRef{message: m.ID, channel: m.ChannelID, customID: b.CustomID, dm: m.DMUser != ""}, true
			}
		}
	}
	return buttonRef{}, false
}

// seen decodes what the fake shows people into the contract's terms.
func (r *rig) seen() []adaptertest.Seen {
	var out []adaptertest.Seen
	for _, m := range r.srv.Messages() {
		if m.Deleted {
			continue
		}
		s := adaptertest.Seen{Text: m.Content, Edit: m.Edit}
		switch {
		case m.EphemeralTo != "":
			s.Where = "~" + m.EphemeralTo
		case m.DMUser != "":
			s.Where = "@" + m.DMUser
		default:
			s.Where = "#" + m.ChannelID
		}
		for _, b := range m.Buttons {
			kind, parts := splitID(b.CustomID)
			ab := adaptertest.Button{Label: b.Label, Ref: buttonRef{message: m.ID, channel: m.ChannelID, customID: b.CustomID, dm: m.DMUser != ""}}
			if kind == idButton && len(parts) == 3 {
				ab.Action, ab.Payload = parts[1], parts[2]
			}
			s.Buttons = append(s.Buttons, ab)
		}
		out = append(out, s)
	}
	return out
}

// contractDriver plays the adapter contract through Discord's wire format: people act
// with INTERACTION_CREATE events over the gateway, and what they see is decoded from the
// REST calls the adapter makes (channel and DM messages, interaction responses and
// follow-ups).
type contractDriver struct {
	r    *rig
	once sync.Once

	mu sync.Mutex
	// left counts the member-left events the bot has handled, by user id: a gateway
	// event comes with no answer to wait for.
	left map[string]int
}

func (d *contractDriver) Adapter() bot.Adapter { return d.r.ad }
func (d *contractDriver) Connect(t *testing.T, h bot.Handler) {
	d.once.Do(func() {
		d.r.connect(bot.HandlerFunc(func(ctx context.Context, ev bot.Event) (bot.Reply, error) {
			r, err := h.Handle(ctx, ev)
			if ev.Kind == bot.EventMemberLeft {
				d.mu.Lock()
				if d.left == nil {
					d.left = map[string]int{}
				}
				d.left[ev.UserID]++
				d.mu.Unlock()
			}
			return r, err
		}))
	})
}

func (d *contractDriver) lefts(user string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.left[user]
}

// Leave removes the person from the guild: the gateway sends GUILD_MEMBER_REMOVE (the
// adapter asks for the GUILD_MEMBERS intent with Config.MemberEvents).
func (d *contractDriver) Leave(t *testing.T, user string) {
	u := testUsers[user]
	before := d.lefts(u.ID)
	d.r.srv.MemberRemove(testGuild, u)
	d.r.waitFor(func() bool { return d.lefts(u.ID) > before })
}
func (d *contractDriver) Workspace() string                       { return testGuild }
func (d *contractDriver) Board() string                           { return testBoard }
func (d *contractDriver) UserID(name string) string               { return testUsers[name].ID }
func (d *contractDriver) Command(t *testing.T, user, text string) { d.r.command(user, text) }
func (d *contractDriver) Submit(t *testing.T, user, command string, values map[string]string) {
	d.r.submit(user, command, values)
}
func (d *contractDriver) Press(t *testing.T, user string, b adaptertest.Button) {
	d.r.press(user, b.Ref.(buttonRef))
}
func (d *contractDriver) Seen() []adaptertest.Seen { return d.r.seen() }

func TestContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, Config{MemberEvents: true})
		r.staleOK = true
		adaptertest.Run(t, db, &contractDriver{r: r})
	})
}
