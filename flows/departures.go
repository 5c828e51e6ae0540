package flows

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Departures. When an account leaves its space or is removed (the platform's member-left
// event) and its member has no other account still in a bound space, what they held is
// handed back through the same flows as if they had pressed the buttons: their claims
// (the place reopens, the requester is told kindly, matching volunteers hear of it), the
// places they took on offers, and their own offers (closed, joiners told). Their requests
// are paused: the board card shows it with no claim button, helpers holding a place are
// told not to go ahead, and the request's jobs hold. Their half-written forms go, their
// volunteering is paused, and the moderators get a card. Nothing comes back silently:
// when the account acts again they are told what was paused, and resume each request
// themselves (or a moderator does, audited).

// Buttons of departures; payloads are request ids.
const (
	// ActResume resumes a paused request: its requester from their list, or a moderator
	// from the departure card.
	ActResume = "request.resume"
	// ActModCancel is a moderator cancelling a paused request from the departure card.
	ActModCancel = "mod.cancel_request"
)

// maxDepartureRequests bounds the paused requests a departure card lists, two buttons
// each (a Discord message holds at most 25); the next ones show as each is dealt with.
const maxDepartureRequests = 5

// departureRoutes adds resuming a paused request and a moderator cancelling one.
func (s *Service) departureRoutes(r *Routes) {
	r.Buttons[ActResume] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.Resume(ctx, a, ID(payload))
	}
	r.Buttons[ActModCancel] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.ModCancel(ctx, a, ID(payload))
	}
}

// departureKey is the key of a departure's card in the moderators' channel, edited in
// place as its paused requests are resumed or cancelled.
func departureKey(id int64) string { return "departure:" + ref(id) }

// MemberLeft is the platform saying the actor's account left the space. Nobody acts, so
// nothing answers them. An unknown account, or one that had already left, changes
// nothing; while the member has another account in a bound space only the account is
// marked.
func (s *Service) MemberLeft(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return Result{}, nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		left, err := tx.MarkLeft(ctx, a.CommunityID, a.Platform, a.UserID)
		if err != nil || !left {
			return Result{}, false, err
		}
		present, err := tx.PresentIdentities(ctx, a.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		if present > 0 {
			return Result{}, true, tx.Audit(ctx, a.CommunityID, 0, "identity.left", "member:"+ref(a.MemberID), "platform="+a.Platform)
		}
		res, err := s.depart(store.WithTx(ctx, tx), tx, a)
		return res, true, err
	})
}

