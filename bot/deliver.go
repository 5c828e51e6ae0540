package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// ErrRevealRefused is returned when a card carrying private details was addressed to a
// place that is not one person's direct messages. It is a bug guard: flows never do it.
var ErrRevealRefused = errors.New("bot: private details may only go to a direct message")

// deliver hands a flow's output to the adapters: forms first, then every message.
func (a *App) deliver(ctx context.Context, sc scene, res flows.Result) error {
	var errs []error
	if len(res.Errors) > 0 {
		errs = append(errs, a.deliverOut(ctx, sc, formErrors(res.Errors)))
	}
	if res.Form != nil {
		errs = append(errs, a.startForm(ctx, sc, *res.Form))
	}
	for _, o := range res.Outs {
		errs = append(errs, a.deliverOut(ctx, sc, o))
	}
	return errors.Join(errs...)
}

// formErrors lists validation messages for a form that came back whole (a modal).
func formErrors(fe []ui.FieldError) ui.Out {
	card := ui.Card{Title: ui.T("form.errors")}
	for _, e := range fe {
		card.Body = append(card.Body, e.Msg)
	}
	return ui.Out{To: ui.Actor(), Card: card}
}

// target is one concrete place an Out goes to.
type target struct {
	adapter Adapter
	dest    Destination
	lang    string
	member  int64
}

func (a *App) deliverOut(ctx context.Context, sc scene, o ui.Out) error {
	targets, err := a.targets(ctx, sc, o.To)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range targets {
		errs = append(errs, a.send(ctx, t, o))
	}
	return errors.Join(errs...)
}

// targets resolves a neutral address to platform places.
func (a *App) targets(ctx context.Context, sc scene, to ui.Target) ([]target, error) {
	switch to.Kind {
	case ui.ToActor:
		ad, ok := a.adapters[sc.ev.Platform]
		if !ok {
			return nil, fmt.Errorf("bot: no adapter for %s", sc.ev.Platform)
		}
		return []target{{adapter: ad, dest: actorDest(sc.ev), lang: catalog.Pick(sc.actor.Locale, sc.community.Locale), member: sc.actor.MemberID}}, nil
	case ui.ToMember:
		return a.memberTargets(ctx, sc, to.MemberID)
	case ui.ToBoard, ui.ToModerators:
		var out []target
		err := a.db.InTx(ctx, func(tx *store.Tx) error {
			c, err := tx.Community(ctx, to.CommunityID)
			if err != nil {
				return err
			}
			bs, err := tx.Bindings(ctx, to.CommunityID)
			if err != nil {
				return err
			}
			for _, b := range bs {
				ad, ok := a.adapters[b.Platform]
				if !ok {
					continue
				}
				ch := b.BoardChannel
				if to.Kind == ui.ToModerators {
					ch = b.ModeratorsChannel
				}
				out = append(out, target{adapter: ad, lang: catalog.Pick(c.Locale, "en"),
					dest: Destination{Kind: DestChannel, Workspace: b.Workspace, ChannelID: ch}})
			}
			return nil
		})
		return out, err
	}
	return nil, fmt.Errorf("bot: unknown target %q", to.Kind)
}

