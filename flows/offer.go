package flows

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// MaxCapacity bounds the places of one offer.
const MaxCapacity = 100

// OfferForm is the form a volunteer posts an offer with.
func (s *Service) OfferForm(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		if _, err := tx.VolunteerProfile(ctx, a.MemberID); isNotFound(err) {
			res = reply("offer.not_volunteer")
			return nil
		} else if err != nil {
			return err
		}
		cats, err := tx.Categories(ctx, a.CommunityID)
		if err != nil {
			return err
		}
		res.Form = &ui.Form{ID: FormOffer, Title: ui.T("offer.form.title"), Fields: []ui.FormField{
			{Name: "category", Kind: ui.FieldChoice, Label: ui.T("ask.field.category"), Options: categoryOptions(cats), Required: true},
			{Name: "summary", Kind: ui.FieldText, Label: ui.T("offer.field.summary"), Help: ui.T("help.offer_summary"), Required: true, MaxLen: MaxSummary},
			{Name: "when", Kind: ui.FieldDateTime, Label: ui.T("offer.field.when"), Help: ui.T("help.when"), Required: true, MaxLen: 40},
			{Name: "until", Kind: ui.FieldText, Label: ui.T("ask.field.until"), Help: ui.T("help.until"), MaxLen: 40},
			{Name: "area", Kind: ui.FieldText, Label: ui.T("ask.field.area"), Help: ui.T("help.area"), Required: true, MaxLen: MaxArea},
			{Name: "capacity", Kind: ui.FieldText, Label: ui.T("offer.field.capacity"), Help: ui.T("help.capacity", "Count", MaxCapacity), Required: true, MaxLen: 3, Default: "1"},
		}}
		return nil
	})
	return res, err
}

// Offer posts a volunteer's offer to the board.
func (s *Service) Offer(ctx context.Context, a Actor, in map[string]string) (Result, error) {
	return s.memberRun(ctx, a, func(tx *store.Tx) (Result, error) {
		c, loc, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return Result{}, err
		}
		v := newValues(in)
		cat := v.text("category", true, 40)
		if cat != "" {
			why, err := mayHelp(ctx, tx, a, cat)
			switch {
			case isNotFound(err):
				v.fail("category", "error.category")
			case err != nil:
				return Result{}, err
			case why != "":
				v.fail("category", why)
			}
		}
		summary := v.text("summary", true, MaxSummary)
		whenIn, untilIn := v.text("when", true, 40), v.text("until", false, 40)
		var start, end time.Time
		if whenIn != "" {
			if start, end, err = ParseWindow(whenIn, untilIn, s.db.Now(), loc); err != nil {
				v.whenError("when", "until", err)
			}
		}
		area := v.text("area", true, MaxArea)
		capacity, err := strconv.Atoi(v.text("capacity", true, 3))
		if err != nil || capacity < 1 || capacity > MaxCapacity {
			v.fail("capacity", "error.capacity", "Count", MaxCapacity)
		}
		if len(v.errs) > 0 {
			return Result{Errors: v.errs}, nil
		}
		if !released(ctx) {
			if tier := s.screen(a.CommunityID, summary, area); tier != "" {
				return s.signal(ctx, tx, a, tier, "offer", &heldForm{Form: FormOffer, Values: in})
			}
		}
		id, _, err := tx.CreateOffer(ctx, store.Offer{CommunityID: a.CommunityID, VolunteerID: a.MemberID, Category: cat,
			Summary: summary, Area: area, StartsAt: start.Unix(), EndsAt: end.Unix()}, capacity)
		if err != nil {
			return Result{}, err
		}
		if err := s.audit(ctx, tx, a, "offer.created", "offer:"+ref(id), "category="+cat); err != nil {
			return Result{}, err
		}
		o, err := tx.Offer(ctx, id)
		if err != nil {
			return Result{}, err
		}
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Title:   ui.T("offer.posted"),
			Buttons: []ui.Button{{Label: ui.T("button.cancel_offer"), Action: ActCancelOffer, Payload: ref(id), Style: ui.StyleDanger}},
		}}}}
		board, err := boardOffer(ctx, tx, o, c.Timezone)
		if err != nil {
			return Result{}, err
		}
		res.add(board)
		return res, nil
	})
}