// depart hands back what a member who left held, pauses their requests and tells the
// moderators. ctx carries tx, so the flows it calls join it.
func (s *Service) depart(ctx context.Context, tx *store.Tx, a Actor) (Result, error) {
	var res Result
	d := store.Departure{CommunityID: a.CommunityID, MemberID: a.MemberID, LeftAt: tx.Now()}
	com, _, err := community(ctx, tx, a.CommunityID)
	if err != nil {
		return res, err
	}
	reqs, err := tx.RequestsBy(ctx, a.MemberID)
	if err != nil {
		return res, err
	}
	for _, r := range reqs {
		paused, err := tx.PauseRequest(ctx, r.ID)
		if err != nil {
			return res, err
		}
		if !paused {
			continue
		}
		d.Requests++
		r.PausedAt = sql.NullInt64{Int64: tx.Now(), Valid: true}
		outs, err := pausedOuts(ctx, tx, r, com.Timezone)
		if err != nil {
			return res, err
		}
		res.add(outs...)
	}
	// What the flows below would say to the member themselves is dropped: they are gone.
	gone := a
	gone.Surface = "departure"
	claims, err := tx.ClaimsBy(ctx, a.MemberID)
	if err != nil {
		return res, err
	}
	for _, c := range claims {
		sl, err := tx.Slot(ctx, c.SlotID)
		if err != nil {
			return res, err
		}
		var sub Result
		if sl.OfferID.Valid {
			sub, err = s.Leave(ctx, gone, c.ID)
		} else {
			sub, err = s.Withdraw(ctx, gone, c.ID)
		}
		if err != nil {
			return res, err
		}
		if after, err := tx.Claim(ctx, c.ID); err != nil {
			return res, err
		} else if after.State != store.ClaimWithdrawn {
			continue
		}
		d.Claims++
		res.add(othersOnly(sub.Outs)...)
		res.Jobs = append(res.Jobs, sub.Jobs...)
	}
	offers, err := tx.OffersBy(ctx, a.MemberID)
	if err != nil {
		return res, err
	}
	for _, o := range offers {
		sub, err := s.CancelOffer(ctx, gone, o.ID)
		if err != nil {
			return res, err
		}
		if after, err := tx.Offer(ctx, o.ID); err != nil {
			return res, err
		} else if after.Status != "cancelled" {
			continue
		}
		d.Offers++
		res.add(othersOnly(sub.Outs)...)
	}
	if _, err := tx.EndDialoguesOf(ctx, a.MemberID); err != nil {
		return res, err
	}
	if d.VolunteeringPaused, err = tx.SetPaused(ctx, a.MemberID, true); err != nil {
		return res, err
	}
	id, err := tx.AddDeparture(ctx, d)
	if err != nil {
		return res, err
	}
	if err := tx.Audit(ctx, a.CommunityID, 0, "member.left", "member:"+ref(a.MemberID), fmt.Sprintf(
		"departure=%d claims=%d offers=%d requests=%d volunteering_paused=%t", id, d.Claims, d.Offers, d.Requests, d.VolunteeringPaused)); err != nil {
		return res, err
	}
	card, err := departureCard(ctx, tx, id)
	if err != nil {
		return res, err
	}
	res.add(card)
	return res, nil
}

// othersOnly drops what a flow says to the actor.
func othersOnly(outs []ui.Out) []ui.Out {
	var kept []ui.Out
	for _, o := range outs {
		if o.To.Kind != ui.ToActor {
			kept = append(kept, o)
		}
	}
	return kept
}

