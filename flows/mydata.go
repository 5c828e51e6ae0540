package flows

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// "My data": a member sees their consents, with when and how each was given, and
// withdraws any; takes away everything held about them as JSON; or asks to be erased.

// Buttons of this area.
const (
	ActMyData             = "mydata.open"
	ActMyDataWithdraw     = "mydata.withdraw"
	ActMyDataExport       = "mydata.export"
	ActMyDataErase        = "mydata.erase"
	ActMyDataEraseConfirm = "mydata.erase.confirm"
	ActMyDataEraseKeep    = "mydata.erase.keep"
)

// mydataRoutes adds /tend mydata and its buttons.
func (s *Service) mydataRoutes(r *Routes) {
	for _, name := range []string{"mydata", "my-data", "mesdonnees", "mes-donnees"} {
		r.Commands[name] = func(ctx context.Context, a Actor, _ []string) (Result, error) { return s.MyData(ctx, a) }
	}
	r.Buttons[ActMyData] = func(ctx context.Context, a Actor, _, _ string) (Result, error) { return s.MyData(ctx, a) }
	r.Buttons[ActMyDataWithdraw] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.WithdrawConsent(ctx, a, ID(payload))
	}
	r.Buttons[ActMyDataExport] = func(ctx context.Context, a Actor, _, _ string) (Result, error) { return s.ExportMine(ctx, a) }
	r.Buttons[ActMyDataErase] = func(ctx context.Context, a Actor, _, _ string) (Result, error) { return s.EraseAsk(ctx, a) }
	r.Buttons[ActMyDataEraseConfirm] = func(ctx context.Context, a Actor, _, _ string) (Result, error) { return s.EraseMine(ctx, a) }
	r.Buttons[ActMyDataEraseKeep] = func(context.Context, Actor, string, string) (Result, error) {
		return reply("mydata.erase.kept"), nil
	}
}

// myDataButton opens "My data"; the privacy notice (/tend privacy) carries it for
// members, so those on a platform with no room for another command reach it too.
func myDataButton() ui.Button {
	return ui.Button{Label: ui.T("button.mydata"), Action: ActMyData}
}

// MyData lists the member's consents, each live one with a Withdraw button, and offers
// the export and the erasure.
func (s *Service) MyData(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		com, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return err
		}
		cs, err := tx.Consents(ctx, a.MemberID)
		if err != nil {
			return err
		}
		res.add(ui.Out{To: ui.Actor(), Card: ui.Card{
			Title: ui.T("mydata.title"),
			Body:  []ui.Text{ui.T("mydata.intro", "Count", len(cs)), ui.T("mydata.retention", "Count", com.RetentionDays)},
			Buttons: []ui.Button{
				{Label: ui.T("button.mydata_export"), Action: ActMyDataExport, Style: ui.StylePrimary},
				{Label: ui.T("button.mydata_erase"), Action: ActMyDataErase, Style: ui.StyleDanger},
			},
		}})
		for _, c := range cs {
			res.add(ui.Out{To: ui.Actor(), Card: consentCard(c, com.Timezone)})
		}
		return nil
	})
	return res, err
}

// consentCard is one consent: its purpose and scope, when and how it was given, and a
// Withdraw button while it is live. Keeping the profile is withdrawn by erasing.
func consentCard(c store.Consent, zone string) ui.Card {
	var ev store.Evidence
	_ = json.Unmarshal([]byte(c.Evidence), &ev)
	notice := ev.NoticeVersion
	if notice == "" {
		notice = "-"
	}
	card := ui.Card{
		Title: purposeText(c.Purpose),
		Body:  []ui.Text{scopeText(c)},
		Fields: []ui.Field{
			{Label: ui.T("mydata.field.given"), Value: ui.T("value.text", "Text", stamp(c.GrantedAt, zone))},
			{Label: ui.T("mydata.field.surface"), Value: ui.T("value.text", "Text", ui.UserText(ev.Surface))},
			{Label: ui.T("mydata.field.notice"), Value: ui.T("value.text", "Text", ui.UserText(notice))},
		},
	}
	switch {
	case c.WithdrawnAt.Valid:
		card.Fields = append(card.Fields, ui.Field{Label: ui.T("mydata.field.withdrawn"), Value: ui.T("value.text", "Text", stamp(c.WithdrawnAt.Int64, zone))})
	case c.Purpose == store.PurposeStoreProfile:
		card.Body = append(card.Body, ui.T("mydata.consent.profile_note"))
	default:
		card.Buttons = []ui.Button{{Label: ui.T("button.mydata_withdraw"), Action: ActMyDataWithdraw, Payload: ref(c.ID), Style: ui.StyleDanger}}
	}
	return card
}

func purposeText(p string) ui.Text {
	switch p {
	case store.PurposeStoreProfile:
		return ui.T("mydata.purpose.store_profile")
	case store.PurposeShareDetails:
		return ui.T("mydata.purpose.share_details")
	case store.PurposeFollowUp:
		return ui.T("mydata.purpose.follow_up")
	case store.PurposePublicThanks:
		return ui.T("mydata.purpose.public_thanks")
	case store.PurposeShareWithPartner:
		return ui.T("mydata.purpose.share_with_partner")
	}
	return ui.T("value.text", "Text", ui.UserText(p))
}

func scopeText(c store.Consent) ui.Text {
	switch {
	case c.ScopeRequestID.Valid:
		return ui.T("mydata.scope.request", "ID", c.ScopeRequestID.Int64)
	case c.ScopeOfferID.Valid:
		return ui.T("mydata.scope.offer", "ID", c.ScopeOfferID.Int64)
	}
	return ui.T("mydata.scope.all")
}

