package console

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
)

// Platform is the console's platform name.
const Platform = "console"

// Options configure a Console. Every field is optional.
type Options struct {
	// Out receives the transcript; os.Stdout when nil.
	Out io.Writer
	// Catalog holds the console's own lines; the embedded catalogues when nil.
	Catalog *catalog.Catalog
	// Locale is the language of the console's own lines and of every Event.Locale.
	Locale string
	// Workspace goes in every Event.Workspace; "console" when empty.
	Workspace string
	// Board is the default channel for "alice: ..." lines; "board" when empty.
	Board string
	// Echo prints each input line as "> <line>" in script mode.
	Echo bool
	// SetClock, when set, is called by the !clock directive.
	SetClock func(time.Time)
	// Location reads !clock times written without an offset; UTC when nil.
	Location *time.Location
	// Now stamps Event.ReceivedAt; time.Now when nil.
	Now func() time.Time
	// Logger receives handler errors (which the transcript never shows).
	Logger *slog.Logger
	// Admins are the user ids (lower case) the console treats as administrators of its
	// space, who may set tend up there. Empty means everyone: whoever runs the console
	// owns the machine.
	Admins []string
}

// Console is an interactive, multi-user terminal adapter. Send and Edit are safe for
// concurrent use with each other and with Run.
type Console struct {
	opt Options
	cat *catalog.Catalog
	log *slog.Logger

	mu         sync.Mutex
	nextEvent  int
	session    string
	nextMsg    int
	nextButton int
	msgs       map[string]*message
	live       map[int]buttonRef
	prompting  bool // an interactive prompt is on screen, waiting for a line
}

// message is a message the console printed, kept so buttons and edits can find it.
type message struct {
	id      string
	to      bot.Destination
	buttons []int
}

// buttonRef is a live button or menu number.
type buttonRef struct {
	msg     *message
	button  bot.RenderedButton
	choice  *bot.RenderedChoice
	isMenu  bool
	ownerID string // for DMs and ephemeral messages: the only person who can press it
}

var (
	_ bot.Adapter         = (*Console)(nil)
	_ bot.Editor          = (*Console)(nil)
	_ bot.DirectMessenger = (*Console)(nil)
)