// pausedOuts are what a request's pause shows: its board card, and a word to each helper
// holding a place on it, who keeps it but should not go ahead.
func pausedOuts(ctx context.Context, tx *store.Tx, r store.Request, zone string) ([]ui.Out, error) {
	board, err := boardRequest(ctx, tx, r, zone)
	if err != nil {
		return nil, err
	}
	outs := []ui.Out{board}
	claims, err := tx.LiveClaimsOnRequest(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range claims {
		if c.State == store.ClaimDone {
			continue
		}
		outs = append(outs, ui.Out{To: ui.Member(c.MemberID), Card: ui.Card{
			Body:    []ui.Text{ui.T("departure.paused.helper", "Summary", ui.UserText(r.Summary))},
			Buttons: []ui.Button{{Label: ui.T("button.withdraw"), Action: ActWithdraw, Payload: ref(c.ID)}},
		}})
	}
	return outs, nil
}

// departureCard is the moderators' card of a departure: who, what was handed back, and
// the requests still paused with a button to resume or cancel each. It goes to the
// private moderators' channel only.
func departureCard(ctx context.Context, tx *store.Tx, id int64) (ui.Out, error) {
	d, err := tx.Departure(ctx, id)
	if err != nil {
		return ui.Out{}, err
	}
	m, err := tx.Member(ctx, d.MemberID)
	if err != nil {
		return ui.Out{}, err
	}
	com, _, err := community(ctx, tx, d.CommunityID)
	if err != nil {
		return ui.Out{}, err
	}
	title := "departure.mods.title"
	if d.ReturnedAt.Valid {
		title = "departure.mods.title_returned"
	}
	card := ui.Card{
		Title: ui.T(title, "Name", ui.UserText(m.DisplayName)),
		Body:  []ui.Text{ui.T("departure.mods.body", "Claims", d.Claims, "Offers", d.Offers, "Requests", d.Requests)},
	}
	if d.VolunteeringPaused {
		card.Body = append(card.Body, ui.T("departure.mods.volunteering"))
	}
	paused, err := tx.PausedRequestsBy(ctx, d.MemberID)
	if err != nil {
		return ui.Out{}, err
	}
	for i, r := range paused {
		if i == maxDepartureRequests {
			card.Body = append(card.Body, ui.T("departure.mods.more", "Count", len(paused)-i))
			break
		}
		card.Body = append(card.Body, ui.T("departure.mods.request", "ID", r.ID, "Request", requestTitle(r),
			"Window", window(r.StartsAt, r.EndsAt, com.Timezone)))
		card.Buttons = append(card.Buttons,
			ui.Button{Label: ui.T("departure.button.resume_id", "ID", r.ID), Action: ActResume, Payload: ref(r.ID)},
			ui.Button{Label: ui.T("departure.button.cancel_id", "ID", r.ID), Action: ActModCancel, Payload: ref(r.ID), Style: ui.StyleDanger})
	}
	if len(paused) == 0 && d.Requests > 0 {
		card.Body = append(card.Body, ui.T("departure.mods.none_paused"))
	}
	if d.ReturnedAt.Valid {
		card.Body = append(card.Body, ui.T("departure.mods.returned"))
	}
	return ui.Out{To: ui.Moderators(d.CommunityID), Card: card, Key: departureKey(d.ID)}, nil
}

// refreshDeparture re-renders the card of a member's latest departure, if they have one.
func refreshDeparture(ctx context.Context, tx *store.Tx, member int64) ([]ui.Out, error) {
	d, err := tx.LatestDeparture(ctx, member)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	card, err := departureCard(ctx, tx, d.ID)
	if err != nil {
		return nil, err
	}
	return []ui.Out{card}, nil
}

// Returned is the first event from an account that had left: it is marked present again
// and, when something of theirs was paused, told so with the way back. Nothing is
// resumed for them.
func (s *Service) Returned(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return Result{}, nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		back, err := tx.ClearLeft(ctx, a.CommunityID, a.Platform, a.UserID)
		if err != nil || !back {
			return Result{}, false, err
		}
		if err := tx.Audit(ctx, a.CommunityID, a.MemberID, "identity.returned", "member:"+ref(a.MemberID), "platform="+a.Platform); err != nil {
			return Result{}, false, err
		}
		var mods []ui.Out
		volunteering := false
		d, err := tx.LatestDeparture(ctx, a.MemberID)
		switch {
		case isNotFound(err):
		case err != nil:
			return Result{}, false, err
		default:
			returned, err := tx.MarkReturned(ctx, d.ID)
			if err != nil {
				return Result{}, false, err
			}
			if returned {
				if mods, err = refreshDeparture(ctx, tx, a.MemberID); err != nil {
					return Result{}, false, err
				}
				if d.VolunteeringPaused {
					p, err := tx.VolunteerProfile(ctx, a.MemberID)
					if err != nil && !isNotFound(err) {
						return Result{}, false, err
					}
					volunteering = err == nil && p.Paused
				}
			}
		}
		paused, err := tx.PausedRequestsBy(ctx, a.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		var res Result
		if len(paused) > 0 || volunteering {
			card := ui.Card{Title: ui.T("departure.back.title")}
			if len(paused) > 0 {
				card.Body = append(card.Body, ui.T("departure.back.requests", "Count", len(paused)))
			}
			if volunteering {
				card.Body = append(card.Body, ui.T("departure.back.volunteering"))
			}
			card.Body = append(card.Body, ui.T("departure.back.mine"))
			res.add(ui.Out{To: ui.Actor(), Card: card})
		}
		res.add(mods...)
		return res, true, nil
	})
}

