package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// statsCSVHeader names the CSV columns; they are field names for programs, not prose.
var statsCSVHeader = []string{"month", "category", "requests", "offers", "fulfilled_percent", "median_hours_to_first_claim",
	"active_volunteers", "repeat_helpers", "follow_ups_sent", "helped_then_helping"}

// stats runs `tend stats [--community SLUG] [--csv] [--since YYYY-MM] [--until YYYY-MM]`:
// the impact figures, with the same suppression as in chat. The look is audited.
func (c *cli) stats(ctx context.Context, args []string) int {
	fs := c.flags("stats")
	slug := fs.String("community", "", c.t("cli.stats.flag.community"))
	asCSV := fs.Bool("csv", false, c.t("cli.stats.flag.csv"))
	since := fs.String("since", "", c.t("cli.stats.flag.since"))
	until := fs.String("until", "", c.t("cli.stats.flag.until"))
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	_, db, ok := c.openReady(ctx)
	if !ok {
		return exitFailure
	}
	defer db.Close()
	var im flows.Impact
	var cats map[string]string
	err := db.InTx(ctx, func(tx *store.Tx) error {
		id, err := c.communityOf(ctx, tx, *slug)
		if err != nil {
			return err
		}
		com, err := tx.Community(ctx, id)
		if err != nil {
			return err
		}
		loc := zoneOf(com.Timezone)
		from, to, err := flows.MonthRange(*since, *until, loc)
		if err != nil {
			return errors.New(c.t("cli.stats.bad_month", "Since", *since, "Until", *until))
		}
		if im, err = flows.ComputeImpact(ctx, tx, id, loc, from, to); err != nil {
			return err
		}
		cs, err := tx.Categories(ctx, id)
		if err != nil {
			return err
		}
		cats = map[string]string{}
		for _, k := range cs {
			cats[k.Key] = c.uiText(flows.CategoryText(k.Key, k.LabelEN, k.LabelFR))
		}
		detail := strings.TrimSpace(flows.AuditBounds(*since, *until))
		return tx.Audit(ctx, id, 0, "stats.viewed", "community:"+strconv.FormatInt(id, 10), strings.TrimSpace(detail+" by=cli"))
	})
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	if *asCSV {
		err = writeStatsCSV(c.stdout, im)
	} else {
		err = c.writeStatsTable(im, cats)
	}
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	return exitOK
}

// writeStatsCSV writes the figures for programs: numbers as numbers (a dot before the
// decimals), "<5" for a small count, "suppressed" for a figure withheld, the month and
// category "all" on totals.
func writeStatsCSV(w io.Writer, im flows.Impact) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(statsCSVHeader); err != nil {
		return err
	}
	count := func(n int) string {
		if _, ok := flows.Count(n); !ok {
			return "<" + strconv.Itoa(flows.MinCell)
		}
		return strconv.Itoa(n)
	}
	dec := func(v float64, ok bool) string {
		if !ok {
			return "suppressed"
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	for _, r := range im.Rows {
		month, cat := r.Month, r.Category
		if month == "" {
			month = "all"
		}
		if cat == "" {
			cat = "all"
		}
		if err := cw.Write([]string{month, cat, count(r.Requests), count(r.Offers), dec(r.Share()), dec(r.MedianHours()),
			count(r.Volunteers), count(r.RepeatHelpers), count(r.FollowUps), count(r.Reciprocity)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeStatsTable writes the figures for people, in the operator's language.
func (c *cli) writeStatsTable(im flows.Impact, cats map[string]string) error {
	if len(im.Rows) == 0 {
		c.say(c.stdout, "cli.stats.none")
		return nil
	}
	c.say(c.stdout, "stats.legend", "Min", flows.MinCell)
	c.say(c.stdout, "stats.follow_ups_note")
	fmt.Fprintln(c.stdout)
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, c.t("cli.stats.header"))
	for _, r := range im.Rows {
		cat := c.uiText(flows.CategoryName(r.Category, nil))
		if name, ok := cats[r.Category]; ok {
			cat = name
		}
		cells := []string{c.uiText(flows.MonthText(r.Month)), cat}
		for _, f := range flows.ImpactFigures(r) {
			cells = append(cells, c.uiText(f))
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return w.Flush()
}

// zoneOf loads a community's time zone; UTC when it cannot.
func zoneOf(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
