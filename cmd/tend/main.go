// Command tend is the mutual-aid bot: serve, console, migrate, doctor, bench, manifest,
// discord, mattermost, stats, incident, version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// cli carries what every subcommand needs; one per run, so tests can run in parallel.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	cat            *catalog.Catalog
	lang           string
	configPath     string
}

// commands in the order usage lists them.
var commands = []string{"serve", "console", "migrate", "doctor", "bench", "manifest", "discord", "mattermost", "partners", "screen", "audit", "community", "stats", "incident", "export", "forget", "keys", "backup", "version", "help"}

// run is main without os.Exit; args exclude the program name.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cat, err := catalog.New()
	if err != nil {
		fmt.Fprintln(stderr, "tend:", err)
		return exitFailure
	}
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, cat: cat, lang: operatorLang(getenv)}

	top := flag.NewFlagSet("tend", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.StringVar(&c.configPath, "config", "", c.t("cli.flag.config"))
	top.Usage = func() { c.usage(stderr) }
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if top.NArg() == 0 {
		c.usage(stderr)
		return exitUsage
	}
	name, rest := top.Arg(0), top.Args()[1:]
	switch name {
	case "help", "-h", "--help":
		c.usage(stdout)
		return exitOK
	case "version":
		return c.version(rest)
	case "migrate":
		return c.migrate(ctx, rest)
	case "doctor":
		return c.doctor(ctx, rest)
	case "serve":
		return c.serve(ctx, rest)
	case "bench":
		return c.bench(ctx, rest)
	case "manifest":
		return c.manifest(ctx, rest)
	case "partners":
		return c.partners(ctx, rest)
	case "screen":
		return c.screen(ctx, rest)
	case "audit":
		return c.audit(ctx, rest)
	case "stats":
		return c.stats(ctx, rest)
	case "incident":
		return c.incident(ctx, rest)
	case "export":
		return c.export(ctx, rest)
	case "forget":
		return c.forget(ctx, rest)
	case "keys":
		return c.keys(ctx, rest)
	case "backup":
		return c.backup(ctx, rest)
	case "community":
		return c.community(ctx, rest)
	case "discord":
		return c.discord(ctx, rest)
	case "mattermost":
		return c.mattermost(ctx, rest)
	case "console":
		if err := runConsole(ctx, rest, stdin, stdout, stderr, c.consoleEnv()); err != nil {
			c.fail(err)
			return exitFailure
		}
		return exitOK
	default:
		c.say(stderr, "cli.unknown_command", "Command", name)
		c.usage(stderr)
		return exitUsage
	}
}

// operatorLang picks the language of command-line messages: TEND_LOCALE, then the
// POSIX locale variables, then English.
func operatorLang(getenv func(string) string) string {
	posix := ""
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if posix = getenv(v); posix != "" {
			break
		}
	}
	return catalog.Pick(getenv("TEND_LOCALE"), posix)
}

// consoleEnv hands a top-level --config to the console through TEND_CONFIG, since the
// console parses its own flags.
func (c *cli) consoleEnv() func(string) string {
	if c.configPath == "" {
		return c.getenv
	}
	path, getenv := c.configPath, c.getenv
	return func(k string) string {
		if k == config.EnvConfig {
			return path
		}
		return getenv(k)
	}
}

// t localises a message; kv are argument name/value pairs.
func (c *cli) t(id string, kv ...any) string {
	args := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		args[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return c.cat.Localize(c.lang, id, args)
}

// say prints one localised line.
func (c *cli) say(w io.Writer, id string, kv ...any) {
	fmt.Fprintln(w, c.t(id, kv...))
}

// fail prints an error on stderr, one line per joined error.
func (c *cli) fail(err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		c.say(c.stderr, "cli.error", "Error", line)
	}
}

func (c *cli) usage(w io.Writer) {
	c.say(w, "cli.usage.line")
	fmt.Fprintln(w)
	c.say(w, "cli.usage.commands")
	for _, name := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", name, c.t("cli.usage."+name))
	}
	fmt.Fprintln(w)
	c.say(w, "cli.usage.more")
}

// flags makes a subcommand's flag set; every subcommand accepts --config too.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.configPath, "config", c.configPath, c.t("cli.flag.config"))
	fs.Usage = func() {
		c.say(c.stderr, "cli.usage.command", "Command", name)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses a subcommand's flags and returns the exit code to stop with, or -1.
func parse(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	return -1
}

// parseAll parses flags wherever they stand among the positional arguments.
func parseAll(fs *flag.FlagSet, args []string) ([]string, int) {
	var positional []string
	for {
		if code := parse(fs, args); code >= 0 {
			return nil, code
		}
		if fs.NArg() == 0 {
			return positional, -1
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseAction parses flags on both sides of a subcommand's one action word, which must be
// one of actions; a code >= 0 means stop with it (the usage was shown).
func parseAction(fs *flag.FlagSet, args []string, actions ...string) (string, int) {
	words, code := parseAll(fs, args)
	if code >= 0 {
		return "", code
	}
	if len(words) != 1 || !slices.Contains(actions, words[0]) {
		fs.Usage()
		return "", exitUsage
	}
	return words[0], -1
}

// loadConfig loads and validates the config, printing problems.
func (c *cli) loadConfig() (*config.Config, bool) {
	cfg, err := config.Load(c.configPath, c.getenv)
	if err != nil {
		c.fail(err)
		return nil, false
	}
	return cfg, true
}