// JoinForm asks a member joining an offer what the volunteer should know, and whether to
// share it with them: the same consent question a requester answers on accept.
func (s *Service) JoinForm(ctx context.Context, tx *store.Tx, a Actor, sl store.Slot) (Result, error) {
	o, err := tx.Offer(ctx, sl.OfferID.Int64)
	if err != nil {
		return Result{}, err
	}
	switch {
	case o.CommunityID != a.CommunityID:
		return reply("error.gone"), nil
	case o.VolunteerID == a.MemberID:
		return reply("offer.own"), nil
	case o.Status == "cancelled" || o.Status == "done" || o.Hidden:
		return reply("offer.closed"), nil
	case sl.Taken >= sl.Capacity:
		return reply("offer.full"), nil
	}
	v, err := tx.Member(ctx, o.VolunteerID)
	if err != nil {
		return Result{}, err
	}
	name := ui.UserText(v.DisplayName)
	return Result{Form: &ui.Form{ID: FormJoin, Payload: ref(sl.ID), Title: ui.T("join.form.title", "Summary", ui.UserText(o.Summary)), Fields: []ui.FormField{
		{Name: "notes", Kind: ui.FieldLongText, Label: ui.T("join.field.notes", "Name", name), Help: ui.T("help.private"), MaxLen: MaxNotes, Private: true},
		{Name: "share", Kind: ui.FieldChoice, Label: ui.T("join.field.share", "Name", name), Default: No, Options: yesNo(No)},
	}}}, nil
}

// Join records a member taking a place on an offer. The place is taken atomically.
func (s *Service) Join(ctx context.Context, a Actor, slotID int64, in map[string]string) (Result, error) {
	return s.memberRun(ctx, a, func(tx *store.Tx) (Result, error) {
		sl, err := tx.Slot(ctx, slotID)
		if isNotFound(err) || (err == nil && !sl.OfferID.Valid) {
			return reply("error.gone"), nil
		}
		if err != nil {
			return Result{}, err
		}
		o, err := tx.Offer(ctx, sl.OfferID.Int64)
		if err != nil {
			return Result{}, err
		}
		if o.CommunityID != a.CommunityID {
			return reply("error.gone"), nil
		}
		if o.VolunteerID == a.MemberID {
			return reply("offer.own"), nil
		}
		if o.Status != "open" || o.Hidden {
			return reply(map[bool]string{true: "offer.full", false: "offer.closed"}[o.Status == "full" && !o.Hidden]), nil
		}
		v := newValues(in)
		priv := store.Private{Notes: v.long("notes", MaxNotes)}
		share := v.choice("share", No, Yes, No) == Yes
		if len(v.errs) > 0 {
			return Result{Errors: v.errs}, nil
		}
		claimID, err := tx.TakeSlot(ctx, sl.ID, a.MemberID, priv)
		switch {
		case errors.Is(err, store.ErrSlotFull):
			return reply("offer.full"), nil
		case errors.Is(err, store.ErrAlreadyClaimed):
			return reply("join.already"), nil
		case err != nil:
			return Result{}, err
		}
		if _, err := tx.MoveClaim(ctx, claimID, store.ClaimAccepted, store.ClaimOffered); err != nil {
			return Result{}, err
		}
		if sl, err = tx.Slot(ctx, sl.ID); err != nil {
			return Result{}, err
		}
		if sl.Taken >= sl.Capacity {
			if _, err := tx.SetOfferStatus(ctx, o.ID, "full", "open"); err != nil {
				return Result{}, err
			}
			o.Status = "full"
		}
		me, err := tx.Member(ctx, a.MemberID)
		if err != nil {
			return Result{}, err
		}
		volCard := ui.Card{Title: ui.T("join.volunteer.title", "Name", ui.UserText(me.DisplayName), "Summary", ui.UserText(o.Summary))}
		if share && !priv.Empty() {
			consent, err := tx.GrantScopedConsent(ctx, a.MemberID, store.PurposeShareDetails,
				store.Scope{Offer: o.ID, Member: o.VolunteerID}, a.evidence("join.share"))
			if err != nil {
				return Result{}, err
			}
			d, err := tx.AddDisclosure(ctx, store.Disclosure{CommunityID: o.CommunityID, SubjectMemberID: a.MemberID,
				ViewerMemberID: o.VolunteerID, ClaimID: nullInt(claimID), Fields: priv.Fields(), Basis: "consent", ConsentID: nullInt(consent)})
			if err != nil {
				return Result{}, err
			}
			volCard.Reveal = d
		}
		if err := s.audit(ctx, tx, a, "offer.joined", "claim:"+ref(claimID), "offer="+ref(o.ID)); err != nil {
			return Result{}, err
		}
		c, _, err := community(ctx, tx, o.CommunityID)
		if err != nil {
			return Result{}, err
		}
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Body:    []ui.Text{ui.T("join.done", "Summary", ui.UserText(o.Summary))},
			Buttons: []ui.Button{{Label: ui.T("button.leave"), Action: ActLeave, Payload: ref(claimID)}},
		}}, {To: ui.Member(o.VolunteerID), Card: volCard}}}
		board, err := boardOffer(ctx, tx, o, c.Timezone)
		if err != nil {
			return Result{}, err
		}
		res.add(board)
		return res, nil
	})
}