// memberTargets picks where to reach a member directly: their account on the platform
// of the current event if they have one there, else their first account on a platform
// tend is connected to.
func (a *App) memberTargets(ctx context.Context, sc scene, member int64) ([]target, error) {
	var out []target
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := tx.Member(ctx, member)
		if err != nil {
			return err
		}
		c, err := tx.Community(ctx, m.CommunityID)
		if err != nil {
			return err
		}
		ids, err := tx.IdentitiesOf(ctx, member)
		if err != nil {
			return err
		}
		bs, err := tx.Bindings(ctx, m.CommunityID)
		if err != nil {
			return err
		}
		lang := catalog.Pick(m.Locale, c.Locale)
		if member == sc.actor.MemberID {
			lang = catalog.Pick(sc.actor.Locale, lang)
		}
		var best *target
		for _, id := range ids {
			ad, ok := a.adapters[id.Platform]
			if !ok {
				continue
			}
			ws := ""
			for _, b := range bs {
				if b.Platform == id.Platform {
					ws = b.Workspace
					break
				}
			}
			if id.Platform == sc.ev.Platform {
				ws = sc.ev.Workspace
			}
			t := target{adapter: ad, lang: lang, member: member, dest: Destination{Kind: DestDM, Workspace: ws, UserID: id.PlatformUserID, UserName: m.DisplayName}}
			if best == nil || id.Platform == sc.ev.Platform {
				best = &t
			}
		}
		if best != nil {
			out = append(out, *best)
		}
		return nil
	})
	if len(out) == 0 && err == nil {
		a.log.Warn("member has no reachable account", "member", member)
	}
	return out, err
}

func actorDest(ev Event) Destination {
	if ev.InDM {
		return Destination{Kind: DestDM, Workspace: ev.Workspace, UserID: ev.UserID, UserName: ev.UserName}
	}
	return Destination{Kind: DestEphemeral, Workspace: ev.Workspace, ChannelID: ev.ChannelID, UserID: ev.UserID, UserName: ev.UserName}
}

// send renders an Out for one target and hands it to the adapter; keyed cards are edited
// in place where the adapter can.
func (a *App) send(ctx context.Context, t target, o ui.Out) error {
	msg := a.render(t.lang, o.Card)
	if t.dest.Kind == DestDM {
		if dm, ok := t.adapter.(DirectMessenger); !ok || !dm.CanDM() {
			return fmt.Errorf("bot: %s cannot send direct messages", t.adapter.Platform())
		}
	}
	if o.Card.Reveal != 0 {
		fields, err := a.reveal(ctx, t, o.Card.Reveal)
		if err != nil {
			return err
		}
		msg.Fields = append(msg.Fields, fields...)
	}
	platform := t.adapter.Platform()
	if ed, ok := t.adapter.(Editor); ok && o.Key != "" {
		p, err := a.db.PostedMessage(ctx, platform, t.dest.Workspace, o.Key)
		if err == nil {
			d := t.dest
			d.ChannelID = p.ChannelID
			if err := ed.Edit(ctx, d, p.MessageID, msg); err != nil {
				return fmt.Errorf("bot: edit %s: %w", o.Key, err)
			}
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	id, err := t.adapter.Send(ctx, t.dest, msg)
	if err != nil {
		return fmt.Errorf("bot: send on %s: %w", platform, err)
	}
	if o.Key != "" && id != "" {
		return a.db.RememberPosted(ctx, store.Posted{Platform: platform, Workspace: t.dest.Workspace, CardKey: o.Key, ChannelID: t.dest.ChannelID, MessageID: id})
	}
	return nil
}

// reveal decrypts the private details a disclosure row allows, only for a direct message
// to the very member the disclosure names as viewer.
func (a *App) reveal(ctx context.Context, t target, disclosure int64) ([]RenderedField, error) {
	if t.dest.Kind != DestDM {
		return nil, ErrRevealRefused
	}
	var fields []RenderedField
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := tx.Disclosure(ctx, disclosure)
		if err != nil {
			return err
		}
		if d.ViewerMemberID != t.member {
			return ErrRevealRefused
		}
		p, err := tx.DisclosedPrivate(ctx, disclosure)
		if err != nil {
			return err
		}
		fields = a.revealFields(t.lang, p)
		return nil
	})
	return fields, err
}

// deliverSystem answers an event that reached no flow (an unbound space, a failure).
func (a *App) deliverSystem(ctx context.Context, ev Event, id string) error {
	ad, ok := a.adapters[ev.Platform]
	if !ok {
		return nil
	}
	lang := catalog.Pick(ev.Locale, "en")
	_, err := ad.Send(ctx, actorDest(ev), a.render(lang, ui.Card{Body: []ui.Text{ui.T(id)}}))
	return err
}
