package flows

import (
	"context"
	"errors"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// claimCtx is a claim with the slot and request it belongs to.
type claimCtx struct {
	claim   store.Claim
	slot    store.Slot
	request store.Request
	zone    string
}

// loadClaim loads a claim on a request; ok is false when the reference names nothing.
func loadClaim(ctx context.Context, tx *store.Tx, claimID int64) (claimCtx, bool, error) {
	var cc claimCtx
	c, err := tx.Claim(ctx, claimID)
	if isNotFound(err) {
		return cc, false, nil
	}
	if err != nil {
		return cc, false, err
	}
	sl, err := tx.Slot(ctx, c.SlotID)
	if err != nil {
		return cc, false, err
	}
	if !sl.RequestID.Valid {
		return cc, false, nil
	}
	r, err := tx.Request(ctx, sl.RequestID.Int64)
	if err != nil {
		return cc, false, err
	}
	com, _, err := community(ctx, tx, r.CommunityID)
	if err != nil {
		return cc, false, err
	}
	return claimCtx{claim: c, slot: sl, request: r, zone: com.Timezone}, true, nil
}

// mayHelp checks the tier a category needs against the actor: member, volunteer (has a
// profile) or vetted (a vetting record or a mapped platform role). It returns the
// refusal message id, or "" when the actor may help.
func mayHelp(ctx context.Context, tx *store.Tx, a Actor, category string) (string, error) {
	cat, err := tx.Category(ctx, a.CommunityID, category)
	if err != nil {
		return "", err
	}
	if cat.Tier == "member" {
		return "", nil
	}
	if _, err := tx.VolunteerProfile(ctx, a.MemberID); isNotFound(err) {
		return "claim.not_volunteer", nil
	} else if err != nil {
		return "", err
	}
	if cat.Tier != "vetted" || a.Vetted {
		return "", nil
	}
	ok, err := tx.IsVetted(ctx, a.MemberID)
	if err != nil || ok {
		return "", err
	}
	return "claim.needs_vetting", nil
}

// Claim is a volunteer pressing "I can help". The place is taken atomically in the
// database; everyone after the first is thanked and told it is taken. The requester is
// then asked, privately, to accept this helper.
func (s *Service) Claim(ctx context.Context, a Actor, slotID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		sl, err := tx.Slot(ctx, slotID)
		if isNotFound(err) {
			return reply("error.gone"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		if sl.OfferID.Valid {
			res, err := s.JoinForm(ctx, tx, a, sl)
			return res, false, err
		}
		r, err := tx.Request(ctx, sl.RequestID.Int64)
		if err != nil {
			return Result{}, false, err
		}
		if r.CommunityID != a.CommunityID {
			// A button from another community (or a forged one): nothing to see here.
			return reply("error.gone"), false, nil
		}
		own, err := speaksFor(ctx, tx, a.MemberID, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		switch {
		case r.Hidden:
			return reply("claim.closed"), false, nil
		case r.PausedAt.Valid:
			return reply("departure.claim.paused"), false, nil
		case r.Status == "matched":
			return reply("claim.taken"), false, nil
		case r.Status != "open":
			return reply("claim.closed"), false, nil
		case own:
			return reply("claim.own"), false, nil
		}
		if shown, err := shownPlatforms(ctx, tx, r); err != nil || (shown != nil && !shown[a.Platform]) {
			// A request not shown where the actor is (a stale or forged button).
			return reply("error.gone"), false, err
		}
		if why, err := mayHelp(ctx, tx, a, r.Category); err != nil || why != "" {
			return reply(why), false, err
		}
		claimID, err := tx.TakeSlot(ctx, sl.ID, a.MemberID, store.Private{})
		switch {
		case errors.Is(err, store.ErrSlotFull):
			return reply("claim.taken"), false, nil
		case errors.Is(err, store.ErrAlreadyClaimed):
			return reply("claim.already_yours"), false, nil
		case err != nil:
			return Result{}, false, err
		}
		if err := s.audit(ctx, tx, a, "claim.offered", "claim:"+ref(claimID), "request="+ref(r.ID)); err != nil {
			return Result{}, false, err
		}
		requester, err := tx.Member(ctx, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		helper, err := tx.Member(ctx, a.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		com, _, err := community(ctx, tx, r.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		priv, err := tx.RequestPrivate(r)
		if err != nil {
			return Result{}, false, err
		}
		// An anonymous requester stays anonymous until they accept this helper.
		res := reply("claim.thanks_anon")
		if r.ShowName {
			res = reply("claim.thanks", "Name", nameOf(requester))
		}
		to, err := toRequester(ctx, tx, r)
		if err != nil {
			return Result{}, false, err
		}
		gate := acceptCard(r, helper, claimID, !priv.Empty(), com.Timezone)
		if requester.IsBeneficiary() {
			forSomeoneElse(&gate, requester, helper)
		}
		res.add(ui.Out{To: to, Card: gate})
		board, err := boardRequest(ctx, tx, r, com.Timezone)
		if err != nil {
			return Result{}, false, err
		}
		res.add(board)
		return res, true, nil
	})
}

// acceptCard asks the requester to accept a helper: the consent gate. The ask form's
// "may a matched helper see my details" only decides which choice comes first.
func acceptCard(r store.Request, helper store.Member, claimID int64, hasPrivate bool, zone string) ui.Card {
	name := ui.UserText(helper.DisplayName)
	card := ui.Card{
		Title:  ui.T("accept.title", "Name", name),
		Body:   []ui.Text{requestTitle(r)},
		Fields: []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, zone))}},
	}
	decline := ui.Button{Label: ui.T("button.decline"), Action: ActDecline, Payload: ref(claimID)}
	if !hasPrivate {
		card.Body = append(card.Body, ui.T("accept.body_nothing_private", "Name", name))
		card.Buttons = []ui.Button{{Label: ui.T("button.accept", "Name", name), Action: ActAcceptOnly, Payload: ref(claimID), Style: ui.StylePrimary}, decline}
		return card
	}
	card.Body = append(card.Body, ui.T("accept.body", "Name", name))
	share := ui.Button{Label: ui.T("button.accept_share", "Name", name), Action: ActAcceptShare, Payload: ref(claimID)}
	only := ui.Button{Label: ui.T("button.accept_only", "Name", name), Action: ActAcceptOnly, Payload: ref(claimID)}
	if r.MayShare {
		share.Style = ui.StylePrimary
		card.Buttons = []ui.Button{share, only, decline}
	} else {
		only.Style = ui.StylePrimary
		card.Buttons = []ui.Button{only, share, decline}
	}
	return card
}

// Accept is the requester accepting a helper, with or without sharing their private
// details. Sharing records a share_details_with_helper consent scoped to this request
// and helper, and a disclosure row; the details are decrypted only when the helper's
// message is rendered for sending.
func (s *Service) Accept(ctx context.Context, a Actor, claimID int64, share bool) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		cc, ok, err := loadClaim(ctx, tx, claimID)
		if err != nil || !ok {
			return reply("error.gone"), false, err
		}
		r := cc.request
		if own, err := speaksFor(ctx, tx, a.MemberID, r.RequesterID); err != nil || !own {
			return reply("accept.not_yours"), false, err
		}
		if r.PausedAt.Valid && (r.Status == "open" || r.Status == "matched") {
			return reply("departure.accept.paused"), false, nil
		}
		if cc.claim.State == store.ClaimAccepted && (r.Status == "matched" || r.Status == "open") {
			return reply("accept.already"), false, nil
		}
		if r.Status != "open" {
			return reply("claim.closed"), false, nil
		}
		moved, err := tx.MoveClaim(ctx, cc.claim.ID, store.ClaimAccepted, store.ClaimOffered)
		if err != nil {
			return Result{}, false, err
		}
		if !moved {
			return reply("accept.stale"), false, nil
		}
		// Matched once every place has an accepted helper (a home visit may need two).
		if full, err := placesFilled(ctx, tx, r.ID); err != nil {
			return Result{}, false, err
		} else if full {
			if _, err := tx.SetRequestStatus(ctx, r.ID, "matched", "open"); err != nil {
				return Result{}, false, err
			}
			r.Status = "matched"
		}
		helper, err := tx.Member(ctx, cc.claim.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		requester, err := tx.Member(ctx, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		priv, err := tx.RequestPrivate(r)
		if err != nil {
			return Result{}, false, err
		}
		helperCard := ui.Card{
			Title:   ui.T("match.helper.title", "Name", nameOf(requester)),
			Body:    []ui.Text{requestTitle(r)},
			Fields:  []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, cc.zone))}, {Label: ui.T("field.area"), Value: ui.T("value.text", "Text", ui.UserText(r.Area))}},
			Buttons: []ui.Button{{Label: ui.T("button.done"), Action: ActDone, Payload: ref(cc.claim.ID), Style: ui.StylePrimary}, {Label: ui.T("button.withdraw"), Action: ActWithdraw, Payload: ref(cc.claim.ID)}},
		}
		action := "claim.accepted"
		switch {
		case share && !priv.Empty():
			// The consent and the disclosure are the requester's, also when the one who
			// accepts speaks for them.
			consent, err := tx.GrantScopedConsent(ctx, r.RequesterID, store.PurposeShareDetails,
				store.Scope{Request: r.ID, Member: helper.ID}, consentEvidence(a, r.RequesterID, ActAcceptShare))
			if err != nil {
				return Result{}, false, err
			}
			d, err := tx.AddDisclosure(ctx, store.Disclosure{CommunityID: r.CommunityID, SubjectMemberID: r.RequesterID,
				ViewerMemberID: helper.ID, RequestID: nullInt(r.ID), ClaimID: nullInt(cc.claim.ID), Fields: priv.Fields(),
				Basis: "consent", ConsentID: nullInt(consent)})
			if err != nil {
				return Result{}, false, err
			}
			helperCard.Body = append(helperCard.Body, ui.T("match.helper.shared", "Name", nameOf(requester)))
			helperCard.Reveal = d
			action = "claim.accepted_shared"
		case priv.Empty():
			helperCard.Body = append(helperCard.Body, ui.T("match.helper.nothing_private"))
		default:
			helperCard.Body = append(helperCard.Body, ui.T("match.helper.not_shared", "Name", nameOf(requester)))
		}
		if err := s.audit(ctx, tx, a, action, "claim:"+ref(cc.claim.ID), "request="+ref(r.ID)); err != nil {
			return Result{}, false, err
		}
		requesterCard := ui.Card{
			Title:   ui.T("match.requester.title", "Name", ui.UserText(helper.DisplayName)),
			Body:    append(forNote(requester), requestTitle(r), ui.T(sharedNote(share && !priv.Empty()), "Name", ui.UserText(helper.DisplayName))),
			Buttons: []ui.Button{{Label: ui.T("button.done"), Action: ActDone, Payload: ref(cc.claim.ID)}, {Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(r.ID), Style: ui.StyleDanger}},
		}
		visit, err := s.visitAccepted(ctx, tx, cc, requester, helper, &helperCard, &requesterCard)
		if err != nil {
			return Result{}, false, err
		}
		var res Result
		res.add(ui.Out{To: ui.Actor(), Card: requesterCard})
		toHelper, err := aboutRequest(ctx, tx, helper.ID, r)
		if err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: toHelper, Card: helperCard})
		res.add(visit.Outs...)
		board, err := boardRequest(ctx, tx, r, cc.zone)
		if err != nil {
			return Result{}, false, err
		}
		res.add(board)
		res.Jobs = append(acceptJobs(cc.claim.ID, cc.slot.StartsAt, tx.Now()), visit.Jobs...)
		return res, true, nil
	})
}

