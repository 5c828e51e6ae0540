package flows

import (
	"context"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Done is either side marking an accepted claim done. When every place of the request is
// done, the request is done and its board card says thank you.
func (s *Service) Done(ctx context.Context, a Actor, claimID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		cc, ok, err := loadClaim(ctx, tx, claimID)
		if err != nil || !ok {
			return reply("error.gone"), false, err
		}
		r, c := cc.request, cc.claim
		own, err := speaksFor(ctx, tx, a.MemberID, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		if !own && a.MemberID != c.MemberID {
			return reply("done.not_yours"), false, nil
		}
		switch c.State {
		case store.ClaimDone:
			return reply("done.already"), false, nil
		case store.ClaimOffered:
			return reply("done.not_accepted"), false, nil
		case store.ClaimAccepted:
		default:
			return reply("claim.closed"), false, nil
		}
		if _, err := tx.MoveClaim(ctx, c.ID, store.ClaimDone, store.ClaimAccepted); err != nil {
			return Result{}, false, err
		}
		if err := s.finishIfDone(ctx, tx, &r); err != nil {
			return Result{}, false, err
		}
		if err := s.audit(ctx, tx, a, "claim.done", "claim:"+ref(c.ID), "request="+ref(r.ID)); err != nil {
			return Result{}, false, err
		}
		other := c.MemberID
		if a.MemberID == c.MemberID {
			if other, err = speaker(ctx, tx, r.RequesterID); err != nil {
				return Result{}, false, err
			}
		}
		me, err := tx.Member(ctx, a.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		res := reply("done.thanks")
		res.add(ui.Out{To: ui.Member(other), Card: ui.Card{Body: []ui.Text{
			ui.T("done.other", "Name", ui.UserText(me.DisplayName), "Summary", ui.UserText(r.Summary))}}})
		board, err := boardRequest(ctx, tx, r, cc.zone)
		if err != nil {
			return Result{}, false, err
		}
		res.add(board)
		if res.Jobs, err = doneJobs(ctx, tx, r); err != nil {
			return Result{}, false, err
		}
		return res, true, nil
	})
}

// finishIfDone marks a request done once each of its slots holds only done claims.
func (s *Service) finishIfDone(ctx context.Context, tx *store.Tx, r *store.Request) error {
	slots, err := tx.SlotsOfRequest(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		claims, err := tx.LiveClaimsOnSlot(ctx, sl.ID)
		if err != nil {
			return err
		}
		if len(claims) == 0 {
			return nil
		}
		for _, c := range claims {
			if c.State != store.ClaimDone {
				return nil
			}
		}
	}
	if _, err := tx.SetRequestStatus(ctx, r.ID, "done", "open", "matched"); err != nil {
		return err
	}
	r.Status = "done"
	return nil
}

// Cancel is the requester calling a request off. Helpers who offered or were accepted
// are told and thanked; the board card says it is no longer needed.
func (s *Service) Cancel(ctx context.Context, a Actor, requestID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		r, err := tx.Request(ctx, requestID)
		if isNotFound(err) {
			return reply("error.gone"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		if own, err := speaksFor(ctx, tx, a.MemberID, r.RequesterID); err != nil || !own {
			return reply("cancel.not_yours"), false, err
		}
		switch r.Status {
		case "cancelled":
			return reply("cancel.already"), false, nil
		case "done", "expired":
			return reply("claim.closed"), false, nil
		}
		res, moved, err := s.cancelRequest(ctx, tx, a, r, "")
		if err != nil {
			return Result{}, false, err
		}
		if !moved {
			return reply("cancel.already"), false, nil
		}
		res.Outs = append(reply("cancel.done").Outs, res.Outs...)
		return res, true, nil
	})
}

// cancelRequest calls a live request off for a, who may cancel it: helpers who offered
// or were accepted are told and thanked, and the board card says it is no longer needed.
// It reports false, having written nothing, when the request was no longer live.
func (s *Service) cancelRequest(ctx context.Context, tx *store.Tx, a Actor, r store.Request, detail string) (Result, bool, error) {
	claims, err := tx.LiveClaimsOnRequest(ctx, r.ID)
	if err != nil {
		return Result{}, false, err
	}
	moved, err := tx.SetRequestStatus(ctx, r.ID, "cancelled", "open", "matched")
	if err != nil || !moved {
		return Result{}, false, err
	}
	r.Status = "cancelled"
	var res Result
	for _, c := range claims {
		if c.State == store.ClaimDone {
			continue
		}
		if _, err := tx.MoveClaim(ctx, c.ID, store.ClaimCancelled, store.ClaimOffered, store.ClaimAccepted); err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: ui.Member(c.MemberID), Card: ui.Card{Body: []ui.Text{
			ui.T("cancel.helper", "Summary", ui.UserText(r.Summary))}}})
	}
	if err := s.audit(ctx, tx, a, "request.cancelled", "request:"+ref(r.ID), detail); err != nil {
		return Result{}, false, err
	}
	com, _, err := community(ctx, tx, r.CommunityID)
	if err != nil {
		return Result{}, false, err
	}
	board, err := boardRequest(ctx, tx, r, com.Timezone)
	if err != nil {
		return Result{}, false, err
	}
	res.add(board)
	if r.PausedAt.Valid {
		// One fewer paused request on its requester's departure card.
		mods, err := refreshDeparture(ctx, tx, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		res.add(mods...)
	}
	return res, true, nil
}

