package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/tend-community/tend/adapters/webhook"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/safety"
	"github.com/tend-community/tend/store"
)

// screener is the crisis detector the flows use: every language tend has lists for (a
// bilingual community writes in both, whatever the writer's own language), plus each
// community's own phrases.
type screener struct {
	base        *safety.Lists
	communities map[int64]*safety.Lists
}

var _ flows.Screener = (*screener)(nil)

// Screen returns the tier of a crisis signal in text, or "".
func (s *screener) Screen(community int64, text string) string {
	l := s.communities[community]
	if l == nil {
		l = s.base
	}
	sig := l.Screen(text)
	if sig.Tier == safety.TierNone {
		return ""
	}
	return sig.Tier.String()
}

// newScreener builds the detector for the configured communities.
func newScreener(ctx context.Context, db *store.DB, cs []config.Community) (*screener, error) {
	base, err := safety.Default(safety.Available()...)
	if err != nil {
		return nil, fmt.Errorf("crisis lists: %w", err)
	}
	s := &screener{base: base, communities: map[int64]*safety.Lists{}}
	for _, c := range cs {
		exts := extensions(c.CrisisPhrases)
		if len(exts) == 0 {
			continue
		}
		l, err := safety.Default(safety.Available()...)
		if err != nil {
			return nil, fmt.Errorf("crisis lists: %w", err)
		}
		for _, e := range exts {
			if err := l.Extend(e); err != nil {
				return nil, fmt.Errorf("community %q: crisis_phrases: %w", c.Slug, err)
			}
		}
		var id int64
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			id, err = tx.CommunityID(ctx, c.Slug)
			return err
		}); err != nil {
			return nil, err
		}
		s.communities[id] = l
	}
	return s, nil
}

// extensions turns a community's configured phrases into the detector's extensions.
func extensions(p config.CrisisPhrases) []safety.Extension {
	var out []safety.Extension
	for locale, l := range p {
		out = append(out, safety.Extension{Locale: locale, Imminent: l.Imminent, Ideation: l.Ideation, Distress: l.Distress, Negatives: l.Negatives})
	}
	return out
}

// safetyFor gives the app its crisis detector and the partners' webhook delivery, and
// warns about communities whose crisis resources would be empty.
func safetyFor(ctx context.Context, app *bot.App, db *store.DB, cs []config.Community, log *slog.Logger) error {
	sc, err := newScreener(ctx, db, cs)
	if err != nil {
		return err
	}
	app.Flows().SetScreener(sc)
	app.Attach(webhook.New(partnerWebhook(db), nil))
	for _, c := range cs {
		if len(c.CrisisResources) == 0 && !flows.HasDefaultResources(c.Region) {
			log.Warn("this community's region has no default crisis resources and none are configured: a person in crisis would be shown none; add [[communities.crisis_resources]]",
				"community", c.Slug, "region", c.Region)
		}
	}
	return nil
}

// partnerWebhook finds a webhook partner's URL and secret.
func partnerWebhook(db *store.DB) webhook.Resolver {
	return func(ctx context.Context, id int64) (string, []byte, error) {
		var (
			url    string
			secret []byte
		)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			p, err := tx.Partner(ctx, id)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (p.RouteKind != store.RouteWebhook || !p.Active)) {
				return webhook.ErrUnknownPartner
			}
			if err != nil {
				return err
			}
			url = p.WebhookURL
			secret, err = tx.PartnerSecret(ctx, id)
			return err
		})
		return url, secret, err
	}
}
