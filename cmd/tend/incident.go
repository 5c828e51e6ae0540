package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// incidentFlags are the flags of `tend incident add|update`, by the field they set.
var incidentFlags = []struct{ flag, field string }{
	{"data", flows.IncData}, {"circumstances", flows.IncCircumstances}, {"occurred", flows.IncOccurred},
	{"known", flows.IncKnown}, {"affected", flows.IncAffected}, {"risk", flows.IncRisk},
	{"sensitivity", flows.IncSensitivity}, {"consequences", flows.IncConsequences}, {"likelihood", flows.IncLikelihood},
	{"notified-cai", flows.IncNotifiedCAI}, {"notified-people", flows.IncNotifiedPeople}, {"measures", flows.IncMeasures},
}

// incident runs `tend incident add|list|show ID|update ID`: the register of
// confidentiality incidents, through the same checks as chat, audited with the actor
// "cli". The free text is sealed in the database.
func (c *cli) incident(ctx context.Context, args []string) int {
	fs := c.flags("incident add|list|show ID|update ID")
	slug := fs.String("community", "", c.t("cli.incident.flag.community"))
	values := map[string]*string{}
	for _, f := range incidentFlags {
		values[f.field] = fs.String(f.flag, "", c.t("cli.incident.flag."+f.field))
	}
	approx := fs.Bool("approximate", false, c.t("cli.incident.flag.approximate"))
	estimate := fs.Bool("estimate", false, c.t("cli.incident.flag.estimate"))
	words, code := parseAll(fs, args)
	if code >= 0 {
		return code
	}
	if len(words) == 0 {
		fs.Usage()
		return exitUsage
	}
	action := words[0]
	var id int64
	switch action {
	case "add", "list":
		if len(words) != 1 {
			fs.Usage()
			return exitUsage
		}
	case "show", "update":
		if len(words) != 2 {
			c.fail(errors.New(c.t("cli.incident.need_id", "Action", action)))
			return exitUsage
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(words[1], "#"), 10, 64)
		if err != nil || n <= 0 {
			c.fail(errors.New(c.t("cli.incident.need_id", "Action", action)))
			return exitUsage
		}
		id = n
	default:
		fs.Usage()
		return exitUsage
	}
	// Only the flags given change an incident.
	in := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		for _, x := range incidentFlags {
			if x.flag == f.Name {
				in[x.field] = *values[x.field]
			}
		}
		switch f.Name {
		case "approximate":
			in[flows.IncApproximate] = yesNo(*approx)
		case "estimate":
			in[flows.IncEstimate] = yesNo(*estimate)
		}
	})
	_, db, ok := c.openReady(ctx)
	if !ok {
		return exitFailure
	}
	defer db.Close()
	var problems []string
	err := db.InTx(ctx, func(tx *store.Tx) error {
		community, err := c.communityOf(ctx, tx, *slug)
		if err != nil {
			return err
		}
		switch action {
		case "list":
			return c.listIncidents(ctx, tx, community)
		case "show":
			return c.showIncident(ctx, tx, community, id)
		}
		saved, errs, err := flows.SaveIncident(ctx, tx, flows.CLIActor(community), id, in)
		if errors.Is(err, store.ErrNotFound) {
			return errors.New(c.t("cli.incident.unknown", "ID", id))
		}
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			problems = c.incidentProblems(errs)
			return errRefused
		}
		if id == 0 {
			c.say(c.stdout, "cli.incident.recorded", "ID", saved)
		} else {
			c.say(c.stdout, "cli.incident.updated", "ID", saved)
		}
		return nil
	})
	if errors.Is(err, errRefused) {
		c.fail(errors.New(strings.Join(problems, "\n")))
		return exitUsage
	}
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	return exitOK
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// incidentProblems turns field errors into lines that name their flag.
func (c *cli) incidentProblems(errs []ui.FieldError) []string {
	var out []string
	for _, e := range errs {
		name := e.Field
		for _, x := range incidentFlags {
			if x.field == e.Field {
				name = x.flag
			}
		}
		out = append(out, "--"+name+": "+c.uiText(e.Msg))
	}
	return out
}

func (c *cli) listIncidents(ctx context.Context, tx *store.Tx, community int64) error {
	ins, err := tx.Incidents(ctx, community, 0)
	if err != nil {
		return err
	}
	if len(ins) == 0 {
		c.say(c.stdout, "cli.incident.none")
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, c.t("cli.incident.header"))
	for _, in := range ins {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, c.uiText(flows.OccurredText(in)), in.KnownOn, c.uiText(flows.AffectedText(in)),
			c.uiText(flows.RiskLabel(in.Risk)), c.orNotYet(in.NotifiedCAIOn), c.orNotYet(in.NotifiedPeopleOn))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return tx.Audit(ctx, community, 0, "incident.viewed", "community:"+strconv.FormatInt(community, 10), "by=cli")
}

func (c *cli) orNotYet(date string) string {
	if date == "" {
		return c.t("incident.not_yet")
	}
	return date
}

// showIncident prints one incident whole, its sealed text opened for the operator.
func (c *cli) showIncident(ctx context.Context, tx *store.Tx, community, id int64) error {
	in, err := tx.Incident(ctx, community, id)
	if errors.Is(err, store.ErrNotFound) {
		return errors.New(c.t("cli.incident.unknown", "ID", id))
	}
	if err != nil {
		return err
	}
	d, err := tx.IncidentDetails(in)
	if err != nil {
		return err
	}
	card := flows.IncidentCard(in)
	fmt.Fprintln(c.stdout, c.uiText(card.Title))
	for _, f := range card.Fields {
		value := c.uiText(f.Value)
		if s, ok := f.Value.Args["Value"].(ui.Sealed); ok {
			value = flows.IncidentField(d, strings.TrimPrefix(s.Kind, flows.SealedIncident))
			if value == "" {
				value = c.t("incident.not_yet")
			}
		}
		fmt.Fprintf(c.stdout, "  %s: %s\n", c.uiText(f.Label), value)
	}
	return tx.Audit(ctx, community, 0, "incident.viewed", "incident:"+strconv.FormatInt(id, 10), "by=cli")
}