// WithdrawConsent withdraws one of the member's live consents at once. What rests on it
// checks it when it happens: a reveal not yet sent shows nothing, a follow-up not yet
// asked is not asked.
func (s *Service) WithdrawConsent(ctx context.Context, a Actor, id int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		c, err := tx.Consent(ctx, id)
		if isNotFound(err) || (err == nil && c.MemberID != a.MemberID) {
			return reply("mydata.withdraw.unknown"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		if c.Purpose == store.PurposeStoreProfile {
			return reply("mydata.consent.profile_note"), false, nil
		}
		moved, err := tx.WithdrawConsent(ctx, c.ID)
		if err != nil {
			return Result{}, false, err
		}
		if !moved {
			return reply("mydata.withdraw.already"), false, nil
		}
		if err := s.audit(ctx, tx, a, "consent.withdrawn", "consent:"+ref(c.ID), "purpose="+c.Purpose); err != nil {
			return Result{}, false, err
		}
		return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T("mydata.withdraw.done", "Purpose", purposeText(c.Purpose))}}}}}, true, nil
	})
}

// ExportMine answers the member, and only them, with everything held about them as
// JSON. The answer is a one-time secret: never kept for a redelivery nor queued.
func (s *Service) ExportMine(ctx context.Context, a Actor) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		x, err := ExportMember(ctx, tx, a.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		b, err := json.MarshalIndent(x, "", "  ")
		if err != nil {
			return Result{}, false, fmt.Errorf("flows: export: %w", err)
		}
		if err := s.audit(ctx, tx, a, "member.exported", "member:"+ref(a.MemberID), "by=self"); err != nil {
			return Result{}, false, err
		}
		return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Title:  ui.T("mydata.export.title"),
			Body:   []ui.Text{ui.T("mydata.export.body"), ui.T("value.text", "Text", ui.UserText(string(b)))},
			Secret: true,
		}}}}, true, nil
	})
}

// EraseAsk shows what erasing will do; nothing changes until the member confirms.
func (s *Service) EraseAsk(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
		Title: ui.T("mydata.erase.title"),
		Body:  []ui.Text{ui.T("mydata.erase.body"), ui.T("mydata.erase.kept_counts")},
		Buttons: []ui.Button{
			{Label: ui.T("button.mydata_erase_confirm"), Action: ActMyDataEraseConfirm, Style: ui.StyleDanger},
			{Label: ui.T("button.mydata_erase_keep"), Action: ActMyDataEraseKeep},
		},
	}}}}, nil
}

// EraseMine erases the member who confirmed. Afterwards they are no longer a member:
// a second press is shown the privacy notice and changes nothing.
func (s *Service) EraseMine(ctx context.Context, a Actor) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		res, n, err := s.EraseMember(ctx, tx, a, a.MemberID, "self")
		if err != nil {
			return Result{}, false, err
		}
		res.Outs = append([]ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T("mydata.erase.done", "Count", n)}}}}, res.Outs...)
		return res, true, nil
	})
}

// EraseMember erases a member in tx, for by (the member, or the command line): their
// open requests and offers are called off (helpers told, board cards updated), their live claims
// handed back (the place reopens, the requester is told kindly), then their personal
// data and every account and trace naming them go (store.EraseMemberData,
// store.EraseAccounts). The rows figures are made of stay, and the audit log stays
// whole, its rows naming a member id that no longer names anyone. It returns the
// messages to send and how many requests and claims it closed.
func (s *Service) EraseMember(ctx context.Context, tx *store.Tx, by Actor, member int64, who string) (Result, int, error) {
	var res Result
	m, err := tx.Member(ctx, member)
	if err != nil {
		return res, 0, err
	}
	com, _, err := community(ctx, tx, m.CommunityID)
	if err != nil {
		return res, 0, err
	}
	// The name goes first, so no message written below can carry it.
	erased, err := tx.EraseMemberData(ctx, member)
	if err != nil {
		return res, 0, err
	}
	open, err := tx.RequestsBy(ctx, member)
	if err != nil {
		return res, 0, err
	}
	closed := 0
	for _, r := range open {
		out, moved, err := s.cancelRequest(ctx, tx, by, r, "reason=erased")
		if err != nil {
			return res, 0, err
		}
		if moved {
			closed++
			res.add(out.Outs...)
		}
	}
	offers, err := tx.OffersBy(ctx, member)
	if err != nil {
		return res, 0, err
	}
	for _, o := range offers {
		out, moved, err := s.cancelOffer(ctx, tx, by, o)
		if err != nil {
			return res, 0, err
		}
		if moved {
			closed++
			res.add(out.Outs...)
		}
	}
	claims, err := tx.ClaimsBy(ctx, member)
	if err != nil {
		return res, 0, err
	}
	for _, c := range claims {
		cc, ok, err := loadClaim(ctx, tx, c.ID)
		if err != nil {
			return res, 0, err
		}
		if !ok || (cc.request.Status != "open" && cc.request.Status != "matched") {
			// A place on an offer, or on a request already closed: nothing to hand back.
			continue
		}
		out, moved, err := s.giveBack(ctx, tx, by, cc, com.Timezone)
		if err != nil {
			return res, 0, err
		}
		if moved {
			closed++
			res.add(out.Outs...)
			res.Jobs = append(res.Jobs, out.Jobs...)
		}
	}
	if err := tx.EraseAccounts(ctx, member, m.DisplayName); err != nil {
		return res, 0, err
	}
	if err := tx.Audit(ctx, m.CommunityID, by.MemberID, "member.erased", "member:"+ref(member),
		fmt.Sprintf("by=%s closed=%d consents_withdrawn=%d", who, closed, erased.Consents)); err != nil {
		return res, 0, err
	}
	return res, closed, nil
}