func sharedNote(shared bool) string {
	if shared {
		return "match.requester.shared"
	}
	return "match.requester.not_shared"
}

// Decline is the requester saying no to a helper: the place reopens quietly and the
// helper is thanked kindly.
func (s *Service) Decline(ctx context.Context, a Actor, claimID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		cc, ok, err := loadClaim(ctx, tx, claimID)
		if err != nil || !ok {
			return reply("error.gone"), false, err
		}
		r := cc.request
		if own, err := speaksFor(ctx, tx, a.MemberID, r.RequesterID); err != nil || !own {
			return reply("accept.not_yours"), false, err
		}
		if r.Status != "open" && r.Status != "matched" {
			return reply("claim.closed"), false, nil
		}
		moved, err := tx.MoveClaim(ctx, cc.claim.ID, store.ClaimDeclined, store.ClaimOffered)
		if err != nil {
			return Result{}, false, err
		}
		if !moved {
			return reply("decline.stale"), false, nil
		}
		if err := s.audit(ctx, tx, a, "claim.declined", "claim:"+ref(cc.claim.ID), "request="+ref(r.ID)); err != nil {
			return Result{}, false, err
		}
		res := reply("decline.done")
		toHelper, err := aboutRequest(ctx, tx, cc.claim.MemberID, r)
		if err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: toHelper, Card: ui.Card{Body: []ui.Text{ui.T("decline.helper", "Summary", ui.UserText(r.Summary))}}})
		board, err := boardRequest(ctx, tx, r, cc.zone)
		if err != nil {
			return Result{}, false, err
		}
		res.add(board)
		return res, true, nil
	})
}

func nullInt(id int64) sqlNullInt { return sqlNullInt{Int64: id, Valid: id != 0} }
