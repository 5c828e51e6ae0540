package mattermost

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/adapters/console"
	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// One community, two platforms: the hospice staff on Mattermost and the neighbours on
// the console, both adapters attached to one bot in one process, over one store. Alice
// (Mattermost) asks and shares her request with the community's other spaces; bob (on
// the console only) claims it from the console's board; alice accepts and shares: the
// details reach bob's direct messages on the console and nowhere else, and both boards
// show the request matched, edited in place.
func TestCrossPlatform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		x := newCross(t, db)
		x.mmJoin("alice")
		x.line("bob: /tend")
		x.line("bob: !press " + x.button("[~bob]", "I accept"))
		x.line("bob: /tend volunteer")
		for _, answer := range []string{"meal, call", "any", "any"} {
			x.line("bob@: " + answer)
		}
		if !strings.Contains(x.con.since(), "[@bob]") {
			t.Fatal("bob's volunteering went unanswered")
		}

		// Not shared: the console sees nothing of it, bob is not told.
		x.mmAsk("alice", "Soup kept here", "14 Private Lane", "here")
		if got := x.con.since(); got != "" {
			t.Fatalf("a request kept to Mattermost reached the console:\n%s", got)
		}
		if !x.mmBoardHas("Soup kept here") {
			t.Fatal("the request is not on the Mattermost board")
		}

		// Shared: on both boards, and bob hears of it on his platform.
		x.mmAsk("alice", "Soup for Thursday", "9 Rue Secrète", flows.SpacesAll)
		out := x.con.since()
		if !regexp.MustCompile(`\[#board\] Meal: Soup for Thursday`).MatchString(out) || !strings.Contains(out, "[@bob] A request that matches") {
			t.Fatalf("the shared request did not reach the console:\n%s", out)
		}
		claim := x.buttonIn(out, "[#board]", "I can help")
		mmCard := x.mmBoardPost("Soup for Thursday")

		x.line("bob: !press " + claim)
		out = x.con.since()
		if !strings.Contains(out, "[~bob] Thank you!") || !strings.Contains(out, "[#board] (updated") {
			t.Fatalf("bob's claim on the console:\n%s", out)
		}
		x.settle()
		gate, ok := x.mmButton("@"+x.r.users["alice"], flows.ActAcceptShare)
		if !ok {
			t.Fatalf("alice was not asked to accept bob:\n%s", x.mmDump())
		}

		x.step(func() { x.r.press("alice", gate, "") })
		out = x.con.since()
		bobSaw := tagged(out, "[@bob]")
		if !strings.Contains(bobSaw, "Alice accepted your help") || !strings.Contains(bobSaw, "9 Rue Secrète") || !strings.Contains(bobSaw, "514-555-0111") {
			t.Fatalf("bob did not get the details in his DM on the console:\n%s", out)
		}
		if b := tagged(out, "[#board]"); !strings.Contains(b, "(updated") || !strings.Contains(b, "Matched") {
			t.Fatalf("the console board is not matched in place:\n%s", out)
		}
		last := x.mmLast(mmCard)
		if !last.Edit || !strings.Contains(last.Text, "Matched") {
			t.Fatalf("the Mattermost board card is not matched in place: %+v", last)
		}

		// The details went to bob's console DM and nowhere else, on either platform.
		for _, line := range strings.Split(x.con.all(), "\n") {
			for _, secret := range []string{"9 Rue Secrète", "514-555-0111", "Allergic to nuts", "14 Private Lane"} {
				if strings.Contains(line, secret) && !strings.HasPrefix(line, "[@bob]") {
					t.Errorf("%q reached the console outside bob's DM: %s", secret, line)
				}
			}
		}
		for _, m := range x.r.srv.Messages() {
			for _, secret := range []string{"9 Rue Secrète", "514-555-0111", "Allergic to nuts", "14 Private Lane"} {
				if strings.Contains(m.Text, secret) {
					t.Errorf("%q reached Mattermost (channel %s, dm %q, ephemeral %q)", secret, m.ChannelID, m.DMUser, m.EphemeralTo)
				}
			}
		}

		// The console stops taking shared requests: the next one stays on Mattermost.
		x.line("maya: /tend settings")
		x.line("maya: !press " + x.button("[~maya]", "Stop showing shared requests here"))
		if !strings.Contains(x.con.since(), "not shown here") {
			t.Fatal("the console's setting did not change")
		}
		x.mmAsk("alice", "Soup once more", "9 Rue Secrète", flows.SpacesAll)
		if got := x.con.since(); got != "" {
			t.Fatalf("a space that refuses shared requests got:\n%s", got)
		}
		if !x.mmBoardHas("Soup once more") {
			t.Fatal("the request is not on its own board")
		}
	})
}

// cross is the one process: the Mattermost rig and a console, attached to one bot.
type cross struct {
	t   *testing.T
	r   *rig
	app *bot.App
	con *conOut
	in  *io.PipeWriter
	n   int
}

