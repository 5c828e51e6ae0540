package mattermost

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNeutralize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"@all @channel @here", "@\u200ball @\u200bchannel @\u200bhere"},
		{"ask @bob or @care-team", "ask @\u200bbob or @\u200bcare-team"},
		{"mail me: a@b.org", "mail me: a@\u200bb.org"},
		{"＠here", "@\u200bhere"},
		{"[my bank](https://evil.example)", "[my bank]\u200b(https://evil.example)"},
		{"![x](https://evil.example/i.png)", "![x]\u200b(https://evil.example/i.png)"},
		{"[text][ref]\n[ref]: https://evil.example", "[text]\u200b[ref]\n[ref]\u200b: https://evil.example"},
		{"https://example.org/page shows itself", "https://example.org/page shows itself"},
		{"a\u202eb\u0007c", "abc"},
		{"plain [brackets] stay", "plain [brackets] stay"},
	} {
		if got := Neutralize(tc.in); got != tc.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// mattermostMention is what Mattermost reads as a mention: @ then a letter or digit.
var mattermostMention = regexp.MustCompile(`@[\pL\pN_]`)

func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{"@all", "hi @here", "[a](b)", "[a][b]", "[a]: b", "![i](u)", "＠channel", "﹫x", "]]((",
		"a\u200b@b", "@\u200b@x", "\xff@all", "[x]\u200b(y)", "]\n(", "text with ] and ( apart"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Neutralize(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q", in)
		}
		if again := Neutralize(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		if m := mattermostMention.FindString(out); m != "" {
			t.Fatalf("%q still mentions (%q) in %q", in, m, out)
		}
		for _, link := range []string{"](", "][", "]:"} {
			if strings.Contains(out, link) {
				t.Fatalf("%q still has a link %q in %q", in, link, out)
			}
		}
		// Nothing a reader would read is lost: letters and digits come through in order.
		keep := func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					return r
				}
				return -1
			}, s)
		}
		if keep(strings.ToValidUTF8(in, "\uFFFD")) != keep(out) {
			t.Fatalf("words changed: %q -> %q", in, out)
		}
	})
}
