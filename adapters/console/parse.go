package console

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// InputKind says what a console line asks for.
type InputKind string

// Input kinds.
const (
	// InputNone is a blank line or a comment.
	InputNone InputKind = "none"
	// InputCommand is "/tend ..." typed in a channel or in a DM.
	InputCommand InputKind = "command"
	// InputText is plain text written to the bot in a DM.
	InputText InputKind = "text"
	// InputChannelText is plain text in a channel: not for the bot.
	InputChannelText InputKind = "channel-text"
	// InputPress is "!press N".
	InputPress InputKind = "press"
	// InputPick is "!pick N K".
	InputPick InputKind = "pick"
	// InputHelp is "!help".
	InputHelp InputKind = "help"
	// InputQuit is "!quit".
	InputQuit InputKind = "quit"
	// InputClock is "!clock <time>".
	InputClock InputKind = "clock"
	// InputLeave is "name: !leave": the person leaves the space (the platform's
	// member-left event).
	InputLeave InputKind = "leave"
)

// Limits on what a line may hold.
const (
	// MaxLineBytes is the longest line the console reads.
	MaxLineBytes = 8000
	// MaxNameLen is the longest person name.
	MaxNameLen = 32
	// MaxChannelLen is the longest channel name.
	MaxChannelLen = 80
	// maxNumberDigits bounds button and option numbers.
	maxNumberDigits = 9
	// maxEcho bounds how much of a bad token an error message repeats.
	maxEcho = 40
)

// Input is one parsed console line.
type Input struct {
	Kind InputKind
	// User is who acts, as a user id: the name in lower case. Empty for !help, !quit,
	// !clock, comments and blank lines.
	User string
	// Channel is the channel named with "name#channel:", lower case; empty for the
	// default channel and for DMs.
	Channel string
	// DM is true for "name@:" lines.
	DM bool
	// Command and Args for InputCommand.
	Command string
	Args    []string
	// Text for InputText and InputChannelText, trimmed.
	Text string
	// Button is the number pressed or picked from; Option the 1-based option picked.
	Button int
	Option int
	// Time for InputClock. Zoned is false when the line carried no offset: Time is then
	// the wall-clock reading in UTC, to be re-read in the console's location.
	Time  time.Time
	Zoned bool
}

// ParseError is a line the console cannot read. ID is the catalogue message that
// explains it kindly, with Args for its template.
type ParseError struct {
	ID   string
	Args map[string]any
	msg  string
}

func (e *ParseError) Error() string { return "console: " + e.msg }

// Catalogue ids of parse errors.
const (
	errSyntax    = "console.err.syntax"
	errName      = "console.err.name"
	errChannel   = "console.err.channel"
	errEmpty     = "console.err.empty"
	errDirective = "console.err.directive"
	errWho       = "console.err.who"
	errPress     = "console.err.press"
	errPick      = "console.err.pick"
	errClock     = "console.err.clock"
	errLeave     = "console.err.leave"
	errChars     = "console.err.chars"
	errLong      = "console.err.long"
)

func parseErr(id, msg string, kv ...any) *ParseError {
	e := &ParseError{ID: id, msg: msg}
	if len(kv) > 0 {
		e.Args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			e.Args[k] = kv[i+1]
		}
	}
	return e
}

// clockLayouts are the accepted !clock formats; the first ones carry no offset.
var clockLayouts = []struct {
	layout string
	zoned  bool
}{
	{"2006-01-02 15:04", false},
	{"2006-01-02 15:04:05", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02T15:04:05", false},
	{time.RFC3339, true},
	{time.RFC3339Nano, true},
}

// ParseLine reads one console line. It never looks at anything but the line.
func ParseLine(line string) (Input, error) {
	if len(line) > MaxLineBytes {
		return Input{}, parseErr(errLong, "line too long", "Max", MaxLineBytes)
	}
	if !utf8.ValidString(line) {
		return Input{}, parseErr(errChars, "invalid UTF-8")
	}
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return Input{Kind: InputNone}, nil
	}
	for _, r := range line {
		if r != '\t' && unicode.IsControl(r) {
			return Input{}, parseErr(errChars, "control character in line")
		}
	}
	if strings.HasPrefix(line, "!") {
		return parseGlobal(line)
	}

	speaker, rest, ok := strings.Cut(line, ":")
	if !ok {
		return Input{}, parseErr(errSyntax, "no speaker")
	}
	in := Input{}
	speaker = strings.TrimSpace(speaker)
	name := speaker
	switch {
	case strings.HasSuffix(speaker, "@"):
		name = strings.TrimSpace(strings.TrimSuffix(speaker, "@"))
		in.DM = true
	case strings.Contains(speaker, "#"):
		var ch string
		name, ch, _ = strings.Cut(speaker, "#")
		name = strings.TrimSpace(name)
		ch = strings.TrimSpace(ch)
		if !validToken(ch, MaxChannelLen) {
			return Input{}, parseErr(errChannel, "bad channel name", "Channel", clip(ch))
		}
		in.Channel = strings.ToLower(ch)
	}
	if !validToken(name, MaxNameLen) {
		return Input{}, parseErr(errName, "bad name", "Name", clip(name))
	}
	in.User = strings.ToLower(name)

	rest = strings.TrimSpace(rest)
	if rest == "" {
		return Input{}, parseErr(errEmpty, "nothing after the colon")
	}
	if strings.HasPrefix(rest, "!") {
		return parseDirective(in, rest)
	}
	if cmd, args, ok := tendCommand(rest); ok {
		in.Kind = InputCommand
		in.Command, in.Args = cmd, args
		return in, nil
	}
	in.Text = rest
	if in.DM {
		in.Kind = InputText
	} else {
		in.Kind = InputChannelText
	}
	return in, nil
}

