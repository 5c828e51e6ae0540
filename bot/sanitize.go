package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwsp is a zero-width space: invisible to readers, but it breaks every platform's
// mention syntax so echoed text cannot ping.
const zwsp = "\u200b"

// Sanitize neutralises everything in user text that a platform could turn into a ping or a
// mention: @everyone, @here, @channel, @all, @someone, Slack's <!here>, <!channel>,
// <!everyone>, <!subteam^id>, <@U…>, Discord's <@id>, <@!id>, <@&id>, <#id> and
// Mattermost's @username. It also drops control characters and invisible direction marks
// that could disguise text. Running it twice changes nothing more.
func Sanitize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	runes := []rune(s)
	for i, r := range runes {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) || isInvisible(r):
			// dropped: control characters and bidi overrides
		case r == '@' || r == '＠' || r == '﹫':
			b.WriteRune('@')
			if i+1 < len(runes) && !isZWSP(runes[i+1]) {
				b.WriteString(zwsp)
			}
		case r == '<' || r == '＜':
			b.WriteRune('<')
			if i+1 < len(runes) && isMentionSigil(runes[i+1]) {
				b.WriteString(zwsp)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isZWSP(r rune) bool { return r == '\u200b' }

// isMentionSigil is what follows '<' in Slack and Discord mention syntax.
func isMentionSigil(r rune) bool {
	switch r {
	case '@', '!', '#', '&', '＠', '﹫':
		return true
	}
	return false
}

// isInvisible reports format characters that can hide or reorder text (bidi overrides,
// joiners) except the zero-width space the sanitiser itself uses.
func isInvisible(r rune) bool {
	if r == '\u200b' {
		return false
	}
	return unicode.Is(unicode.Cf, r)
}

// Clip shortens s to at most n runes, adding an ellipsis when it cut.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
