package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
)

var testNow = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

// fakeBot records events and answers a few of them through the console, like the router
// would: "/tend ask" posts a card to the board and DMs the asker; pressing "claim" edits
// the board card and answers the presser privately; "/tend boom" fails.
type fakeBot struct {
	c      *Console
	mu     sync.Mutex
	events []bot.Event
	board  string // message id of the board card
}

func (f *fakeBot) Handle(ctx context.Context, ev bot.Event) (bot.Reply, error) {
	return bot.Reply{}, f.handle(ctx, ev)
}

func (f *fakeBot) handle(ctx context.Context, ev bot.Event) error {
	f.mu.Lock()
	f.events = append(f.events, ev)
	f.mu.Unlock()
	switch {
	case ev.Kind == bot.EventCommand && ev.Command == "ask":
		id, err := sendTo(f.c, ctx, bot.Destination{Kind: bot.DestChannel, Workspace: ev.Workspace, ChannelID: ev.ChannelID}, bot.Rendered{
			Title:  "Ride to the hospital",
			Body:   []string{"Tuesday morning\nnear the Plateau"},
			Fields: []bot.RenderedField{{Label: "When", Value: "Tue 09:00"}},
			Buttons: []bot.RenderedButton{
				{Label: "I can help", Action: "claim", Payload: "r1", Style: "primary"},
				{Label: "Flag", Action: "flag", Payload: "r1"},
			},
		})
		if err != nil {
			return err
		}
		f.board = id
		_, err = sendTo(f.c, ctx, bot.Destination{Kind: bot.DestDM, UserID: ev.UserID, UserName: ev.UserName}, bot.Rendered{
			Body:    []string{"Your request is on the board."},
			Buttons: []bot.RenderedButton{{Label: "Cancel it", Action: "cancel", Payload: "r1"}},
			Choice: &bot.RenderedChoice{Action: "remind", Placeholder: "Remind me", Options: []bot.RenderedOption{
				{Label: "Monday", Value: "mon"}, {Label: "Tuesday", Value: "tue"},
			}},
		})
		return err
	case ev.Kind == bot.EventButton && ev.Action == "claim":
		err := editTo(f.c, ctx, bot.Destination{Kind: bot.DestChannel, ChannelID: ev.ChannelID}, f.board, bot.Rendered{
			Title:   "Ride to the hospital",
			Fields:  []bot.RenderedField{{Label: "When", Value: "Tue 09:00"}, {Label: "Status", Value: "matched"}},
			Buttons: []bot.RenderedButton{{Label: "Mark done", Action: "done", Payload: "r1"}},
		})
		if err != nil {
			return err
		}
		_, err = sendTo(f.c, ctx, bot.Destination{Kind: bot.DestEphemeral, ChannelID: ev.ChannelID, UserID: ev.UserID}, bot.Rendered{
			Body: []string{"Thanks, " + ev.UserName + "! Alice will confirm."},
		})
		return err
	case ev.Kind == bot.EventCommand && ev.Command == "boom":
		return errors.New("store: request 42: secret detail")
	}
	return nil
}

func newTest(t *testing.T, o Options) (*Console, *fakeBot, *bytes.Buffer) {
	t.Helper()
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o.Out = &out
	o.Catalog = cat
	if o.Now == nil {
		o.Now = func() time.Time { return testNow }
	}
	c := New(o)
	return c, &fakeBot{c: c}, &out
}