// Resume ends a request's pause: its requester from their list, or a moderator from the
// departure card. The board card comes back with its claim button when a place is free,
// helpers who kept their place are told, and matching volunteers hear of it again.
func (s *Service) Resume(ctx context.Context, a Actor, requestID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		r, err := tx.Request(ctx, requestID)
		if isNotFound(err) || (err == nil && r.CommunityID != a.CommunityID) {
			return reply("error.gone"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		own := r.RequesterID == a.MemberID
		switch {
		case !own && !a.Moderator:
			return reply("departure.resume.not_yours"), false, nil
		case r.Status != "open" && r.Status != "matched":
			return reply("claim.closed"), false, nil
		case !r.PausedAt.Valid:
			return reply("departure.resume.not_paused"), false, nil
		}
		if ok, err := tx.ResumeRequest(ctx, r.ID); err != nil || !ok {
			return reply("departure.resume.not_paused"), false, err
		}
		r.PausedAt = sql.NullInt64{}
		by := "by=requester"
		if !own {
			by = "by=moderator"
		}
		if err := s.audit(ctx, tx, a, "request.resumed", "request:"+ref(r.ID), by); err != nil {
			return Result{}, false, err
		}
		com, _, err := community(ctx, tx, r.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		res := reply("departure.resume.done", "Summary", ui.UserText(r.Summary))
		if !own {
			res = reply("departure.resume.done_mod", "ID", r.ID)
			to, note, err := requesterNote(ctx, tx, r)
			if err != nil {
				return Result{}, false, err
			}
			res.add(ui.Out{To: to, Card: ui.Card{
				Body:    append(note, ui.T("departure.resume.requester", "Summary", ui.UserText(r.Summary))),
				Buttons: []ui.Button{{Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(r.ID), Style: ui.StyleDanger}},
			}})
		}
		board, err := boardRequest(ctx, tx, r, com.Timezone)
		if err != nil {
			return Result{}, false, err
		}
		res.add(board)
		claims, err := tx.LiveClaimsOnRequest(ctx, r.ID)
		if err != nil {
			return Result{}, false, err
		}
		var holding []int64
		for _, c := range claims {
			holding = append(holding, c.MemberID)
			if c.State == store.ClaimDone {
				continue
			}
			res.add(ui.Out{To: ui.Member(c.MemberID), Card: ui.Card{
				Body:    []ui.Text{ui.T("departure.resumed.helper", "Summary", ui.UserText(r.Summary))},
				Buttons: []ui.Button{{Label: ui.T("button.withdraw"), Action: ActWithdraw, Payload: ref(c.ID)}},
			}})
		}
		if r.Status == "open" {
			free, err := hasFreePlace(ctx, tx, r.ID)
			if err != nil {
				return Result{}, false, err
			}
			if free {
				notices, err := matchNotices(ctx, tx, r, com.Timezone, holding...)
				if err != nil {
					return Result{}, false, err
				}
				res.add(notices...)
				res.Jobs = withdrawJobs(r, tx.Now())
			}
		}
		mods, err := refreshDeparture(ctx, tx, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		res.add(mods...)
		return res, true, nil
	})
}

// ModCancel is a moderator cancelling a paused request from the departure card: helpers
// are told and thanked as on the requester's own cancel, and the requester is told.
func (s *Service) ModCancel(ctx context.Context, a Actor, requestID int64) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return reply("moderator.only"), nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		r, err := tx.Request(ctx, requestID)
		if isNotFound(err) || (err == nil && r.CommunityID != a.CommunityID) {
			return reply("error.gone"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		switch r.Status {
		case "cancelled":
			return reply("cancel.already"), false, nil
		case "done", "expired":
			return reply("claim.closed"), false, nil
		}
		sub, moved, err := s.cancelRequest(ctx, tx, a, r, "by=moderator")
		if err != nil || !moved {
			return reply("cancel.already"), false, err
		}
		res := reply("departure.cancel.done_mod", "ID", r.ID)
		to, note, err := requesterNote(ctx, tx, r)
		if err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: to, Card: ui.Card{Body: append(note,
			ui.T("departure.cancel.requester", "Summary", ui.UserText(r.Summary)))}})
		res.add(sub.Outs...)
		return res, true, nil
	})
}

// pausedUnvisited reports a visit whose request was paused (its requester left) and whose
// helper never said they arrived: they were told not to go, so no check follows it. A
// helper who did arrive is still checked on.
func pausedUnvisited(cc claimCtx) bool {
	return cc.request.PausedAt.Valid && !cc.claim.ArrivedAt.Valid
}
