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

// boardRequest builds the board card of a request from its current state, so every
// change re-renders the same card in place.
func boardRequest(ctx context.Context, tx *store.Tx, r store.Request, zone string) (ui.Out, error) {
	if r.Hidden {
		return hiddenOnBoard(r.CommunityID, requestKey(r.ID)), nil
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
	return ui.Out{To: ui.Board(r.CommunityID), Card: card, Key: requestKey(r.ID)}, nil
}

// boardOffer builds the board card of an offer from its current state.
func boardOffer(ctx context.Context, tx *store.Tx, o store.Offer, zone string) (ui.Out, error) {
	if o.Hidden {
		return hiddenOnBoard(o.CommunityID, offerKey(o.ID)), nil
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

// matchNotices tells matching volunteers privately about a request that is open.
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
	var outs []ui.Out
	for _, v := range vols {
		if contains(exclude, v.MemberID) {
			continue
		}
		outs = append(outs, ui.Out{To: ui.Member(v.MemberID), Card: ui.Card{
			Title:   ui.T("match.title"),
			Body:    []ui.Text{requestTitle(r)},
			Fields:  requestFields(r, requesterLabel(r, m), zone),
			Buttons: []ui.Button{{Label: ui.T("button.claim"), Action: ActClaim, Payload: ref(slots[0].ID), Style: ui.StylePrimary}},
		}})
	}
	return outs, nil
}

func contains(xs []int64, x int64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
