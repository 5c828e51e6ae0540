package flows

import (
	"context"
	"net/url"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Limits on a partner's directory entry.
const (
	maxPartnerName = 80
	maxPartnerText = 120
)

// PartnerInput is a directory entry as a moderator or an operator gives it. Route is a
// channel on a space bound to the community, "platform:workspace:channel"; or
// WebhookURL (https) with its signing secret, from the command line only.
type PartnerInput struct {
	Name, Kind, Languages, Hours string
	Route                        string
	WebhookURL, Secret           string
}

// CheckPartner validates an entry against the community's bound spaces; it returns the
// partner to save, or the fields at fault.
func CheckPartner(ctx context.Context, tx *store.Tx, community int64, in PartnerInput) (store.Partner, []ui.FieldError, error) {
	v := newValues(map[string]string{"name": in.Name, "kind": in.Kind, "languages": in.Languages, "hours": in.Hours, "route": in.Route})
	p := store.Partner{CommunityID: community, Name: v.text("name", true, maxPartnerName), Languages: v.text("languages", false, maxPartnerText),
		Hours: v.text("hours", false, maxPartnerText)}
	p.Kind = strings.ToLower(v.text("kind", true, 20))
	if p.Kind != "" && partnerKind(p.Kind) != p.Kind {
		v.fail("kind", "partner.error.kind", "Kinds", strings.Join(PartnerKinds, ", "))
	}
	switch {
	case in.WebhookURL != "":
		u, err := url.Parse(in.WebhookURL)
		local := err == nil && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost")
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && local)) {
			v.fail("route", "partner.error.webhook")
		}
		if len(in.Secret) < 16 {
			v.fail("route", "partner.error.secret")
		}
		p.RouteKind, p.WebhookURL = store.RouteWebhook, in.WebhookURL
	default:
		route := v.text("route", true, 200)
		parts := strings.Split(route, ":")
		if route != "" && len(parts) != 3 {
			v.fail("route", "partner.error.route")
			break
		}
		if route == "" {
			break
		}
		p.RouteKind, p.RoutePlatform, p.RouteWorkspace, p.RouteChannel = store.RouteChannel, parts[0], parts[1], parts[2]
		b, err := tx.BindingFor(ctx, p.RoutePlatform, p.RouteWorkspace)
		switch {
		case isNotFound(err) || (err == nil && b.CommunityID != community):
			v.fail("route", "partner.error.space")
		case err != nil:
			return p, nil, err
		case p.RouteChannel == "":
			v.fail("route", "partner.error.route")
		}
	}
	return p, v.errs, nil
}

// PartnersCommand is "/tend partners" for moderators: the directory, "add" (a form) and
// "remove <name>".
func (s *Service) PartnersCommand(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.Moderator {
		return reply("case.moderators_only"), nil
	}
	sub := ""
	if len(args) > 0 {
		sub = strings.ToLower(args[0])
	}
	switch sub {
	case "add", "ajouter":
		return Result{Form: &ui.Form{ID: FormPartner, Title: ui.T("partner.form.title"), Fields: []ui.FormField{
			{Name: "name", Kind: ui.FieldText, Label: ui.T("partner.field.name"), Required: true, MaxLen: maxPartnerName},
			{Name: "kind", Kind: ui.FieldChoice, Label: ui.T("partner.field.kind"), Required: true, Options: kindOptions()},
			{Name: "languages", Kind: ui.FieldText, Label: ui.T("partner.field.languages"), MaxLen: maxPartnerText},
			{Name: "hours", Kind: ui.FieldText, Label: ui.T("partner.field.hours"), MaxLen: maxPartnerText},
			{Name: "route", Kind: ui.FieldText, Label: ui.T("partner.field.route"), Help: ui.T("partner.help.route"), Required: true, MaxLen: 200},
		}}}, nil
	case "remove", "retirer":
		name := strings.TrimSpace(strings.Join(args[1:], " "))
		return s.run(ctx, func(tx *store.Tx) (Result, error) {
			ok, err := tx.RetirePartner(ctx, a.CommunityID, name)
			if err != nil || !ok {
				return reply("partner.unknown", "Name", ui.UserText(name)), err
			}
			if err := s.audit(ctx, tx, a, "partner.retired", "partner:"+name, ""); err != nil {
				return Result{}, err
			}
			return reply("partner.retired", "Name", ui.UserText(name)), nil
		})
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		ps, err := tx.Partners(ctx, a.CommunityID, false)
		if err != nil {
			return err
		}
		card := ui.Card{Title: ui.T("partner.list_title")}
		if len(ps) == 0 {
			card.Body = append(card.Body, ui.T("partner.none"))
		}
		for _, p := range ps {
			card.Body = append(card.Body, PartnerLine(p))
		}
		res.add(ui.Out{To: ui.Actor(), Card: card})
		return nil
	})
	return res, err
}

// PartnerLine is one directory entry as moderators read it.
func PartnerLine(p store.Partner) ui.Text {
	route := ui.T("partner.route.webhook")
	if p.RouteKind == store.RouteChannel {
		route = ui.T("partner.route.channel", "Platform", ui.UserText(p.RoutePlatform), "Channel", ui.UserText(p.RouteChannel))
	}
	return ui.T("partner.line", "Name", ui.UserText(p.Name), "Kind", ui.T("partner.kind."+partnerKind(p.Kind)),
		"Languages", ui.UserText(p.Languages), "Hours", ui.UserText(p.Hours), "Route", route)
}

func kindOptions() []ui.Option {
	opts := make([]ui.Option, 0, len(PartnerKinds))
	for _, k := range PartnerKinds {
		opts = append(opts, ui.Option{Label: ui.T("partner.kind." + k), Value: k})
	}
	return opts
}

// PartnerSubmit saves a partner from the chat form (channel routes only: a webhook's
// secret does not belong in a chat).
func (s *Service) PartnerSubmit(ctx context.Context, a Actor, _ string, in map[string]string) (Result, error) {
	if !a.Moderator {
		return reply("case.moderators_only"), nil
	}
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		p, errs, err := CheckPartner(ctx, tx, a.CommunityID, PartnerInput{Name: in["name"], Kind: in["kind"], Languages: in["languages"],
			Hours: in["hours"], Route: in["route"]})
		if err != nil || len(errs) > 0 {
			return Result{Errors: errs}, err
		}
		if _, err := tx.SavePartner(ctx, p, ""); err != nil {
			return Result{}, err
		}
		if err := s.audit(ctx, tx, a, "partner.saved", "partner:"+p.Name, "kind="+p.Kind+" route="+p.RouteKind); err != nil {
			return Result{}, err
		}
		return reply("partner.saved", "Name", ui.UserText(p.Name)), nil
	})
}