// New makes a Console.
func New(o Options) *Console {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Workspace == "" {
		o.Workspace = "console"
	}
	if o.Board == "" {
		o.Board = "board"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	c := &Console{
		opt:        o,
		cat:        o.Catalog,
		log:        o.Logger,
		nextEvent:  1,
		session:    strconv.FormatInt(time.Now().UnixNano(), 36),
		nextMsg:    1,
		nextButton: 1,
		msgs:       map[string]*message{},
		live:       map[int]buttonRef{},
	}
	if c.cat == nil {
		if cat, err := catalog.New(); err == nil {
			c.cat = cat
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Platform returns "console".
func (c *Console) Platform() string { return Platform }

// CanDM reports that the console shows direct messages.
func (c *Console) CanDM() bool { return true }

// Send prints a message and returns its id ("m1", "m2", ...).
func (c *Console) Send(ctx context.Context, d bot.Delivery) (string, error) {
	to, msg := d.To, d.Msg
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := checkDest(to); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := &message{id: "m" + strconv.Itoa(c.nextMsg), to: to}
	c.nextMsg++
	c.msgs[m.id] = m
	var buf bytes.Buffer
	c.renderCard(&buf, m, msg)
	if err := c.write(buf.Bytes()); err != nil {
		return m.id, fmt.Errorf("console: send: %w", err)
	}
	return m.id, nil
}

// Edit re-prints a message the console sent, with new button numbers; the old numbers
// stop working. The message stays where it was sent. A message id this session never
// sent (one remembered from an earlier session, as ids restart at m1) is printed as an
// update at to and adopted, so the conversation goes on.
func (c *Console) Edit(ctx context.Context, d bot.Delivery, messageID string) error {
	to, msg := d.To, d.Msg
	if err := ctx.Err(); err != nil {
		return err
	}
	if messageID == "" {
		return errors.New("console: edit: no message id")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.msgs[messageID]
	if !ok {
		if err := checkDest(to); err != nil {
			return fmt.Errorf("console: edit %q: %w", messageID, err)
		}
		m = &message{id: messageID, to: to}
		c.msgs[messageID] = m
	}
	for _, n := range m.buttons {
		delete(c.live, n)
	}
	m.buttons = nil
	var buf bytes.Buffer
	writeLine(&buf, prefix(m.to), c.t("console.updated", "ID", m.id))
	c.renderCard(&buf, m, msg)
	if err := c.write(buf.Bytes()); err != nil {
		return fmt.Errorf("console: edit: %w", err)
	}
	return nil
}

func checkDest(to bot.Destination) error {
	switch to.Kind {
	case bot.DestChannel:
		if to.ChannelID == "" {
			return errors.New("console: channel destination without a channel")
		}
	case bot.DestDM, bot.DestEphemeral:
		if to.UserID == "" {
			return fmt.Errorf("console: %s destination without a user", to.Kind)
		}
	default:
		return fmt.Errorf("console: unknown destination kind %q", to.Kind)
	}
	return nil
}

// write prints under c.mu, keeping an interactive prompt at the bottom.
func (c *Console) write(p []byte) error {
	if c.prompting {
		p = append(append([]byte("\n"), p...), "> "...)
	}
	_, err := c.opt.Out.Write(p)
	return err
}

// say prints console-own lines under the lock.
func (c *Console) say(tag, text string) {
	var buf bytes.Buffer
	for _, l := range strings.Split(text, "\n") {
		writeLine(&buf, tag, l)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.write(buf.Bytes())
}

// sayBlock prints console-own text as is, without a tag (help, welcome).
func (c *Console) sayBlock(text string) {
	var buf bytes.Buffer
	for _, l := range strings.Split(text, "\n") {
		writeLine(&buf, "", l)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.write(buf.Bytes())
}

func (c *Console) note(id string, kv ...any)    { c.say("[console]", c.t(id, kv...)) }
func (c *Console) problem(id string, kv ...any) { c.say("[!]", c.t(id, kv...)) }

// t localises a console message for the console's locale.
func (c *Console) t(id string, kv ...any) string {
	args := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		args[k] = kv[i+1]
	}
	return c.localize(id, args)
}

func (c *Console) localize(id string, args map[string]any) string {
	if c.cat == nil {
		return id
	}
	return c.cat.Localize(c.opt.Locale, id, args)
}

// Run reads lines from in until EOF, !quit or ctx ends, and hands what people do to h.
// With interactive set it prints a welcome and a "> " prompt before each line; otherwise
// Options.Echo decides whether lines are echoed. It returns nil at EOF or !quit, ctx.Err()
// when ctx ends, and read errors. When ctx ends first, a goroutine may stay blocked
// reading in until in returns.
func (c *Console) Run(ctx context.Context, in io.Reader, h bot.Handler, interactive bool) error {
	lines := make(chan readLine)
	done := make(chan struct{})
	defer close(done)
	go readLines(in, lines, done)

	if interactive {
		c.sayBlock(c.t("console.welcome", "Board", c.opt.Board))
	}
	for {
		if interactive {
			c.mu.Lock()
			_, _ = io.WriteString(c.opt.Out, "> ")
			c.prompting = true
			c.mu.Unlock()
		}
		var r readLine
		var ok bool
		select {
		case <-ctx.Done():
			c.stopPrompt()
			return ctx.Err()
		case r, ok = <-lines:
		}
		c.stopPrompt()
		if !ok {
			if interactive {
				c.sayBlock("")
			}
			return nil
		}
		if r.err != nil {
			return fmt.Errorf("console: read: %w", r.err)
		}
		if !interactive && c.opt.Echo {
			c.echo(r.line, r.tooLong)
		}
		if r.tooLong {
			c.problem(errLong, "Max", MaxLineBytes)
			continue
		}
		quit := c.line(ctx, r.line, h)
		if quit {
			if interactive {
				c.note("console.bye")
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (c *Console) stopPrompt() {
	c.mu.Lock()
	c.prompting = false
	c.mu.Unlock()
}

func (c *Console) echo(line string, tooLong bool) {
	line = strings.TrimSpace(line)
	var buf bytes.Buffer
	switch {
	case line == "":
		buf.WriteString("\n")
	case tooLong:
		writeLine(&buf, ">", clip(clean(line)))
	default:
		writeLine(&buf, ">", clean(line))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.write(buf.Bytes())
}

// line handles one input line and reports whether it was !quit.
func (c *Console) line(ctx context.Context, line string, h bot.Handler) bool {
	in, err := ParseLine(line)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			c.say("[!]", c.localize(pe.ID, pe.Args))
		} else {
			c.problem(errSyntax)
		}
		return false
	}
	switch in.Kind {
	case InputNone:
	case InputQuit:
		return true
	case InputHelp:
		c.sayBlock(c.t("console.help", "Board", c.opt.Board))
	case InputClock:
		c.clock(in)
	case InputChannelText:
		c.note("console.channel_text", "Name", in.User)
	case InputCommand, InputText:
		c.dispatch(ctx, h, c.event(in))
	case InputPress, InputPick:
		ev, ok := c.press(in)
		if ok {
			c.dispatch(ctx, h, ev)
		}
	case InputLeave:
		c.note("console.leave.done", "Name", DisplayName(in.User))
		ev := c.event(in)
		ev.Kind, ev.ChannelID = bot.EventMemberLeft, ""
		c.dispatch(ctx, h, ev)
	}
	return false
}

func (c *Console) clock(in Input) {
	if c.opt.SetClock == nil {
		c.problem("console.clock.none")
		return
	}
	t := in.Time
	if !in.Zoned {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), c.opt.Location)
	}
	c.opt.SetClock(t)
	c.note("console.clock.set", "Time", t.Format("2006-01-02 15:04 MST"))
}

// event starts an event for a person's line.
func (c *Console) event(in Input) bot.Event {
	ev := bot.Event{
		Platform:  Platform,
		Workspace: c.opt.Workspace,
		UserID:    in.User,
		UserName:  DisplayName(in.User),
		Locale:    c.opt.Locale,
		ChannelID: c.opt.Board,
		// Everyone when no admins are named: the operator owns the machine.
		PlatformAdmin: len(c.opt.Admins) == 0 || slices.Contains(c.opt.Admins, in.User),
	}
	if in.Channel != "" {
		ev.ChannelID = in.Channel
	}
	if in.DM {
		ev.ChannelID, ev.InDM = dmChannel(in.User), true
	}
	switch in.Kind {
	case InputCommand:
		ev.Kind, ev.Command, ev.Args = bot.EventCommand, in.Command, in.Args
	case InputText:
		ev.Kind, ev.Text = bot.EventText, in.Text
	}
	return ev
}

func dmChannel(user string) string { return "dm:" + user }

// press resolves a !press or !pick to a button event, or explains why it cannot.
func (c *Console) press(in Input) (bot.Event, bool) {
	c.mu.Lock()
	ref, live := c.live[in.Button]
	exists := in.Button < c.nextButton
	c.mu.Unlock()
	n := in.Button
	switch {
	case !exists:
		c.problem("console.button.unknown", "N", n)
		return bot.Event{}, false
	case !live:
		c.problem("console.button.gone", "N", n)
		return bot.Event{}, false
	case ref.ownerID != "" && ref.ownerID != in.User:
		c.problem("console.button.hidden", "Name", DisplayName(in.User), "N", n, "Owner", ownerName(ref.msg.to))
		return bot.Event{}, false
	case in.Kind == InputPress && ref.isMenu:
		c.problem("console.button.menu", "N", n, "User", in.User)
		return bot.Event{}, false
	case in.Kind == InputPick && !ref.isMenu:
		c.problem("console.button.notmenu", "N", n, "User", in.User)
		return bot.Event{}, false
	}
	ev := c.event(Input{Kind: in.Kind, User: in.User})
	ev.Kind = bot.EventButton
	ev.MessageID = ref.msg.id
	to := ref.msg.to
	switch to.Kind {
	case bot.DestDM:
		ev.ChannelID, ev.InDM = dmChannel(to.UserID), true
	default:
		ev.ChannelID, ev.InDM = to.ChannelID, false
		if ev.ChannelID == "" {
			ev.ChannelID = c.opt.Board
		}
	}
	if ref.isMenu {
		opts := ref.choice.Options
		if len(opts) == 0 {
			c.problem("console.button.empty", "N", n)
			return bot.Event{}, false
		}
		if in.Option > len(opts) {
			c.problem("console.button.option", "N", n, "Max", len(opts))
			return bot.Event{}, false
		}
		ev.Action, ev.Value = ref.choice.Action, opts[in.Option-1].Value
		return ev, true
	}
	ev.Action, ev.Payload = ref.button.Action, ref.button.Payload
	return ev, true
}

func ownerName(to bot.Destination) string {
	if to.UserName != "" {
		return clean(to.UserName)
	}
	return DisplayName(to.UserID)
}

// dispatch numbers an event, hands it to the handler, prints the reply where the person
// acted, then lets the bot deliver what it committed so the transcript reads in order.
// Event ids carry the session's start so a later session's ids never look like
// redeliveries of this one's.
func (c *Console) dispatch(ctx context.Context, h bot.Handler, ev bot.Event) {
	c.mu.Lock()
	ev.ID = "console-" + c.session + "-" + strconv.Itoa(c.nextEvent)
	c.nextEvent++
	c.mu.Unlock()
	ev.ReceivedAt = c.opt.Now()
	reply, err := h.Handle(ctx, ev)
	to := bot.Destination{Kind: bot.DestEphemeral, Workspace: ev.Workspace, ChannelID: ev.ChannelID, UserID: ev.UserID, UserName: ev.UserName}
	if reply.InDM || ev.InDM {
		to = bot.Destination{Kind: bot.DestDM, Workspace: ev.Workspace, UserID: ev.UserID, UserName: ev.UserName}
	}
	for _, m := range reply.Messages {
		if _, serr := c.Send(ctx, bot.Delivery{To: to, Msg: m}); serr != nil {
			c.log.Error("console: reply failed", "event", ev.ID, "err", serr)
		}
	}
	if err != nil {
		c.log.Error("console: handler failed", "event", ev.ID, "kind", string(ev.Kind), "err", err)
		c.problem("console.handler_error")
		return
	}
	if f, ok := h.(bot.Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			c.log.Error("console: delivery failed", "event", ev.ID, "err", err)
			c.problem("console.handler_error")
		}
	}
}

// readLine is one line read from the input.
type readLine struct {
	line    string
	tooLong bool
	err     error
}

// readLines sends lines of in until EOF (then closes out) or done.
func readLines(in io.Reader, out chan<- readLine, done <-chan struct{}) {
	defer close(out)
	br := bufio.NewReaderSize(in, MaxLineBytes+2)
	send := func(r readLine) bool {
		select {
		case out <- r:
			return true
		case <-done:
			return false
		}
	}
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			head := string(b)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if !send(readLine{line: head, tooLong: true}) {
				return
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					send(readLine{err: err})
				}
				return
			}
			continue
		}
		if len(b) > 0 {
			if !send(readLine{line: strings.TrimRight(string(b), "\r\n")}) {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				send(readLine{err: err})
			}
			return
		}
	}
}
