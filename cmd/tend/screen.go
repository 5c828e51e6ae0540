package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tend-community/tend/safety"
)

// maxScreenLine bounds one message read by screen; chat platforms cap messages far lower.
const maxScreenLine = 1 << 20

// screen runs `tend screen [--locale en|fr ...] [--community SLUG]`: it reads messages on
// stdin, one a line, and prints each one's crisis tier (none, distress, ideation,
// imminent), one word a line, so a community can test the phrase lists and its own
// additions with a script. It never prints or keeps the text.
func (c *cli) screen(ctx context.Context, args []string) int {
	fs := c.flags("screen")
	var locales localeList
	fs.Var(&locales, "locale", c.t("cli.screen.flag.locale"))
	slug := fs.String("community", "", c.t("cli.screen.flag.community"))
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		c.say(c.stderr, "cli.screen.about")
	}
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	if len(locales) == 0 {
		locales = localeList{"en", "fr"}
	}
	lists, err := safety.Default(locales...)
	if err != nil {
		// Name the locale at fault in the operator's language.
		for _, loc := range locales {
			if _, err := safety.Default(loc); err != nil {
				c.say(c.stderr, "cli.screen.unknown_locale", "Locale", loc, "Known", strings.Join(safety.Available(), ", "))
				return exitUsage
			}
		}
		c.fail(err)
		return exitFailure
	}
	if *slug != "" {
		if code := c.screenCommunity(lists, *slug); code >= 0 {
			return code
		}
	}

	sc := bufio.NewScanner(c.stdin)
	sc.Buffer(make([]byte, 0, 64*1024), maxScreenLine)
	for sc.Scan() {
		if ctx.Err() != nil {
			return exitFailure
		}
		fmt.Fprintln(c.stdout, lists.Screen(sc.Text()).Tier)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			c.say(c.stderr, "cli.screen.line_too_long", "Max", maxScreenLine)
		} else {
			c.fail(err)
		}
		return exitFailure
	}
	return exitOK
}

// localeList is a repeatable flag that also takes commas: --locale en --locale fr, or
// --locale en,fr.
type localeList []string

func (l *localeList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *localeList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// screenCommunity adds a community's own phrases (crisis_phrases in its config section,
// by language) to lists and returns the exit code to stop with, or -1 to go on.
func (c *cli) screenCommunity(lists *safety.Lists, slug string) int {
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	if cfg.Path == "" {
		c.say(c.stderr, "cli.screen.no_config", "Community", slug)
		return exitUsage
	}
	var known []string
	for _, cm := range cfg.Communities {
		known = append(known, cm.Slug)
		if cm.Slug != slug {
			continue
		}
		// In a fixed order, so a mistake is always reported the same way.
		locales := slices.Sorted(maps.Keys(cm.CrisisPhrases))
		n := 0
		for _, loc := range locales {
			p := cm.CrisisPhrases[loc]
			n += len(p.Imminent) + len(p.Ideation) + len(p.Distress) + len(p.Negatives)
		}
		if n == 0 {
			c.say(c.stderr, "cli.screen.no_phrases", "Community", slug)
			return -1
		}
		for _, loc := range locales {
			p := cm.CrisisPhrases[loc]
			err := lists.Extend(safety.Extension{Locale: loc, Imminent: p.Imminent, Ideation: p.Ideation,
				Distress: p.Distress, Negatives: p.Negatives})
			if err != nil {
				for _, line := range strings.Split(strings.TrimPrefix(err.Error(), "safety: "), "\n") {
					c.say(c.stderr, "cli.screen.phrases_bad", "Community", slug, "Locale", loc, "Error", line)
				}
				return exitFailure
			}
		}
		c.say(c.stderr, "cli.screen.extended", "Community", slug, "Count", n)
		return -1
	}
	if len(known) == 0 {
		c.say(c.stderr, "cli.screen.no_communities", "Path", cfg.Path)
	} else {
		slices.Sort(known)
		c.say(c.stderr, "cli.screen.unknown_community", "Community", slug, "Path", cfg.Path, "Known", strings.Join(known, ", "))
	}
	return exitFailure
}
