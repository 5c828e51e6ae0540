package bot

import (
	"regexp"
	"strings"
	"testing"
)

// pings matches every mention form the platforms turn into a notification.
var pings = regexp.MustCompile(`(?i)@(everyone|here|channel|all|someone)\b|<[!@#&]|[@＠﹫][a-z0-9_]`)

func TestSanitizeNeutralisesMentions(t *testing.T) {
	cases := []struct{ name, in string }{
		{"everyone", "hello @everyone"},
		{"here", "@here come quick"},
		{"channel", "@channel"},
		{"mattermost all", "ping @all now"},
		{"mattermost user", "thanks @bob.smith"},
		{"slack here", "<!here> help"},
		{"slack channel", "<!channel|channel>"},
		{"slack everyone", "<!everyone>"},
		{"slack subteam", "<!subteam^S123|@mods>"},
		{"slack user", "<@U024BE7LH>"},
		{"discord user", "<@123456789012345678>"},
		{"discord nick", "<@!123456789012345678>"},
		{"discord role", "<@&123456789012345678>"},
		{"discord channel", "<#123456789012345678>"},
		{"fullwidth at", "＠everyone"},
		{"bidi hidden", "@\u202eenoyreve"},
		{"twice", "@@everyone <<@1>>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := Sanitize(c.in)
			if pings.MatchString(out) {
				t.Fatalf("Sanitize(%q) = %q still pings", c.in, out)
			}
			if Sanitize(out) != out {
				t.Fatalf("Sanitize is not idempotent on %q", c.in)
			}
		})
	}
}

func TestSanitizeKeepsOrdinaryText(t *testing.T) {
	for _, s := range []string{"Ride to the Jewish General, Thursday 9:00", "Repas pour deux, sans gluten", "a < b and c > d", "line one\nline two"} {
		if got := Sanitize(s); got != s {
			t.Errorf("Sanitize(%q) = %q, want unchanged", s, got)
		}
	}
}

func TestClip(t *testing.T) {
	if got := Clip("héllo world", 5); got != "héll…" {
		t.Fatalf("Clip = %q", got)
	}
	if got := Clip("short", 10); got != "short" {
		t.Fatalf("Clip = %q", got)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"@everyone", "<!here>", "<@&1>", "plain", "＠here", "<<@@", "\u202e@x", "\xff@here"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		if pings.MatchString(out) {
			t.Fatalf("Sanitize(%q) = %q still pings", s, out)
		}
		if Sanitize(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, Sanitize(out))
		}
		if strings.ContainsRune(out, '\u202e') {
			t.Fatalf("bidi override kept in %q", out)
		}
	})
}