// Withdraw is a helper stepping back: the place reopens, the requester is told kindly,
// the board card says it is open again and matching volunteers hear of it.
func (s *Service) Withdraw(ctx context.Context, a Actor, claimID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		cc, ok, err := loadClaim(ctx, tx, claimID)
		if err != nil || !ok {
			return reply("error.gone"), false, err
		}
		r, c := cc.request, cc.claim
		if c.MemberID != a.MemberID {
			return reply("withdraw.not_yours"), false, nil
		}
		if r.Status != "open" && r.Status != "matched" {
			return reply("claim.closed"), false, nil
		}
		res, moved, err := s.giveBack(ctx, tx, a, cc, cc.zone)
		if err != nil {
			return Result{}, false, err
		}
		if !moved {
			return reply("withdraw.already"), false, nil
		}
		res.Outs = append(reply("withdraw.thanks").Outs, res.Outs...)
		return res, true, nil
	})
}

// giveBack gives a live claim's place back, for by (its helper, or the erasure of the
// helper): the place reopens, the requester is told kindly, the board card says it is
// open again and matching volunteers hear of it. It reports false, having written
// nothing, when the claim was no longer live.
func (s *Service) giveBack(ctx context.Context, tx *store.Tx, by Actor, cc claimCtx, zone string) (Result, bool, error) {
	r, c := cc.request, cc.claim
	moved, err := tx.MoveClaim(ctx, c.ID, store.ClaimWithdrawn, store.ClaimOffered, store.ClaimAccepted)
	if err != nil || !moved {
		return Result{}, false, err
	}
	if _, err := tx.SetRequestStatus(ctx, r.ID, "open", "matched"); err != nil {
		return Result{}, false, err
	}
	r.Status = "open"
	if err := s.audit(ctx, tx, by, "claim.withdrawn", "claim:"+ref(c.ID), "request="+ref(r.ID)); err != nil {
		return Result{}, false, err
	}
	me, err := tx.Member(ctx, c.MemberID)
	if err != nil {
		return Result{}, false, err
	}
	var res Result
	to, note, err := requesterNote(ctx, tx, r)
	if err != nil {
		return Result{}, false, err
	}
	res.add(ui.Out{To: to, Card: ui.Card{
		Body:    append(note, ui.T("withdraw.requester", "Name", nameOf(me), "Summary", ui.UserText(r.Summary))),
		Buttons: []ui.Button{{Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(r.ID), Style: ui.StyleDanger}},
	}})
	board, err := boardRequest(ctx, tx, r, zone)
	if err != nil {
		return Result{}, false, err
	}
	if r.PausedAt.Valid {
		// Paused while its requester is away: the place waits, nobody is asked.
		res.add(board)
		return res, true, nil
	}
	board.Card.Body = append([]ui.Text{ui.T("request.card.reopened")}, board.Card.Body...)
	res.add(board)
	notices, err := matchNotices(ctx, tx, r, zone, c.MemberID)
	if err != nil {
		return Result{}, false, err
	}
	res.add(notices...)
	res.Jobs = withdrawJobs(r, tx.Now())
	return res, true, nil
}
