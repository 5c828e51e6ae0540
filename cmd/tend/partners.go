package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// partners runs `tend partners list|add|remove`: the partner directory from the command
// line, where a webhook partner's signing secret can be given from a file.
func (c *cli) partners(ctx context.Context, args []string) int {
	fs := c.flags("partners list|add|remove")
	community := fs.String("community", "", c.t("cli.partners.flag.community"))
	name := fs.String("name", "", c.t("cli.partners.flag.name"))
	kind := fs.String("kind", "", c.t("cli.partners.flag.kind", "Kinds", strings.Join(flows.PartnerKinds, ", ")))
	languages := fs.String("languages", "", c.t("cli.partners.flag.languages"))
	hours := fs.String("hours", "", c.t("cli.partners.flag.hours"))
	channel := fs.String("channel", "", c.t("cli.partners.flag.channel"))
	hook := fs.String("webhook", "", c.t("cli.partners.flag.webhook"))
	secretFile := fs.String("secret-file", "", c.t("cli.partners.flag.secret_file"))
	action, code := parseAction(fs, args, "list", "add", "remove")
	if code >= 0 {
		return code
	}
	_, db, ok := c.openReady(ctx)
	if !ok {
		return exitFailure
	}
	defer db.Close()
	var secret string
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			c.fail(fmt.Errorf("%s: %w", *secretFile, err))
			return exitFailure
		}
		secret = strings.TrimSpace(string(b))
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		id, err := c.communityOf(ctx, tx, *community)
		if err != nil {
			return err
		}
		switch action {
		case "list":
			return c.listPartners(ctx, tx, id)
		case "remove":
			ok, err := tx.RetirePartner(ctx, id, *name)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New(c.t("cli.partners.unknown", "Name", *name))
			}
			c.say(c.stdout, "cli.partners.removed", "Name", *name)
			return tx.Audit(ctx, id, 0, "partner.retired", "partner:"+*name, "by=command line")
		}
		p, errs, err := flows.CheckPartner(ctx, tx, id, flows.PartnerInput{Name: *name, Kind: *kind, Languages: *languages,
			Hours: *hours, Route: *channel, WebhookURL: *hook, Secret: secret})
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			var lines []string
			for _, e := range errs {
				lines = append(lines, "--"+flagOf(e.Field)+": "+c.text(e.Msg))
			}
			return errors.New(strings.Join(lines, "\n"))
		}
		if _, err := tx.SavePartner(ctx, p, secret); err != nil {
			return err
		}
		c.say(c.stdout, "cli.partners.saved", "Name", p.Name)
		return tx.Audit(ctx, id, 0, "partner.saved", "partner:"+p.Name, "kind="+p.Kind+" route="+p.RouteKind+" by=command line")
	})
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	return exitOK
}

// flagOf names the flag behind a partner field.
func flagOf(field string) string {
	if field == "route" {
		return "channel / --webhook"
	}
	return field
}

// text renders a flow's message with plain arguments.
func (c *cli) text(t ui.Text) string {
	kv := make([]any, 0, 2*len(t.Args))
	for k, v := range t.Args {
		kv = append(kv, k, v)
	}
	return c.t(t.ID, kv...)
}

// communityOf finds a community by slug, or the only one when slug is empty.
func (c *cli) communityOf(ctx context.Context, tx *store.Tx, slug string) (int64, error) {
	if slug != "" {
		id, err := tx.CommunityID(ctx, slug)
		if errors.Is(err, store.ErrNotFound) {
			return 0, errors.New(c.t("cli.partners.no_community", "Slug", slug))
		}
		return id, err
	}
	cs, err := tx.Communities(ctx)
	if err != nil {
		return 0, err
	}
	if len(cs) != 1 {
		return 0, errors.New(c.t("cli.partners.which_community", "Count", len(cs)))
	}
	return cs[0].ID, nil
}

func (c *cli) listPartners(ctx context.Context, tx *store.Tx, community int64) error {
	ps, err := tx.Partners(ctx, community, true)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		c.say(c.stdout, "cli.partners.none")
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, c.t("cli.partners.header"))
	for _, p := range ps {
		route := p.WebhookURL
		if p.RouteKind == store.RouteChannel {
			route = p.RoutePlatform + ":" + p.RouteWorkspace + ":" + p.RouteChannel
		}
		state := c.t("cli.partners.active")
		if !p.Active {
			state = c.t("cli.partners.retired")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, p.Languages, p.Hours, route, state)
	}
	return w.Flush()
}