func TestTranscript(t *testing.T) {
	var clock time.Time
	var logs bytes.Buffer
	montreal := time.FixedZone("EST", -5*3600)
	c, fb, out := newTest(t, Options{
		Locale: "en", Workspace: "demo", Board: "board", Echo: true,
		SetClock: func(t time.Time) { clock = t }, Location: montreal,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	script := `# alice asks for a ride
alice: /tend ask

bob: !press 3
bob: !press 1
carol: !press 1
alice: !press 3
alice@: !pick 4 2
alice: !pick 4 3
alice: !press 4
bob: !pick 5 1
bob: !press 99
alice: hello everyone
alice@:   12 Rue Rachel  
al ice: /tend ask
!press 5
alice#moderators: /tend boom
!clock 2026-11-26 09:00
!quit
alice: /tend ask
`
	if err := c.Run(context.Background(), strings.NewReader(script), fb, false); err != nil {
		t.Fatal(err)
	}
	want := `> # alice asks for a ride
> alice: /tend ask
[#board] Ride to the hospital
[#board] Tuesday morning
[#board] near the Plateau
[#board]   • When: Tue 09:00
[#board]   [1] I can help
[#board]   [2] Flag
[@alice] Your request is on the board.
[@alice]   [3] Cancel it
[@alice]   [4] Remind me: 1) Monday 2) Tuesday

> bob: !press 3
[!] Bob can't see button 3: it was shown only to Alice.
> bob: !press 1
[#board] (updated m1)
[#board] Ride to the hospital
[#board]   • When: Tue 09:00
[#board]   • Status: matched
[#board]   [5] Mark done
[~bob] Thanks, Bob! Alice will confirm.
> carol: !press 1
[!] Button 1 is no longer there: its message was updated. Use the new number shown with it.
> alice: !press 3
> alice@: !pick 4 2
> alice: !pick 4 3
[!] Menu 4 has options 1 to 2.
> alice: !press 4
[!] 4 is a menu: pick an option, for example alice: !pick 4 1
> bob: !pick 5 1
[!] 5 is a button, not a menu: press it with bob: !press 5
> bob: !press 99
[!] There is no button 99.
> alice: hello everyone
[console] tend only reads /tend commands in channels, and direct messages. To write to the bot, start the line with alice@:
> alice@:   12 Rue Rachel
> al ice: /tend ask
[!] “al ice” can't be a name: use letters, digits, - or _ (up to 32 characters).
> !press 5
[!] Say who does it: put a name first, for example bob: !press 5
> alice#moderators: /tend boom
[!] Sorry, something went wrong with that. The details are in the log.
> !clock 2026-11-26 09:00
[console] Clock set to 2026-11-26 09:00 EST.
> !quit
`
	if got := out.String(); got != want {
		t.Fatalf("transcript:\n%s\nwant:\n%s\ndiff at: %s", got, want, firstDiff(got, want))
	}
	if strings.Contains(out.String(), "secret") || strings.Contains(out.String(), "42") {
		t.Fatal("the handler's error text reached the transcript")
	}
	if !strings.Contains(logs.String(), "secret detail") || !strings.Contains(logs.String(), "-6 kind=command") {
		t.Fatalf("handler error not logged: %s", logs.String())
	}
	if want := time.Date(2026, 11, 26, 9, 0, 0, 0, montreal); !clock.Equal(want) {
		t.Fatalf("clock = %v, want %v", clock, want)
	}

	// No Options.Admins: everyone at the console administers its space.
	base := bot.Event{Platform: "console", Workspace: "demo", Locale: "en", ReceivedAt: testNow, PlatformAdmin: true}
	ev := func(id string, f func(*bot.Event)) bot.Event {
		e := base
		e.ID = "console-" + c.session + "-" + strings.TrimPrefix(id, "console-")
		f(&e)
		return e
	}
	wantEvents := []bot.Event{
		ev("console-1", func(e *bot.Event) {
			e.UserID, e.UserName, e.Kind, e.ChannelID, e.Command = "alice", "Alice", bot.EventCommand, "board", "ask"
		}),
		ev("console-2", func(e *bot.Event) {
			e.UserID, e.UserName, e.Kind, e.ChannelID = "bob", "Bob", bot.EventButton, "board"
			e.Action, e.Payload, e.MessageID = "claim", "r1", "m1"
		}),
		ev("console-3", func(e *bot.Event) {
			e.UserID, e.UserName, e.Kind, e.ChannelID, e.InDM = "alice", "Alice", bot.EventButton, "dm:alice", true
			e.Action, e.Payload, e.MessageID = "cancel", "r1", "m2"
		}),
		ev("console-4", func(e *bot.Event) {
			e.UserID, e.UserName, e.Kind, e.ChannelID, e.InDM = "alice", "Alice", bot.EventButton, "dm:alice", true
			e.Action, e.Value, e.MessageID = "remind", "tue", "m2"
		}),
		ev("console-5", func(e *bot.Event) {
			e.UserID, e.UserName, e.Kind, e.ChannelID, e.InDM = "alice", "Alice", bot.EventText, "dm:alice", true
			e.Text = "12 Rue Rachel"
		}),
		ev("console-6", func(e *bot.Event) {
			e.UserID, e.UserName, e.Kind, e.ChannelID, e.Command = "alice", "Alice", bot.EventCommand, "moderators", "boom"
		}),
	}
	if !reflect.DeepEqual(fb.events, wantEvents) {
		t.Fatalf("events:\n%s\nwant:\n%s", dump(fb.events), dump(wantEvents))
	}
}

func TestInteractive(t *testing.T) {
	c, fb, out := newTest(t, Options{Locale: "fr", Echo: true})
	if err := c.Run(context.Background(), strings.NewReader("bonjour\nalice@: /tend moi\n!quit\n"), fb, true); err != nil {
		t.Fatal(err)
	}
	want := `Bienvenue dans la console de tend. Vous jouez toutes les personnes : commencez chaque ligne par un nom suivi de deux-points.
Essayez : alice: /tend help
Tapez !help pour la syntaxe complète et !quit pour quitter.
> [!] Commencez la ligne par un nom suivi de deux-points, par exemple : alice: /tend help (ou tapez !help).
> > [console] Au revoir.
`
	if got := out.String(); got != want {
		t.Fatalf("transcript:\n%q\nwant:\n%q", got, want)
	}
	if len(fb.events) != 1 || fb.events[0].Command != "moi" || !fb.events[0].InDM || fb.events[0].Locale != "fr" ||
		fb.events[0].Workspace != "console" || fb.events[0].ChannelID != "dm:alice" {
		t.Fatalf("events: %s", dump(fb.events))
	}
}

func TestInteractivePromptStaysLast(t *testing.T) {
	c, fb, out := newTest(t, Options{})
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background(), pr, fb, true) }()
	// Wait for the first prompt, then send from "another goroutine" while it waits.
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.prompting
	})
	if _, err := sendTo(c, context.Background(), bot.Destination{Kind: bot.DestDM, UserID: "alice"}, bot.Rendered{Body: []string{"Reminder: ride tomorrow"}}); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "> \n[@alice] Reminder: ride tomorrow\n> ") {
		t.Fatalf("asynchronous message not printed around the prompt:\n%q", out.String())
	}
}

