package console

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tend-community/tend/bot"
)

// prefix is the tag that says who saw a message.
func prefix(to bot.Destination) string {
	switch to.Kind {
	case bot.DestDM:
		return "[@" + clean(to.UserID) + "]"
	case bot.DestEphemeral:
		return "[~" + clean(to.UserID) + "]"
	default:
		return "[#" + clean(to.ChannelID) + "]"
	}
}

// renderCard prints a card with the tag on every line and numbers its buttons. The caller
// holds c.mu.
func (c *Console) renderCard(buf *bytes.Buffer, m *message, msg bot.Rendered) {
	tag := prefix(m.to)
	owner := ""
	if m.to.Kind == bot.DestDM || m.to.Kind == bot.DestEphemeral {
		owner = m.to.UserID
	}
	wrote := false
	line := func(s string) {
		writeLine(buf, tag, s)
		wrote = true
	}
	for _, l := range lines(msg.Title) {
		line(l)
	}
	for _, b := range msg.Body {
		for _, l := range lines(b) {
			line(l)
		}
	}
	for _, f := range msg.Fields {
		label, value := oneLine(f.Label), lines(f.Value)
		first := ""
		if len(value) > 0 {
			first, value = value[0], value[1:]
		}
		switch {
		case label != "" && first != "":
			line("  • " + label + ": " + first)
		case label != "":
			line("  • " + label)
		default:
			line("  • " + first)
		}
		for _, v := range value {
			line("    " + v)
		}
	}
	for _, b := range msg.Buttons {
		n := c.number(m, buttonRef{msg: m, button: b, ownerID: owner})
		line("  [" + strconv.Itoa(n) + "] " + oneLine(b.Label))
	}
	if ch := msg.Choice; ch != nil {
		cp := *ch
		cp.Options = append([]bot.RenderedOption(nil), ch.Options...)
		n := c.number(m, buttonRef{msg: m, choice: &cp, isMenu: true, ownerID: owner})
		var s strings.Builder
		s.WriteString("  [" + strconv.Itoa(n) + "]")
		if p := oneLine(ch.Placeholder); p != "" {
			s.WriteString(" " + p)
			if len(ch.Options) > 0 {
				s.WriteString(":")
			}
		}
		for i, o := range ch.Options {
			s.WriteString(" " + strconv.Itoa(i+1) + ") " + oneLine(o.Label))
		}
		line(s.String())
	}
	if !wrote {
		writeLine(buf, tag, "")
	}
}

// number gives a button or menu the next session-wide number. The caller holds c.mu.
func (c *Console) number(m *message, ref buttonRef) int {
	n := c.nextButton
	c.nextButton++
	c.live[n] = ref
	m.buttons = append(m.buttons, n)
	return n
}

// writeLine writes "tag text\n", without a trailing space when either is empty.
func writeLine(buf *bytes.Buffer, tag, text string) {
	text = strings.TrimRight(text, " ")
	buf.WriteString(tag)
	if tag != "" && text != "" {
		buf.WriteByte(' ')
	}
	buf.WriteString(text)
	buf.WriteByte('\n')
}

// lines splits text on newlines and cleans each line; empty text gives no lines.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, p := range parts {
		parts[i] = clean(p)
	}
	return parts
}

// oneLine cleans text and folds its lines into one.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.Join(lines(s), " ")), " ")
}

// clean makes text safe for a terminal: tabs become spaces, control characters (escape
// sequences included) and invisible direction marks are dropped, invalid UTF-8 is replaced.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case unicode.IsControl(r), isBidi(r):
			return -1
		}
		return r
	}, s)
}

// isBidi reports direction controls that could make a line read differently.
func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') ||
		r == '\u200e' || r == '\u200f' || r == '\u061c'
}
