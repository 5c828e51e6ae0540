package flows

import (
	"context"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Rescheduling. When a requester moves the time of a request, every helper still on it
// (offered or accepted) is asked in a DM whether they can make the new time. The ask is
// a row of its own (store.Reschedule) and the buttons name it, so a second press, or a
// press on an ask the requester has since replaced, is answered kindly and changes
// nothing. "I can't" hands the place back as a withdrawal does; "I can" tells the
// requester. No answer is fine: the claim stays as it is, because the helper may simply
// turn up, and the reminders before the new time (scheduled here) ask them again in
// effect. Jobs scheduled for the old time find the slot moved and do nothing (staleJob).

// Buttons of an ask to confirm a new time; the payload is the ask's id.
const (
	ActRescheduleYes = "reschedule.yes"
	ActRescheduleNo  = "reschedule.no"
)

// helpersTold is what an edit said to the helpers of a request.
type helpersTold struct {
	outs []ui.Out
	jobs []Job
	// asked counts the helpers asked to confirm a new time; informed, those told of a
	// change of the public part.
	asked, informed int
	// shared names the accepted helpers who were sent the new private details.
	shared []string
}

// tellHelpers speaks to each helper still on an edited request: a new time is put to
// them to confirm, a public change is shown, and new private details go to an accepted
// helper the requester chose to share with, with a disclosure row. prev is the request
// before the edit.
func (s *Service) tellHelpers(ctx context.Context, tx *store.Tx, a Actor, prev, r store.Request, ch requestChange, zone string) (helpersTold, error) {
	var told helpersTold
	claims, err := tx.LiveClaimsOnRequest(ctx, r.ID)
	if err != nil || len(claims) == 0 {
		return told, err
	}
	requester, err := tx.Member(ctx, r.RequesterID)
	if err != nil {
		return told, err
	}
	for _, c := range claims {
		if c.State != store.ClaimOffered && c.State != store.ClaimAccepted {
			continue
		}
		switch {
		case ch.time:
			ask, err := tx.AskReschedule(ctx, c.ID, r.ID, r.StartsAt, r.EndsAt, prev.StartsAt, prev.EndsAt)
			if err != nil {
				return told, err
			}
			told.outs = append(told.outs, ui.Out{To: ui.Member(c.MemberID), Card: rescheduleCard(r, prev, requester, ask, zone)})
			told.asked++
			if c.State == store.ClaimAccepted {
				jobs, err := s.moveClaimJobs(ctx, tx, r, c)
				if err != nil {
					return told, err
				}
				told.jobs = append(told.jobs, jobs...)
			}
		case ch.public:
			told.outs = append(told.outs, ui.Out{To: ui.Member(c.MemberID), Card: ui.Card{
				Title:  ui.T("edit.changed.title"),
				Body:   []ui.Text{requestTitle(r), ui.T("edit.changed.body")},
				Fields: requestFields(r, requesterLabel(r, requester), zone),
			}})
			told.informed++
		}
		if ch.private && c.State == store.ClaimAccepted {
			out, shared, err := s.reshare(ctx, tx, a, r, requester, c, ch.priv)
			if err != nil {
				return told, err
			}
			if shared {
				told.outs = append(told.outs, out)
				helper, err := tx.Member(ctx, c.MemberID)
				if err != nil {
					return told, err
				}
				told.shared = append(told.shared, helper.DisplayName)
			}
		}
	}
	return told, nil
}

// rescheduleCard asks a helper whether they can make a request's new time.
func rescheduleCard(r, prev store.Request, requester store.Member, ask int64, zone string) ui.Card {
	return ui.Card{
		Title: ui.T("edit.reschedule.title"),
		Body:  []ui.Text{requestTitle(r), ui.T("edit.reschedule.body")},
		Fields: []ui.Field{
			{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, zone))},
			{Label: ui.T("edit.field.was"), Value: ui.T("value.window", "Window", window(prev.StartsAt, prev.EndsAt, zone))},
			{Label: ui.T("field.area"), Value: ui.T("value.text", "Text", ui.UserText(r.Area))},
			{Label: ui.T("field.asked_by"), Value: ui.T("value.any", "Value", requesterLabel(r, requester))},
		},
		Buttons: []ui.Button{
			{Label: ui.T("edit.button.can"), Action: ActRescheduleYes, Payload: ref(ask), Style: ui.StylePrimary},
			{Label: ui.T("edit.button.cannot"), Action: ActRescheduleNo, Payload: ref(ask)},
		},
	}
}

