package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/tend-community/tend/bench"
	"github.com/tend-community/tend/config"
)

// bench runs `tend bench`: the load and throughput measurements of DESIGN.md's Targets
// against the configured database or --dsn.
func (c *cli) bench(ctx context.Context, args []string) int {
	fs := c.flags("bench")
	dsn := fs.String("dsn", "", c.t("cli.bench.flag.dsn"))
	people := fs.Int("people", bench.DefaultPeople, c.t("cli.bench.flag.people"))
	think := fs.Duration("think", bench.DefaultThink, c.t("cli.bench.flag.think"))
	duration := fs.Duration("duration", bench.DefaultDuration, c.t("cli.bench.flag.duration"))
	concurrency := fs.Int("concurrency", 2*runtime.NumCPU(), c.t("cli.bench.flag.concurrency"))
	withJobs := fs.Bool("jobs", false, c.t("cli.bench.flag.jobs"))
	asJSON := fs.Bool("json", false, c.t("cli.bench.flag.json"))
	cpuProfile := fs.String("cpuprofile", "", c.t("cli.bench.flag.cpuprofile"))
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	for _, bad := range []struct {
		flag, value string
		wrong       bool
	}{
		{"people", fmt.Sprint(*people), *people < 2},
		{"think", think.String(), *think <= 0},
		{"duration", duration.String(), *duration < 100*time.Millisecond},
		{"concurrency", fmt.Sprint(*concurrency), *concurrency < 1},
	} {
		if bad.wrong {
			c.say(c.stderr, "cli.bench.invalid", "Flag", bad.flag, "Value", bad.value)
			return exitUsage
		}
	}
	if *dsn == "" {
		cfg, ok := c.loadConfig()
		if !ok {
			return exitFailure
		}
		if err := cfg.PrepareDataDir(); err != nil {
			c.fail(err)
			return exitFailure
		}
		*dsn = cfg.Database.URL
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			c.fail(err)
			return exitFailure
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			c.fail(err)
			return exitFailure
		}
		defer pprof.StopCPUProfile()
	}

	c.say(c.stderr, "cli.bench.start", "DSN", config.RedactDSN(*dsn))
	line := c.progressLine()
	rep, err := bench.Run(ctx, bench.Options{DSN: *dsn, People: *people, Think: *think, Duration: *duration,
		Concurrency: *concurrency, Jobs: *withJobs, Progress: line.show})
	line.end()
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			c.fail(err)
			return exitFailure
		}
	} else {
		c.benchTable(rep)
	}
	if rep.Errors > 0 || rep.Duplicates > 0 {
		c.say(c.stderr, "cli.bench.not_clean", "Errors", rep.Errors, "Duplicates", rep.Duplicates, "First", rep.FirstError)
		return exitFailure
	}
	return exitOK
}

// progress writes the progress line on stderr: rewritten in place on a terminal, one
// line a second otherwise.
type progress struct {
	c        *cli
	terminal bool
	// width is the widest line written so far on a terminal.
	width int
}

func (c *cli) progressLine() *progress {
	p := &progress{c: c}
	if f, ok := c.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = true
	}
	return p
}

func (p *progress) show(s bench.Progress) {
	c := p.c
	secs := fmt.Sprintf("%.0f", s.Elapsed.Seconds())
	var text string
	switch s.Phase {
	case bench.PhaseSetup:
		text = c.t("cli.bench.progress.setup")
	case bench.PhaseLoad:
		text = c.t("cli.bench.progress.load", "Elapsed", secs, "Events", s.Events, "Rate", fmt.Sprintf("%.0f", s.Rate),
			"P99", fmt.Sprintf("%.1f", float64(s.P99)/float64(time.Millisecond)))
	case bench.PhaseClaims:
		text = c.t("cli.bench.progress.claims", "Elapsed", secs, "Events", s.Events, "Rate", fmt.Sprintf("%.0f", s.Rate))
	case bench.PhaseBaseline:
		text = c.t("cli.bench.progress.baseline", "Elapsed", secs, "Events", s.Events, "Rate", fmt.Sprintf("%.0f", s.Rate))
	case bench.PhaseDrain:
		text = c.t("cli.bench.progress.drain", "Elapsed", secs, "Events", s.Events, "Backlog", s.Backlog)
	default:
		return
	}
	if !p.terminal {
		fmt.Fprintln(c.stderr, text)
		return
	}
	// Blank out whatever a longer earlier line left on screen.
	pad := ""
	if n := p.width - len([]rune(text)); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = max(p.width, len([]rune(text)))
	fmt.Fprint(c.stderr, "\r"+text+pad)
}

// end finishes a line rewritten in place.
func (p *progress) end() {
	if p.terminal && p.width > 0 {
		fmt.Fprintln(p.c.stderr)
	}
}

// benchTable prints the report for people.
func (c *cli) benchTable(r bench.Report) {
	f1 := func(x float64) string { return fmt.Sprintf("%.1f", x) }
	jobs := c.t("cli.bench.value.jobs_off")
	if r.Jobs {
		jobs = c.t("cli.bench.value.jobs_on")
	}
	rss := c.t("cli.bench.value.na")
	if r.PeakRSSMB != nil {
		rss = c.t("cli.bench.value.mb", "MB", f1(*r.PeakRSSMB))
	}
	rows := [][2]string{
		{c.t("cli.bench.row.database"), c.t("cli.bench.value.database", "Engine", r.Engine, "DSN", r.DSN, "Jobs", jobs)},
		{c.t("cli.bench.row.community"), r.Community},
		{c.t("cli.bench.row.workload"), c.t("cli.bench.value.workload", "People", r.People, "Requesters", r.Requesters,
			"Volunteers", r.Volunteers, "Think", r.Think, "Duration", r.Duration)},
		{c.t("cli.bench.row.offered"), c.t("cli.bench.value.event_rate", "Rate", f1(r.OfferedRate))},
		{c.t("cli.bench.row.achieved"), c.t("cli.bench.value.events", "Rate", f1(r.EventRate), "Events", r.Events)},
		{c.t("cli.bench.row.ack"), c.t("cli.bench.value.ack", "P50", f1(r.AckP50), "P95", f1(r.AckP95), "P99", f1(r.AckP99), "Max", f1(r.AckMax))},
		{c.t("cli.bench.row.errors"), fmt.Sprint(r.Errors)},
		{c.t("cli.bench.row.refusals"), fmt.Sprint(r.Refusals)},
		{c.t("cli.bench.row.claims"), c.t("cli.bench.value.claims", "Rate", f1(r.ClaimsPerS), "Claims", r.Claims,
			"Seconds", f1(r.ClaimSeconds), "Workers", r.Concurrency, "P99", f1(r.ClaimP99))},
		{c.t("cli.bench.row.baseline"), c.t("cli.bench.value.baseline", "Rate", f1(r.BaselinePerS), "Txs", r.BaselineTxs,
			"Seconds", f1(r.BaselineSeconds), "Writes", len(r.BaselineWrites))},
		{c.t("cli.bench.row.ratio"), c.t("cli.bench.value.ratio", "Ratio", fmt.Sprintf("%.2f", r.Ratio))},
		{c.t("cli.bench.row.drain"), c.t("cli.bench.value.drain", "Rate", f1(r.DrainPerS), "Rows", r.DrainRows, "Seconds", f1(r.DrainSeconds))},
		{c.t("cli.bench.row.duplicates"), fmt.Sprint(r.Duplicates)},
		{c.t("cli.bench.row.rss"), rss},
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	_ = tw.Flush()
}