func TestNoEcho(t *testing.T) {
	c, fb, out := newTest(t, Options{})
	if err := c.Run(context.Background(), strings.NewReader("# hi\n\nbob: /tend\n"), fb, false); err != nil {
		t.Fatal(err)
	}
	if out.String() != "" {
		t.Fatalf("unexpected output %q", out.String())
	}
	if len(fb.events) != 1 || fb.events[0].Command != "help" || fb.events[0].Args != nil || fb.events[0].ChannelID != "board" {
		t.Fatalf("events: %s", dump(fb.events))
	}
}

func TestBadLinesNeverReachTheHandler(t *testing.T) {
	c, fb, out := newTest(t, Options{})
	lines := []string{"nobody", "x y: /tend", "alice#: /tend", "alice:", "bob: !press", "bob: !press 1",
		"!clock soon", "!clock 2026-11-26 09:00", "alice: chat", "alice: \x1b]0;pwned\x07", "!nope",
		"alice@: " + strings.Repeat("x", 3*MaxLineBytes)}
	if err := c.Run(context.Background(), strings.NewReader(strings.Join(lines, "\n")), fb, false); err != nil {
		t.Fatal(err)
	}
	if len(fb.events) != 0 {
		t.Fatalf("handler called: %s", dump(fb.events))
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("want one kind line per bad line, got:\n%s", out.String())
	}
	for i, l := range got {
		if !strings.HasPrefix(l, "[!] ") && !strings.HasPrefix(l, "[console] ") {
			t.Errorf("line %d: %q", i, l)
		}
		if strings.Contains(l, "console.") {
			t.Errorf("line %d shows a raw message id: %q", i, l)
		}
	}
	if !strings.Contains(out.String(), "up to 8000 bytes") {
		t.Errorf("too-long line not explained:\n%s", out.String())
	}
}