func newCross(t *testing.T, db *store.DB) *cross {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return now })
	r := newRig(t, Config{}, withEphemeral)
	var community int64
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		community, err = tx.ApplyCommunity(ctx, store.CommunitySetup{
			Community:  store.Community{Slug: "hospice", Name: "Hospice and Neighbours", Locale: "en", Timezone: "America/Toronto", RetentionDays: 30},
			Categories: []store.Category{{Key: "meal", Risk: "low", Tier: "volunteer"}, {Key: "call", Risk: "low", Tier: "volunteer"}},
			Bindings: []store.Binding{
				{Platform: Platform, Workspace: r.team, BoardChannel: r.board, ModeratorsChannel: r.mods},
				{Platform: console.Platform, Workspace: "neighbours", BoardChannel: "board", ModeratorsChannel: "moderators"},
			},
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	app := bot.New(bot.Options{DB: db, Catalog: cat, Roles: func(c int64, p, u string) (bool, bool) {
		return c == community && (u == "maya" || u == r.users["maya"]), false
	}})
	out := &conOut{}
	con := console.New(console.Options{Out: out, Catalog: cat, Workspace: "neighbours", Board: "board", Echo: true,
		Now: func() time.Time { return now }})
	app.Attach(r.ad)
	app.Attach(con)
	r.connect(app)

	pr, pw := io.Pipe()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- con.Run(runCtx, pr, app, false) }()
	t.Cleanup(func() {
		_ = pw.Close()
		if err := <-done; err != nil {
			t.Errorf("console: %v", err)
		}
		cancel()
	})
	return &cross{t: t, r: r, app: app, con: out, in: pw}
}

// line types one console line and waits until the console has handled it: the echo of
// a comment sent after it is printed only then.
func (x *cross) line(s string) {
	x.t.Helper()
	x.n++
	sync := fmt.Sprintf("# sync %d", x.n)
	if _, err := io.WriteString(x.in, s+"\n"+sync+"\n"); err != nil {
		x.t.Fatal(err)
	}
	waitFor(x.t, "the console to handle "+s, func() bool { return strings.Contains(x.con.all(), "> "+sync+"\n") })
	x.settle()
}

// settle delivers what the bot committed and waits for Mattermost to be quiet.
func (x *cross) settle() {
	x.t.Helper()
	if err := x.app.Flush(context.Background()); err != nil {
		x.t.Fatalf("flush: %v", err)
	}
	x.r.settle()
}

func (x *cross) step(fn func()) {
	x.t.Helper()
	fn()
	x.settle()
}

// button finds, in the console output since the mark, the number of the last button
// labelled label on a line tagged tag, and moves the mark past the output.
var buttonRE = regexp.MustCompile(`\[(\d+)\] (.*)$`)

func (x *cross) button(tag, label string) string {
	x.t.Helper()
	return x.buttonIn(x.con.since(), tag, label)
}

func (x *cross) buttonIn(out, tag, label string) string {
	x.t.Helper()
	found := ""
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, tag) {
			continue
		}
		if m := buttonRE.FindStringSubmatch(l); m != nil && strings.HasPrefix(m[2], label) {
			found = m[1]
		}
	}
	if found == "" {
		x.t.Fatalf("no %q button at %s in:\n%s", label, tag, out)
	}
	return found
}

// tagged is the lines of out tagged tag.
func tagged(out, tag string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, tag) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// mmJoin has a Mattermost user accept the privacy notice.
func (x *cross) mmJoin(user string) {
	x.t.Helper()
	x.step(func() { x.r.command(user, "help") })
	b, ok := x.mmButton("~"+x.r.users[user], flows.ActNoticeAccept)
	if !ok {
		x.t.Fatalf("%s was not shown the notice:\n%s", user, x.mmDump())
	}
	x.step(func() { x.r.press(user, b, "") })
}

// mmAsk submits the ask dialog on Mattermost.
func (x *cross) mmAsk(user, summary, address, spaces string) {
	x.t.Helper()
	x.step(func() {
		x.r.submit(user, "ask", map[string]string{"category": "meal", "when": "thursday 12:00", "until": "13:00", "area": "Rosemont",
			"summary": summary, "address": address, "phone": "514-555-0111", "notes": "Allergic to nuts", "show_name": "name",
			flows.FieldSpaces: spaces, "may_share": "yes", "follow_up": "no"})
	})
}

// mmButton is the last button with action seen at where ("~id", "@id", "#channel").
func (x *cross) mmButton(where, action string) (pressRef, bool) {
	var ref pressRef
	found := false
	for _, s := range x.r.seen() {
		if s.Where != where {
			continue
		}
		for _, b := range s.Buttons {
			if b.Action == action {
				ref, found = b.Ref.(pressRef), true
			}
		}
	}
	return ref, found
}

func (x *cross) mmBoardHas(text string) bool { return x.mmBoardPost(text) != "" }

// mmBoardPost is the id of the board post first showing text.
func (x *cross) mmBoardPost(text string) string {
	for _, m := range x.r.srv.Messages() {
		if m.ChannelID == x.r.board && m.DMUser == "" && m.EphemeralTo == "" && strings.Contains(m.Text, text) {
			return m.PostID
		}
	}
	return ""
}

// mmLast is the last state of a post.
func (x *cross) mmLast(post string) mattermosttest.Message {
	var last mattermosttest.Message
	for _, m := range x.r.srv.Messages() {
		if m.PostID == post {
			last = m
		}
	}
	return last
}

func (x *cross) mmDump() string {
	var b strings.Builder
	for _, s := range x.r.seen() {
		fmt.Fprintf(&b, "%s: %s\n", s.Where, s.Text)
	}
	return b.String()
}

// conOut is the console's transcript, read while it is written.
type conOut struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	mark int
}

func (o *conOut) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *conOut) all() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// since is what the bot printed since the last call, without the echoed input.
func (o *conOut) since() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.buf.String()[o.mark:]
	o.mark = o.buf.Len()
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" && !strings.HasPrefix(l, "> ") {
			b.WriteString(l)
		}
	}
	return b.String()
}