// Leave is a member giving their place on an offer back.
func (s *Service) Leave(ctx context.Context, a Actor, claimID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		c, err := tx.Claim(ctx, claimID)
		if isNotFound(err) {
			return reply("error.gone"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		if c.MemberID != a.MemberID {
			return reply("withdraw.not_yours"), false, nil
		}
		sl, err := tx.Slot(ctx, c.SlotID)
		if err != nil || !sl.OfferID.Valid {
			return reply("error.gone"), false, err
		}
		moved, err := tx.MoveClaim(ctx, c.ID, store.ClaimWithdrawn, store.ClaimAccepted, store.ClaimOffered)
		if err != nil {
			return Result{}, false, err
		}
		if !moved {
			return reply("withdraw.already"), false, nil
		}
		o, err := tx.Offer(ctx, sl.OfferID.Int64)
		if err != nil {
			return Result{}, false, err
		}
		if ok, err := tx.SetOfferStatus(ctx, o.ID, "open", "full"); err != nil {
			return Result{}, false, err
		} else if ok {
			o.Status = "open"
		}
		if err := s.audit(ctx, tx, a, "offer.left", "claim:"+ref(c.ID), "offer="+ref(o.ID)); err != nil {
			return Result{}, false, err
		}
		me, err := tx.Member(ctx, a.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		com, _, err := community(ctx, tx, o.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		res := reply("leave.done")
		res.add(ui.Out{To: ui.Member(o.VolunteerID), Card: ui.Card{Body: []ui.Text{
			ui.T("leave.volunteer", "Name", ui.UserText(me.DisplayName), "Summary", ui.UserText(o.Summary))}}})
		board, err := boardOffer(ctx, tx, o, com.Timezone)
		if err != nil {
			return Result{}, false, err
		}
		res.add(board)
		return res, true, nil
	})
}

// CancelOffer is the volunteer calling an offer off; everyone who joined is told.
func (s *Service) CancelOffer(ctx context.Context, a Actor, offerID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		o, err := tx.Offer(ctx, offerID)
		if isNotFound(err) {
			return reply("error.gone"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		if o.VolunteerID != a.MemberID {
			return reply("cancel.not_yours"), false, nil
		}
		res, moved, err := s.cancelOffer(ctx, tx, a, o)
		if err != nil {
			return Result{}, false, err
		}
		if !moved {
			return reply("cancel.already"), false, nil
		}
		res.Outs = append(reply("offer.cancelled").Outs, res.Outs...)
		return res, true, nil
	})
}

// cancelOffer calls a live offer off for by (its volunteer, or their erasure): those
// who joined are told, and the board card is updated. It reports false, having written
// nothing, when the offer was no longer live.
func (s *Service) cancelOffer(ctx context.Context, tx *store.Tx, by Actor, o store.Offer) (Result, bool, error) {
	moved, err := tx.SetOfferStatus(ctx, o.ID, "cancelled", "open", "full")
	if err != nil || !moved {
		return Result{}, false, err
	}
	o.Status = "cancelled"
	sl, err := tx.SlotOfOffer(ctx, o.ID)
	if err != nil {
		return Result{}, false, err
	}
	claims, err := tx.LiveClaimsOnSlot(ctx, sl.ID)
	if err != nil {
		return Result{}, false, err
	}
	var res Result
	for _, c := range claims {
		if _, err := tx.MoveClaim(ctx, c.ID, store.ClaimCancelled, store.ClaimOffered, store.ClaimAccepted); err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: ui.Member(c.MemberID), Card: ui.Card{Body: []ui.Text{ui.T("offer.cancelled_member", "Summary", ui.UserText(o.Summary))}}})
	}
	if err := s.audit(ctx, tx, by, "offer.cancelled", "offer:"+ref(o.ID), ""); err != nil {
		return Result{}, false, err
	}
	com, _, err := community(ctx, tx, o.CommunityID)
	if err != nil {
		return Result{}, false, err
	}
	board, err := boardOffer(ctx, tx, o, com.Timezone)
	if err != nil {
		return Result{}, false, err
	}
	res.add(board)
	return res, true, nil
}
