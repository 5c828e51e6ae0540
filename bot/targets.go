package bot

// Where a message goes: a neutral address (ui.Target) resolved to platform places.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
)

// target is one concrete place an Out goes to.
type target struct {
	platform string
	dest     Destination
	lang     string
	member   int64
	// unkeyed drops the Out's card key: the message is new each time, never edited.
	unkeyed bool
}

// targets resolves a neutral address to platform places, inside the transaction.
func (a *App) targets(ctx context.Context, tx *store.Tx, sc scene, to ui.Target) ([]target, error) {
	switch to.Kind {
	case ui.ToMember:
		return a.memberTargets(ctx, tx, sc, to)
	case ui.ToActorDM:
		if sc.ev.UserID == "" {
			return nil, fmt.Errorf("bot: a direct message to the actor without an actor")
		}
		return []target{{platform: sc.ev.Platform, lang: a.lang(sc), member: sc.actor.MemberID,
			dest: Destination{Kind: DestDM, Workspace: sc.ev.Workspace, UserID: sc.ev.UserID, UserName: sc.ev.UserName}}}, nil
	case ui.ToPartner:
		return a.partnerTargets(ctx, tx, to.PartnerID)
	case ui.ToBoard, ui.ToModerators, ui.ToAlerts, ui.ToRequestBoards:
		c, err := tx.Community(ctx, to.CommunityID)
		if err != nil {
			return nil, err
		}
		bs, err := tx.Bindings(ctx, to.CommunityID)
		if err != nil {
			return nil, err
		}
		if to.Kind == ui.ToRequestBoards {
			bs = store.RequestSpaces(bs, to.Origin.Platform, to.Origin.Workspace, to.Shared)
			to.Kind = ui.ToBoard
		}
		var out []target
		for _, b := range bs {
			if _, ok := a.adapters[b.Platform]; !ok {
				continue
			}
			ch := b.BoardChannel
			switch {
			case to.Kind == ui.ToModerators, to.Kind == ui.ToAlerts && b.AlertChannel == "":
				ch = b.ModeratorsChannel
			case to.Kind == ui.ToAlerts:
				ch = b.AlertChannel
			}
			if ch == "" && to.Kind != ui.ToBoard {
				// A space set up from chat whose moderators' channel is not chosen yet:
				// its named moderators get the notice directly rather than nobody.
				dms, err := a.moderatorDMs(ctx, tx, c, b)
				if err != nil {
					return nil, err
				}
				out = append(out, dms...)
				continue
			}
			out = append(out, target{platform: b.Platform, lang: catalog.Pick(c.Locale, "en"),
				dest: Destination{Kind: DestChannel, Workspace: b.Workspace, ChannelID: ch}})
		}
		return out, nil
	}
	return nil, fmt.Errorf("bot: cannot address %q through the outbox", to.Kind)
}

// moderatorDMs are the direct messages to a community's named moderators on a space's
// platform. Such a target carries no card key: one key names one message, and these are
// several.
func (a *App) moderatorDMs(ctx context.Context, tx *store.Tx, c store.Community, b store.Binding) ([]target, error) {
	users, err := tx.ModeratorAccounts(ctx, c.ID, b.Platform)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		a.log.Warn("no moderators' channel and no moderator to tell directly", "community", c.ID, "platform", b.Platform)
	}
	var out []target
	for _, u := range users {
		out = append(out, target{platform: b.Platform, lang: catalog.Pick(c.Locale, "en"), unkeyed: true,
			dest: Destination{Kind: DestDM, Workspace: b.Workspace, UserID: u}})
	}
	return out, nil
}

// memberTargets picks where to reach a member directly: the account the target names,
// else their account on the platform of the current event if they have one there, else
// (for a message about a request, ui.MemberSeeing) their account in a space where the
// request shows, else their first account on a platform tend is connected to.
func (a *App) memberTargets(ctx context.Context, tx *store.Tx, sc scene, to ui.Target) ([]target, error) {
	member := to.MemberID
	m, err := tx.Member(ctx, member)
	if err != nil {
		return nil, err
	}
	c, err := tx.Community(ctx, m.CommunityID)
	if err != nil {
		return nil, err
	}
	ids, err := tx.IdentitiesOf(ctx, member)
	if err != nil {
		return nil, err
	}
	bs, err := tx.Bindings(ctx, m.CommunityID)
	if err != nil {
		return nil, err
	}
	lang := catalog.Pick(m.Locale, c.Locale)
	if member == sc.actor.MemberID {
		lang = catalog.Pick(sc.actor.Locale, lang)
	}
	// shown are the platforms where what the message is about shows; empty when it is not
	// about a request, or the request shows everywhere.
	shown := map[string]bool{}
	if to.Origin.Platform != "" {
		for _, b := range store.RequestSpaces(bs, to.Origin.Platform, to.Origin.Workspace, to.Shared) {
			shown[b.Platform] = true
		}
	}
	var best *target
	bestGone, bestShown := false, false
	for _, id := range ids {
		if _, ok := a.adapters[id.Platform]; !ok {
			continue
		}
		if to.Platform != "" && (id.Platform != to.Platform || id.PlatformUserID != to.UserID) {
			continue
		}
		ws := ""
		for _, b := range bs {
			if b.Platform == id.Platform && (ws == "" || (to.Origin.Platform == b.Platform && to.Origin.Workspace == b.Workspace)) {
				ws = b.Workspace
			}
		}
		if id.Platform == sc.ev.Platform {
			ws = sc.ev.Workspace
		}
		t := target{platform: id.Platform, lang: lang, member: member, dest: Destination{Kind: DestDM, Workspace: ws, UserID: id.PlatformUserID, UserName: m.DisplayName}}
		// An account still in its space beats one that left (store/departures.go).
		gone := id.LeftAt.Valid
		here, seen := id.Platform == sc.ev.Platform, shown[id.Platform]
		switch {
		case best == nil, bestGone && !gone:
		case here && (gone == bestGone || !gone):
		case seen && !bestShown && best.platform != sc.ev.Platform && gone == bestGone:
		default:
			continue
		}
		best, bestGone, bestShown = &t, gone, seen
	}
	if best == nil {
		a.log.Warn("member has no reachable account", "member", member)
		return nil, nil
	}
	if bestGone {
		// Every account of theirs left its space: a direct message would fail and become
		// a board notice naming them. What changed waits in /tend mine for their return.
		a.log.Info("member has left; direct message not sent", "member", member)
		return nil, nil
	}
	return []target{*best}, nil
}

// WebhookPlatform is the outbox's platform for partners reached by an HTTPS webhook; its
// adapter finds the URL and secret by the partner id in the channel field.
const WebhookPlatform = "webhook"

// partnerTargets is a partner's route, in the community's language.
func (a *App) partnerTargets(ctx context.Context, tx *store.Tx, id int64) ([]target, error) {
	p, err := tx.Partner(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := tx.Community(ctx, p.CommunityID)
	if err != nil {
		return nil, err
	}
	lang := catalog.Pick(c.Locale, "en")
	if p.RouteKind == store.RouteWebhook {
		return []target{{platform: WebhookPlatform, lang: lang,
			dest: Destination{Kind: DestChannel, Workspace: "partners", ChannelID: strconv.FormatInt(p.ID, 10)}}}, nil
	}
	return []target{{platform: p.RoutePlatform, lang: lang,
		dest: Destination{Kind: DestChannel, Workspace: p.RouteWorkspace, ChannelID: p.RouteChannel}}}, nil
}
