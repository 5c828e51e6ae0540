package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tend-community/tend/catalog"
)

// screenRun calls c.screen directly (the dispatch in run is wired separately) and
// returns its exit code, stdout and stderr.
func screenRun(t *testing.T, lang, configPath string, getenv func(string) string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: getenv, cat: cat, lang: lang, configPath: configPath}
	code := c.screen(context.Background(), args)
	return code, out.String(), errb.String()
}

const screenConfigFile = `
[[communities]]
slug = "rosemont"
name = "Rosemont Neighbours"
locale = "fr"
timezone = "America/Toronto"

  [communities.crisis_phrases.en]
  imminent = ["going to the bridge"]
  negatives = ["going to the bridge (club|tournament)"]

  [communities.crisis_phrases.fr]
  distress = ["chu écœuré de toute"]

[[communities]]
slug = "plateau"
name = "Plateau"
timezone = "America/Toronto"
`

func TestScreenCommand(t *testing.T) {
	dir := t.TempDir()
	withPhrases := writeFile(t, dir, "tend.toml", screenConfigFile, 0o600)
	noCommunities := writeFile(t, dir, "empty.toml", "data_dir = \".tend\"\n", 0o600)
	broken := writeFile(t, dir, "broken.toml", "[[communities]\nslug = ", 0o600)
	badPhrases := writeFile(t, dir, "bad.toml", `
[[communities]]
slug = "rosemont"
name = "Rosemont"
timezone = "America/Toronto"
  [communities.crisis_phrases.en]
  imminent = ["going {0,9} bridge", "(unclosed"]
`, 0o600)

	input := strings.Join([]string{
		"Can someone drive Rosa to chemo on Tuesday?",
		"I want to die",
		"j'en peux plus",
		"",
		"c'est mon dernier message",
		"I'm going to the bridge after dinner",
		"Who's going to the bridge club?",
		"chu écœuré de toute",
	}, "\n") + "\n"

	cases := []struct {
		name      string
		lang      string
		config    string
		env       func(string) string
		args      []string
		code      int
		out       string // the whole of stdout
		errHas    string // a piece of stderr, "" for none at all
		errHasNot string
	}{
		{name: "both languages by default", args: nil,
			out: "none\nideation\ndistress\nnone\nimminent\nnone\nnone\nnone\n"},
		{name: "english only", args: []string{"--locale", "en"},
			out: "none\nideation\nnone\nnone\nnone\nnone\nnone\nnone\n"},
		{name: "commas and repeats", args: []string{"--locale", "fr,", "--locale", "EN"},
			out: "none\nideation\ndistress\nnone\nimminent\nnone\nnone\nnone\n"},
		{name: "a community's own phrases", config: withPhrases, args: []string{"--community", "rosemont"},
			out:    "none\nideation\ndistress\nnone\nimminent\nimminent\nnone\ndistress\n",
			errHas: `Community "rosemont": 3 phrases of its own added`},
		{name: "config from TEND_CONFIG", env: env("TEND_CONFIG", withPhrases), args: []string{"--community", "rosemont", "--locale", "en"},
			out:    "none\nideation\nnone\nnone\nnone\nimminent\nnone\ndistress\n",
			errHas: "3 phrases of its own added"},
		{name: "a community without phrases", config: withPhrases, args: []string{"--community", "plateau"},
			out:    "none\nideation\ndistress\nnone\nimminent\nnone\nnone\nnone\n",
			errHas: `Community "plateau" has no crisis phrases of its own yet, so the default lists are used`},
		{name: "in French", lang: "fr", config: withPhrases, args: []string{"--community", "plateau"},
			out:    "none\nideation\ndistress\nnone\nimminent\nnone\nnone\nnone\n",
			errHas: "n'a pas encore de phrases de crise à elle"},
		{name: "unknown locale", args: []string{"--locale", "en,xx"}, code: exitUsage,
			errHas: `no crisis phrase lists for "xx"; available: en, fr`},
		{name: "stray argument", args: []string{"hello"}, code: exitUsage, errHas: "Usage: tend screen"},
		{name: "help", args: []string{"-h"}, code: exitOK, errHas: "none, distress, ideation or imminent"},
		{name: "community without config", args: []string{"--community", "rosemont"}, code: exitUsage,
			errHas: "--community rosemont needs the config file"},
		{name: "unknown community", config: withPhrases, args: []string{"--community", "verdun"}, code: exitFailure,
			errHas: `has no community "verdun"; its communities are: plateau, rosemont`},
		{name: "no communities at all", config: noCommunities, args: []string{"--community", "verdun"}, code: exitFailure,
			errHas: "describes no community yet"},
		{name: "unreadable config", config: broken, args: []string{"--community", "rosemont"}, code: exitFailure,
			errHas: "tend: config: " + broken},
		{name: "a broken config matters only with --community", config: broken, args: []string{"--locale", "en"},
			out: "none\nideation\nnone\nnone\nnone\nnone\nnone\nnone\n"},
		{name: "bad phrases", config: badPhrases, args: []string{"--community", "rosemont"}, code: exitFailure,
			errHas: `community "rosemont", crisis_phrases.en: imminent: "going {0,9} bridge": gap {0,9} is wider than 3 words`, errHasNot: "safety:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lang, getenv := tc.lang, tc.env
			if lang == "" {
				lang = "en"
			}
			if getenv == nil {
				getenv = env()
			}
			code, out, errOut := screenRun(t, lang, tc.config, getenv, input, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%sstderr:\n%s", code, tc.code, out, errOut)
			}
			if tc.code == exitOK && tc.name != "help" && out != tc.out {
				t.Errorf("stdout:\n%swant:\n%s", out, tc.out)
			}
			if tc.code != exitOK && out != "" {
				t.Errorf("stdout on failure: %q", out)
			}
			if tc.errHas == "" && errOut != "" {
				t.Errorf("unexpected stderr: %s", errOut)
			}
			if !strings.Contains(errOut, tc.errHas) {
				t.Errorf("stderr does not say %q:\n%s", tc.errHas, errOut)
			}
			if tc.errHasNot != "" && strings.Contains(errOut, tc.errHasNot) {
				t.Errorf("stderr says %q:\n%s", tc.errHasNot, errOut)
			}
			// Nothing of the messages is echoed anywhere.
			for _, secret := range []string{"Rosa", "want to die", "dernier message"} {
				if strings.Contains(out+errOut, secret) {
					t.Errorf("output repeats %q", secret)
				}
			}
		})
	}
}

func TestScreenLongLine(t *testing.T) {
	code, out, errOut := screenRun(t, "en", "", env(), "I want to die\n"+strings.Repeat("a", maxScreenLine+1)+"\n")
	if code != exitFailure || out != "ideation\n" || !strings.Contains(errOut, "a line is longer than") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestLocaleList(t *testing.T) {
	var l localeList
	for _, v := range []string{"en", " fr , ,es", ""} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.String(); got != "en,fr,es" {
		t.Fatalf("locales = %q", got)
	}
}