// parseGlobal reads a directive written without a speaker.
func parseGlobal(line string) (Input, error) {
	word, arg := splitWord(line)
	switch strings.ToLower(word) {
	case "!help":
		return Input{Kind: InputHelp}, nil
	case "!quit", "!exit":
		if arg != "" {
			return Input{}, parseErr(errDirective, "!quit takes no argument", "Directive", clip(line))
		}
		return Input{Kind: InputQuit}, nil
	case "!clock":
		for _, l := range clockLayouts {
			if t, err := time.Parse(l.layout, arg); err == nil {
				return Input{Kind: InputClock, Time: t, Zoned: l.zoned}, nil
			}
		}
		return Input{}, parseErr(errClock, "bad time")
	case "!press", "!pick", "!leave":
		return Input{}, parseErr(errWho, "directive needs a speaker", "Line", clip(line))
	}
	return Input{}, parseErr(errDirective, "unknown directive", "Directive", clip(word))
}

// parseDirective reads "!press N", "!pick N K", "!leave" or "!help" after a speaker.
func parseDirective(in Input, rest string) (Input, error) {
	f := strings.Fields(rest)
	switch strings.ToLower(f[0]) {
	case "!press":
		if len(f) != 2 {
			return Input{}, parseErr(errPress, "usage: !press N")
		}
		n, ok := number(f[1])
		if !ok {
			return Input{}, parseErr(errPress, "usage: !press N")
		}
		in.Kind, in.Button = InputPress, n
		return in, nil
	case "!pick":
		if len(f) != 3 {
			return Input{}, parseErr(errPick, "usage: !pick N K")
		}
		n, ok1 := number(f[1])
		k, ok2 := number(f[2])
		if !ok1 || !ok2 {
			return Input{}, parseErr(errPick, "usage: !pick N K")
		}
		in.Kind, in.Button, in.Option = InputPick, n, k
		return in, nil
	case "!leave":
		if len(f) != 1 || in.DM || in.Channel != "" {
			return Input{}, parseErr(errLeave, "usage: name: !leave")
		}
		in.Kind = InputLeave
		return in, nil
	case "!help":
		return Input{Kind: InputHelp}, nil
	}
	return Input{}, parseErr(errDirective, "unknown directive", "Directive", clip(f[0]))
}

// tendCommand recognises "/tend [command [args...]]", case-insensitively on "/tend".
func tendCommand(s string) (cmd string, args []string, ok bool) {
	const prefix = "/tend"
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", nil, false
	}
	tail := s[len(prefix):]
	if tail != "" {
		r, _ := utf8.DecodeRuneInString(tail)
		if !unicode.IsSpace(r) {
			return "", nil, false
		}
	}
	f := strings.Fields(tail)
	if len(f) == 0 {
		return "help", nil, true
	}
	if len(f) > 1 {
		args = f[1:]
	}
	return strings.ToLower(f[0]), args, true
}

// splitWord splits off the first word and returns the trimmed rest.
func splitWord(s string) (word, rest string) {
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// validToken reports whether s is 1..max ASCII letters, digits, '-' or '_'.
func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// ValidName reports whether s is a valid person name as typed.
func ValidName(s string) bool { return validToken(s, MaxNameLen) }

// DisplayName is the name shown for a user id: its first letter in upper case.
func DisplayName(id string) string {
	if id == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(id)
	return string(unicode.ToUpper(r)) + id[n:]
}

// number reads a positive decimal number of at most maxNumberDigits digits.
func number(s string) (int, bool) {
	if s == "" || len(s) > maxNumberDigits {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n > 0
}

// clip shortens user text repeated in an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxEcho {
		return s
	}
	r := []rune(s)
	return string(r[:maxEcho]) + "…"
}