// moveClaimJobs are an accepted claim's time-bound jobs for the new time: the reminders,
// and the check after a visit from a ride up. Its arrival and checks belonged to the old
// time and are forgotten.
func (s *Service) moveClaimJobs(ctx context.Context, tx *store.Tx, r store.Request, c store.Claim) ([]Job, error) {
	sl, err := tx.Slot(ctx, c.SlotID)
	if err != nil {
		return nil, err
	}
	if err := tx.ResetVisitMarks(ctx, c.ID); err != nil {
		return nil, err
	}
	jobs := acceptJobs(c.ID, sl.StartsAt, tx.Now())
	cat, err := requestCategory(ctx, tx, r)
	if err != nil || !atLeast(cat, store.RiskRide) {
		return jobs, err
	}
	vs, err := tx.VisitSettings(ctx, r.CommunityID)
	if err != nil {
		return nil, err
	}
	if at := sl.EndsAt + int64(vs.GraceMinutes)*60; at > tx.Now() {
		jobs = append(jobs, Job{Kind: JobVisitOverdue, Ref: c.ID, At: at})
	}
	return jobs, nil
}

// reshare sends an accepted helper the request's new private details, only when the
// requester shared them with that helper on accepting (an active share_details_with_helper
// consent scoped to the request and the helper). The details travel as a new disclosure
// row, decrypted only when the DM is rendered. Details removed altogether are said to
// be removed, with nothing to reveal.
func (s *Service) reshare(ctx context.Context, tx *store.Tx, a Actor, r store.Request, requester store.Member, c store.Claim, priv store.Private) (ui.Out, bool, error) {
	consent, err := tx.ActiveConsent(ctx, r.RequesterID, store.PurposeShareDetails, r.ID, c.MemberID)
	if isNotFound(err) {
		return ui.Out{}, false, nil
	}
	if err != nil {
		return ui.Out{}, false, err
	}
	name := nameOf(requester)
	card := ui.Card{Title: ui.T("edit.private.title", "Name", name), Body: []ui.Text{requestTitle(r)}}
	action := "request.details_removed"
	if priv.Empty() {
		card.Body = append(card.Body, ui.T("edit.private.removed", "Name", name))
	} else {
		d, err := tx.AddDisclosure(ctx, store.Disclosure{CommunityID: r.CommunityID, SubjectMemberID: r.RequesterID,
			ViewerMemberID: c.MemberID, RequestID: nullInt(r.ID), ClaimID: nullInt(c.ID), Fields: priv.Fields(),
			Basis: "consent", ConsentID: nullInt(consent.ID)})
		if err != nil {
			return ui.Out{}, false, err
		}
		card.Body = append(card.Body, ui.T("edit.private.body", "Name", name))
		card.Reveal = d
		action = "request.details_reshared"
	}
	if err := s.audit(ctx, tx, a, action, "claim:"+ref(c.ID), "request="+ref(r.ID)); err != nil {
		return ui.Out{}, false, err
	}
	return ui.Out{To: ui.Member(c.MemberID), Card: card}, true, nil
}