func TestRenderShapes(t *testing.T) {
	c, _, out := newTest(t, Options{})
	ctx := context.Background()
	must := func(_ string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sendTo(c, ctx, bot.Destination{Kind: bot.DestEphemeral, ChannelID: "board", UserID: "dana"}, bot.Rendered{
		Body:   []string{"No title here", "second\tline \x1b[31mred\u202e"},
		Fields: []bot.RenderedField{{Label: "Notes", Value: "one\ntwo"}, {Label: "Only label"}, {Value: "only value"}},
		Choice: &bot.RenderedChoice{Action: "a", Options: []bot.RenderedOption{{Label: "Yes\nplease", Value: "y"}}},
	}))
	must(sendTo(c, ctx, bot.Destination{Kind: bot.DestChannel, ChannelID: "board"}, bot.Rendered{}))
	want := `[~dana] No title here
[~dana] second line [31mred
[~dana]   • Notes: one
[~dana]     two
[~dana]   • Only label
[~dana]   • only value
[~dana]   [1] 1) Yes please
[#board]
`
	if got := out.String(); got != want {
		t.Fatalf("got:\n%q\nwant:\n%q", got, want)
	}
	// An ephemeral menu can be picked only by its reader, and carries the channel.
	ev, ok := c.press(Input{Kind: InputPick, User: "dana", Button: 1, Option: 1})
	if !ok || ev.ChannelID != "board" || ev.InDM || ev.Value != "y" || ev.Action != "a" || ev.MessageID != "m1" {
		t.Fatalf("pick: %v %+v", ok, ev)
	}
	out.Reset()
	if _, ok := c.press(Input{Kind: InputPick, User: "erin", Button: 1, Option: 1}); ok {
		t.Fatal("erin picked from dana's ephemeral menu")
	}
	if want := "[!] Erin can't see button 1: it was shown only to Dana.\n"; out.String() != want {
		t.Fatalf("got %q want %q", out.String(), want)
	}
}

