package flows

import (
	"context"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Button actions the router dispatches on. Payloads are opaque row references.
const (
	ActNoticeAccept  = "notice.accept"
	ActNoticeDecline = "notice.decline"
	ActClaim         = "claim"
	ActAcceptShare   = "accept.share"
	ActAcceptOnly    = "accept.only"
	ActDecline       = "decline"
	ActDone          = "done"
	ActCancel        = "cancel"
	ActWithdraw      = "withdraw"
	ActJoin          = "join"
	ActLeave         = "leave"
	ActCancelOffer   = "offer.cancel"
	ActAsk           = "ask"
)

// Form ids.
const (
	FormAsk       = "ask"
	FormVolunteer = "volunteer"
	FormOffer     = "offer"
	FormJoin      = "join"
)

// CategoryLabel is a category's catalogue name in the reader's language; a community's
// own category without a catalogue entry shows its key. CategoryText prefers the
// community's own labels.
func CategoryLabel(key string) ui.Text {
	return ui.Text{ID: "category." + key, Fallback: key}
}

func window(start, end int64, zone string) ui.Window {
	return ui.Window{Start: start, End: end, Zone: zone}
}

// requesterLabel names the requester on public cards only if they chose to be named.
func requesterLabel(r store.Request, m store.Member) any {
	if r.ShowName {
		return nameOf(m)
	}
	return ui.T("request.neighbour")
}

// requestFields are the public facts of a request.
func requestFields(r store.Request, requester any, zone string) []ui.Field {
	return []ui.Field{
		{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, zone))},
		{Label: ui.T("field.area"), Value: ui.T("value.text", "Text", ui.UserText(r.Area))},
		{Label: ui.T("field.asked_by"), Value: ui.T("value.any", "Value", requester)},
	}
}

func requestTitle(r store.Request) ui.Text {
	return ui.T("request.card.title", "Category", CategoryText(r.Category, r.CategoryEN, r.CategoryFR), "Summary", ui.UserText(r.Summary))
}

// requestBoards is where a request's board card goes: its origin space's board, and when
// its requester shared it, the boards of the community's spaces that receive shared
// requests (store.RequestSpaces). A request that shows in every space (the only space of
// most communities) goes to the community's board, as ever.
func requestBoards(ctx context.Context, tx *store.Tx, r store.Request) (ui.Target, error) {
	platforms, err := shownPlatforms(ctx, tx, r)
	if err != nil || platforms == nil {
		return ui.Board(r.CommunityID), err
	}
	return ui.RequestBoards(r.CommunityID, ui.Space{Platform: r.OriginPlatform, Workspace: r.OriginWorkspace}, r.Shared), nil
}

// aboutRequest is a direct message to a member about a request: when the request shows
// in some of the community's spaces only, the member is reached in one of those if they
// can be (ui.MemberSeeing).
func aboutRequest(ctx context.Context, tx *store.Tx, member int64, r store.Request) (ui.Target, error) {
	boards, err := requestBoards(ctx, tx, r)
	if err != nil || boards.Kind != ui.ToRequestBoards {
		return ui.Member(member), err
	}
	return ui.MemberSeeing(member, boards), nil
}

// boardRequest builds the board card of a request from its current state, so every
// change re-renders the same card in place.
func boardRequest(ctx context.Context, tx *store.Tx, r store.Request, zone string) (ui.Out, error) {
	boards, err := requestBoards(ctx, tx, r)
	if err != nil {
		return ui.Out{}, err
	}
	if r.Hidden {
		return hiddenOnBoard(boards, requestKey(r.ID)), nil
	}
	m, err := tx.Member(ctx, r.RequesterID)
	if err != nil {
		return ui.Out{}, err
	}
	card := ui.Card{Title: requestTitle(r), Fields: requestFields(r, requesterLabel(r, m), zone)}
	switch {
	case r.PausedAt.Valid && (r.Status == "open" || r.Status == "matched"):
		// Paused while its requester is away (flows/departures.go): no claim button.
		card.Body = append(card.Body, ui.T("request.card.paused"))
	case r.Status == "open":
		slots, err := tx.SlotsOfRequest(ctx, r.ID)
		if err != nil {
			return ui.Out{}, err
		}
		free := int64(0)
		for _, s := range slots {
			if s.Taken < s.Capacity {
				free = s.ID
				break
			}
		}
		card.Fields = append(card.Fields, helpersFields(slots)...)
		if free != 0 {
			card.Body = append(card.Body, ui.T("request.card.open"))
			card.Buttons = []ui.Button{{Label: ui.T("button.claim"), Action: ActClaim, Payload: ref(free), Style: ui.StylePrimary}}
		} else {
			card.Body = append(card.Body, ui.T("request.card.pending"))
		}
	default:
		card.Body = append(card.Body, ui.T("request.card."+r.Status))
	}
	return ui.Out{To: boards, Card: card, Key: requestKey(r.ID)}, nil
}