// RescheduleAnswer is a helper's answer to a new time: "I can make it" confirms and
// tells the requester; "I can't" hands the place back, thanks the helper, tells the
// requester kindly, reopens the board card and tells matching volunteers, as a
// withdrawal does.
func (s *Service) RescheduleAnswer(ctx context.Context, a Actor, askID int64, can bool) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		ask, err := tx.RescheduleAsk(ctx, askID)
		if isNotFound(err) {
			return reply("error.gone"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		cc, ok, err := loadClaim(ctx, tx, ask.ClaimID)
		if err != nil || !ok || cc.request.CommunityID != a.CommunityID {
			return reply("error.gone"), false, err
		}
		r, c := cc.request, cc.claim
		switch {
		case c.MemberID != a.MemberID:
			return reply("edit.reschedule.not_yours"), false, nil
		case ask.State == store.RescheduleSuperseded || r.StartsAt != ask.StartsAt || r.EndsAt != ask.EndsAt:
			return reply("edit.reschedule.stale"), false, nil
		case ask.State != store.RescheduleAsked:
			return reply("edit.reschedule.already"), false, nil
		case (c.State != store.ClaimOffered && c.State != store.ClaimAccepted) || (r.Status != "open" && r.Status != "matched"):
			return reply("edit.reschedule.closed"), false, nil
		}
		state := store.RescheduleConfirmed
		if !can {
			state = store.RescheduleDeclined
		}
		if moved, err := tx.AnswerReschedule(ctx, ask.ID, state); err != nil || !moved {
			return reply("edit.reschedule.already"), false, err
		}
		helper, err := tx.Member(ctx, c.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		when := ui.Field{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, cc.zone))}
		if can {
			if err := s.audit(ctx, tx, a, "claim.reschedule_confirmed", "claim:"+ref(c.ID), "request="+ref(r.ID)); err != nil {
				return Result{}, false, err
			}
			res := reply("edit.reschedule.confirmed")
			to, err := toRequester(ctx, tx, r)
			if err != nil {
				return Result{}, false, err
			}
			res.add(ui.Out{To: to, Card: ui.Card{
				Body:   []ui.Text{ui.T("edit.reschedule.requester_can", "Name", ui.UserText(helper.DisplayName), "Summary", ui.UserText(r.Summary))},
				Fields: []ui.Field{when},
			}})
			return res, true, nil
		}
		res, err := s.handBack(ctx, tx, a, cc, helper)
		return res, true, err
	})
}

// handBack withdraws a helper who can't make a new time: the place reopens, the board
// card says so, matching volunteers hear of it and the requester is told kindly.
func (s *Service) handBack(ctx context.Context, tx *store.Tx, a Actor, cc claimCtx, helper store.Member) (Result, error) {
	r, c := cc.request, cc.claim
	moved, err := tx.MoveClaim(ctx, c.ID, store.ClaimWithdrawn, store.ClaimOffered, store.ClaimAccepted)
	if err != nil {
		return Result{}, err
	}
	if !moved {
		// Stepped back another way at the same moment: the answer is kept, nothing else.
		return reply("edit.reschedule.closed"), nil
	}
	if _, err := tx.SetRequestStatus(ctx, r.ID, "open", "matched"); err != nil {
		return Result{}, err
	}
	r.Status = "open"
	if err := s.audit(ctx, tx, a, "claim.reschedule_declined", "claim:"+ref(c.ID), "request="+ref(r.ID)); err != nil {
		return Result{}, err
	}
	res := reply("edit.reschedule.thanks")
	to, err := toRequester(ctx, tx, r)
	if err != nil {
		return Result{}, err
	}
	res.add(ui.Out{To: to, Card: ui.Card{
		Body:    []ui.Text{ui.T("edit.reschedule.requester_cannot", "Name", ui.UserText(helper.DisplayName), "Summary", ui.UserText(r.Summary))},
		Buttons: []ui.Button{editButton(r.ID), {Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(r.ID), Style: ui.StyleDanger}},
	}})
	board, err := boardRequest(ctx, tx, r, cc.zone)
	if err != nil {
		return Result{}, err
	}
	board.Card.Body = append([]ui.Text{ui.T("request.card.reopened")}, board.Card.Body...)
	res.add(board)
	notices, err := matchNotices(ctx, tx, r, cc.zone, c.MemberID)
	if err != nil {
		return Result{}, err
	}
	res.add(notices...)
	res.Jobs = withdrawJobs(r, tx.Now())
	return res, nil
}

// staleJob reports whether a job bound to a claim's time was scheduled for a window the
// request has since moved from: reminders fall a day and an hour before the slot, and
// the check after a visit falls after its end. Such a job does nothing; the edit
// scheduled its replacement. A job without a due time (run by hand) is never stale.
func (s *Service) staleJob(ctx context.Context, j Job) (bool, error) {
	if j.At == 0 || (j.Kind != JobRemind && j.Kind != JobVisitOverdue) {
		return false, nil
	}
	stale := false
	err := s.read(ctx, func(tx *store.Tx) error {
		cc, ok, err := loadClaim(ctx, tx, j.Ref)
		if err != nil || !ok {
			return err
		}
		switch j.Kind {
		case JobRemind:
			start := cc.slot.StartsAt
			stale = j.At != start-int64(remindDay/time.Second) && j.At != start-int64(remindHour/time.Second)
		case JobVisitOverdue:
			stale = j.At < cc.slot.EndsAt
		}
		return nil
	})
	return stale, err
}