func TestAdapterContract(t *testing.T) {
	c, _, _ := newTest(t, Options{})
	var a any = c
	if _, ok := a.(bot.FormOpener); ok {
		t.Fatal("the console must not open forms: the bot runs them as a DM dialogue")
	}
	if c.Platform() != "console" || !c.CanDM() {
		t.Fatal("platform or CanDM")
	}
	ctx := context.Background()
	if err := editTo(c, ctx, bot.Destination{Kind: bot.DestChannel}, "m9", bot.Rendered{}); err == nil {
		t.Fatal("edit of an unknown message to nowhere succeeded")
	}
	if err := editTo(c, ctx, bot.Destination{Kind: bot.DestChannel, ChannelID: "board"}, "", bot.Rendered{}); err == nil {
		t.Fatal("edit without a message id succeeded")
	}
	for _, d := range []bot.Destination{{Kind: bot.DestChannel}, {Kind: bot.DestDM}, {Kind: bot.DestEphemeral, ChannelID: "x"}, {Kind: "pigeon"}} {
		if _, err := sendTo(c, ctx, d, bot.Rendered{Title: "x"}); err == nil {
			t.Errorf("send to %+v succeeded", d)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sendTo(c, cancelled, bot.Destination{Kind: bot.DestChannel, ChannelID: "b"}, bot.Rendered{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("send with a cancelled context: %v", err)
	}
	id, err := sendTo(c, ctx, bot.Destination{Kind: bot.DestChannel, ChannelID: "b"}, bot.Rendered{Title: "x"})
	if err != nil || id != "m1" {
		t.Fatalf("first id %q, %v", id, err)
	}
}

// A message remembered from an earlier session is shown as an update where the bot says
// it is, and its buttons work.
func TestEditFromEarlierSession(t *testing.T) {
	c, fb, out := newTest(t, Options{})
	to := bot.Destination{Kind: bot.DestDM, UserID: "alice"}
	if err := editTo(c, context.Background(), to, "m7", bot.Rendered{Title: "Still open", Buttons: []bot.RenderedButton{{Label: "Close", Action: "close"}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background(), strings.NewReader("bob: !press 1\nalice: !press 1\n"), fb, false); err != nil {
		t.Fatal(err)
	}
	want := "[@alice] (updated m7)\n[@alice] Still open\n[@alice]   [1] Close\n[!] Bob can't see button 1: it was shown only to Alice.\n"
	if out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
	if len(fb.events) != 1 || fb.events[0].MessageID != "m7" || fb.events[0].Action != "close" || fb.events[0].ChannelID != "dm:alice" {
		t.Fatalf("events: %s", dump(fb.events))
	}
}

func TestRunStopsWithContext(t *testing.T) {
	c, fb, _ := newTest(t, Options{})
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, pr, fb, false) }()
	if _, err := io.WriteString(pw, "alice: /tend\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		fb.mu.Lock()
		defer fb.mu.Unlock()
		return len(fb.events) == 1
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}

func TestConcurrentSendsDoNotInterleave(t *testing.T) {
	c, _, out := newTest(t, Options{})
	const senders, each = 8, 25
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := fmt.Sprintf("c%d", s)
			for i := range each {
				id, err := sendTo(c, context.Background(), bot.Destination{Kind: bot.DestChannel, ChannelID: ch}, bot.Rendered{
					Title: fmt.Sprintf("card %d", i), Body: []string{"a", "b"},
					Buttons: []bot.RenderedButton{{Label: "x"}, {Label: "y"}},
				})
				if err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					if err := editTo(c, context.Background(), bot.Destination{}, id, bot.Rendered{Title: "edited", Body: []string{"a", "b"}, Buttons: []bot.RenderedButton{{Label: "z"}, {Label: "w"}}}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	seen := map[string]bool{}
	// Every card is a run of 5 lines (6 for an edit) with one tag.
	for i := 0; i < len(lines); {
		tag, _, _ := strings.Cut(lines[i], " ")
		n := 5
		if strings.HasSuffix(lines[i], ")") && strings.Contains(lines[i], "(updated ") {
			n = 6
		}
		if i+n > len(lines) {
			t.Fatalf("truncated card at line %d", i)
		}
		for j := i; j < i+n; j++ {
			if !strings.HasPrefix(lines[j], tag+" ") {
				t.Fatalf("card interleaved at line %d: %q", j, lines[j])
			}
			if k := strings.Index(lines[j], "  ["); k >= 0 {
				num := lines[j][k:]
				num = num[:strings.Index(num, "]")]
				if seen[num] {
					t.Fatalf("button number %s used twice", num)
				}
				seen[num] = true
			}
		}
		i += n
	}
	if want := senders*each*2 + senders*(each/5)*2; len(seen) != want {
		t.Fatalf("%d button numbers, want %d", len(seen), want)
	}
}

// TestCatalogue checks that both languages define the same console keys and every key
// the console uses.
func TestCatalogue(t *testing.T) {
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	keys := func(lang string) []string {
		var out []string
		for _, id := range cat.IDs(lang) {
			if strings.HasPrefix(id, "console.") {
				out = append(out, id)
			}
		}
		return out
	}
	en, fr := keys("en"), keys("fr")
	if !reflect.DeepEqual(en, fr) {
		t.Fatalf("en and fr console keys differ:\n%v\n%v", en, fr)
	}
	used := []string{
		"console.welcome", "console.help", "console.bye", "console.updated", "console.channel_text",
		"console.handler_error", "console.clock.set", "console.clock.none",
		"console.button.unknown", "console.button.gone", "console.button.hidden", "console.button.menu",
		"console.button.notmenu", "console.button.option", "console.button.empty",
		errSyntax, errName, errChannel, errEmpty, errDirective, errWho, errPress, errPick, errClock, errChars, errLong,
		errLeave, "console.leave.done",
	}
	if len(used) != len(en) {
		t.Errorf("%d keys used, %d defined: %v", len(used), len(en), en)
	}
	args := map[string]any{"Board": "board", "ID": "m1", "Name": "bob", "Time": "t", "N": 1, "Owner": "Alice",
		"User": "bob", "Max": 2, "Channel": "c", "Directive": "!x", "Line": "!press 1"}
	for _, id := range used {
		for _, lang := range catalog.Languages {
			if !cat.Has(lang, id) {
				t.Errorf("%s: missing %s", lang, id)
				continue
			}
			if s := cat.Localize(lang, id, args); s == id || strings.Contains(s, "<no value>") {
				t.Errorf("%s %s renders %q", lang, id, s)
			}
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

func dump(evs []bot.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%+v\n", e)
	}
	return b.String()
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: got %q want %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d lines", len(al), len(bl))
}

func sendTo(c *Console, ctx context.Context, to bot.Destination, msg bot.Rendered) (string, error) {
	return c.Send(ctx, bot.Delivery{To: to, Msg: msg})
}

func editTo(c *Console, ctx context.Context, to bot.Destination, id string, msg bot.Rendered) error {
	return c.Edit(ctx, bot.Delivery{To: to, Msg: msg}, id)
}

// TestAdmins checks that Options.Admins names who administers the console's space.
func TestAdmins(t *testing.T) {
	for _, tt := range []struct {
		admins []string
		user   string
		want   bool
	}{
		{nil, "alice", true}, {[]string{"maya"}, "maya", true}, {[]string{"maya"}, "alice", false},
	} {
		c := New(Options{Out: &bytes.Buffer{}, Admins: tt.admins})
		if got := c.event(Input{Kind: InputCommand, User: tt.user, Command: "setup"}).PlatformAdmin; got != tt.want {
			t.Errorf("admins %v, user %s: PlatformAdmin = %v", tt.admins, tt.user, got)
		}
	}
}