// boardOffer builds the board card of an offer from its current state.
func boardOffer(ctx context.Context, tx *store.Tx, o store.Offer, zone string) (ui.Out, error) {
	if o.Hidden {
		return hiddenOnBoard(ui.Board(o.CommunityID), offerKey(o.ID)), nil
	}
	v, err := tx.Member(ctx, o.VolunteerID)
	if err != nil {
		return ui.Out{}, err
	}
	slot, err := tx.SlotOfOffer(ctx, o.ID)
	if err != nil {
		return ui.Out{}, err
	}
	card := ui.Card{
		Title: ui.T("offer.card.title", "Category", CategoryText(o.Category, o.CategoryEN, o.CategoryFR), "Summary", ui.UserText(o.Summary)),
		Fields: []ui.Field{
			{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(o.StartsAt, o.EndsAt, zone))},
			{Label: ui.T("field.area"), Value: ui.T("value.text", "Text", ui.UserText(o.Area))},
			{Label: ui.T("field.offered_by"), Value: ui.T("value.text", "Text", ui.UserText(v.DisplayName))},
			{Label: ui.T("field.places"), Value: ui.T("value.places", "Taken", slot.Taken, "Count", slot.Capacity)},
		},
	}
	switch {
	case o.Status == "open" && slot.Taken < slot.Capacity:
		card.Buttons = []ui.Button{{Label: ui.T("button.join"), Action: ActJoin, Payload: ref(slot.ID), Style: ui.StylePrimary}}
	case o.Status == "open" || o.Status == "full":
		card.Body = append(card.Body, ui.T("offer.card.full"))
	default:
		card.Body = append(card.Body, ui.T("offer.card."+o.Status))
	}
	return ui.Out{To: ui.Board(o.CommunityID), Card: card, Key: offerKey(o.ID)}, nil
}

// matchNotices tells matching volunteers privately about a request that is open: those
// with an account in a space where the request shows.
func matchNotices(ctx context.Context, tx *store.Tx, r store.Request, zone string, exclude ...int64) ([]ui.Out, error) {
	if r.Hidden {
		return nil, nil
	}
	m, err := tx.Member(ctx, r.RequesterID)
	if err != nil {
		return nil, err
	}
	start := unixIn(r.StartsAt, zone)
	vols, err := tx.MatchingVolunteers(ctx, r.CommunityID, r.Category, r.Area, DayKey(start.Weekday()), r.RequesterID)
	if err != nil {
		return nil, err
	}
	// Whoever asked for someone else is not told about their own request either.
	asker, err := speaker(ctx, tx, r.RequesterID)
	if err != nil {
		return nil, err
	}
	exclude = append(exclude, asker)
	slots, err := tx.SlotsOfRequest(ctx, r.ID)
	if err != nil || len(slots) == 0 {
		return nil, err
	}
	platforms, err := shownPlatforms(ctx, tx, r)
	if err != nil {
		return nil, err
	}
	boards, err := requestBoards(ctx, tx, r)
	if err != nil {
		return nil, err
	}
	var outs []ui.Out
	for _, v := range vols {
		if contains(exclude, v.MemberID) {
			continue
		}
		if platforms != nil {
			ok, err := hasAccountOn(ctx, tx, v.MemberID, platforms)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		to := ui.Member(v.MemberID)
		if boards.Kind == ui.ToRequestBoards {
			to = ui.MemberSeeing(v.MemberID, boards)
		}
		outs = append(outs, ui.Out{To: to, Card: ui.Card{
			Title:   ui.T("match.title"),
			Body:    []ui.Text{requestTitle(r)},
			Fields:  requestFields(r, requesterLabel(r, m), zone),
			Buttons: []ui.Button{{Label: ui.T("button.claim"), Action: ActClaim, Payload: ref(slots[0].ID), Style: ui.StylePrimary}},
		}})
	}
	return outs, nil
}

// shownPlatforms are the platforms of the spaces where a request shows; nil when it
// shows in every space of its community.
func shownPlatforms(ctx context.Context, tx *store.Tx, r store.Request) (map[string]bool, error) {
	if r.OriginPlatform == "" {
		return nil, nil
	}
	bs, err := tx.Bindings(ctx, r.CommunityID)
	if err != nil {
		return nil, err
	}
	shown := store.RequestSpaces(bs, r.OriginPlatform, r.OriginWorkspace, r.Shared)
	if len(shown) == len(bs) {
		return nil, nil
	}
	out := make(map[string]bool, len(shown))
	for _, b := range shown {
		out[b.Platform] = true
	}
	return out, nil
}

// hasAccountOn reports whether a member has an account on one of the platforms.
func hasAccountOn(ctx context.Context, tx *store.Tx, member int64, platforms map[string]bool) (bool, error) {
	ids, err := tx.IdentitiesOf(ctx, member)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if platforms[id.Platform] {
			return true, nil
		}
	}
	return false, nil
}

func contains(xs []int64, x int64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
