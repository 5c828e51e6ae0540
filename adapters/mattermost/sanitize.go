package mattermost

import (
	"strings"

	"github.com/tend-community/tend/bot"
)

// zwsp is a zero-width space: invisible, but it breaks what it sits in.
const zwsp = "\u200b"

// Neutralize makes text safe to post in Mattermost markdown. bot.Sanitize breaks every
// mention (@all, @channel, @here, @username, @group: a zero-width space follows each @,
// and Mattermost's mentions need a letter right after it) and drops invisible
// characters; then no markdown link can hide where it goes behind other words: a
// zero-width space separates "](", "][" and "]:", so inline links, images, reference
// links and their definitions all stay plain text. A bare URL still links, showing
// itself. The bot's own lines go through it too (they never mean to ping nor to hide a
// link), so whatever a flow slipped in unmarked is covered. Running it twice changes
// nothing more.
func Neutralize(s string) string {
	s = bot.Sanitize(s)
	if !strings.Contains(s, "]") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	rs := []rune(s)
	for i, r := range rs {
		b.WriteRune(r)
		if r == ']' && i+1 < len(rs) && (rs[i+1] == '(' || rs[i+1] == '[' || rs[i+1] == ':') {
			b.WriteString(zwsp)
		}
	}
	return b.String()
}
