package flows

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Referral actions and forms.
const (
	ActCaseRefer     = "case.refer"
	ActCaseEmergency = "case.emergency"
	ActReferralYes   = "referral.yes"
	ActReferralNo    = "referral.no"
	ActReferralAck   = "referral.ack"
	FormEmergency    = "referral.emergency"
	FormPartner      = "partner"
)

// referralFields is what a referral shares: the minimum a partner needs to reach the
// person. Nothing they wrote, no address, no health note.
const referralFields = "name,contact,language"

// referButtons are a case's ways to a partner: a choice of partners (asking the person's
// consent) and the emergency override.
func referButtons(ctx context.Context, tx *store.Tx, c store.Escalation) (ui.Card, error) {
	ps, err := tx.Partners(ctx, c.CommunityID, false)
	if err != nil || len(ps) == 0 {
		return ui.Card{}, err
	}
	ch := &ui.Choice{Action: ActCaseRefer, Placeholder: ui.T("case.refer")}
	for _, p := range ps {
		ch.Options = append(ch.Options, ui.Option{Label: ui.T("partner.option", "Name", ui.UserText(p.Name), "Kind", ui.T("partner.kind."+partnerKind(p.Kind))),
			Value: ref(c.ID) + ":" + ref(p.ID)})
	}
	return ui.Card{Choice: ch, Buttons: []ui.Button{{Label: ui.T("case.emergency"), Action: ActCaseEmergency, Payload: ref(c.ID), Style: ui.StyleDanger}}}, nil
}

// PartnerKinds are the kinds of partner the directory knows.
var PartnerKinds = []string{"social_work", "palliative", "grief", "crisis", "food_bank", "other"}

func partnerKind(k string) string {
	for _, x := range PartnerKinds {
		if x == k {
			return k
		}
	}
	return "other"
}

// caseAndPartner reads "case:partner" from a choice's value.
func caseAndPartner(v string) (int64, int64) {
	c, p, _ := strings.Cut(v, ":")
	return ID(c), ID(p)
}

// moderatorCase loads a case of the moderator's community, with its partner.
func moderatorCase(ctx context.Context, tx *store.Tx, a Actor, caseID, partnerID int64) (store.Escalation, store.Partner, bool, error) {
	c, err := tx.Escalation(ctx, caseID)
	if isNotFound(err) || (err == nil && c.CommunityID != a.CommunityID) {
		return c, store.Partner{}, false, nil
	}
	if err != nil {
		return c, store.Partner{}, false, err
	}
	if partnerID == 0 {
		return c, store.Partner{}, true, nil
	}
	p, err := tx.Partner(ctx, partnerID)
	if isNotFound(err) || (err == nil && (p.CommunityID != a.CommunityID || !p.Active)) {
		return c, p, false, nil
	}
	return c, p, err == nil, err
}

// CaseRefer asks the person, privately and in plain words, whether the partner a
// moderator picked may have their name, contact and language. Nothing is shared yet.
func (s *Service) CaseRefer(ctx context.Context, a Actor, _, value string) (Result, error) {
	if !a.Moderator {
		return reply("case.moderators_only"), nil
	}
	caseID, partnerID := caseAndPartner(value)
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		c, p, ok, err := moderatorCase(ctx, tx, a, caseID, partnerID)
		if err != nil || !ok {
			return reply("case.unknown"), err
		}
		if !c.MemberID.Valid {
			return reply("referral.no_member"), nil
		}
		rs, err := tx.Referrals(ctx, c.ID)
		if err != nil {
			return Result{}, err
		}
		for _, r := range rs {
			if r.PartnerID == p.ID && (r.State == store.ReferralAsked || r.State == store.ReferralSent || r.State == store.ReferralAcknowledged) {
				return reply("referral.already_asked", "Partner", ui.UserText(p.Name)), nil
			}
		}
		id, err := tx.AddReferral(ctx, store.Referral{EscalationID: c.ID, PartnerID: p.ID, MemberID: c.MemberID, Basis: "consent",
			Fields: referralFields, ReferredBy: a.MemberID, State: store.ReferralAsked}, "")
		if err != nil {
			return Result{}, err
		}
		if err := tx.AddCaseEvent(ctx, c.ID, a.MemberID, "referral_asked", ""); err != nil {
			return Result{}, err
		}
		if err := s.audit(ctx, tx, a, "referral.asked", "referral:"+ref(id), "case="+ref(c.ID)+" partner="+ref(p.ID)); err != nil {
			return Result{}, err
		}
		m, err := tx.Member(ctx, c.MemberID.Int64)
		if err != nil {
			return Result{}, err
		}
		res := reply("referral.asked", "Name", nameOf(m), "Partner", ui.UserText(p.Name))
		// A person without an account is asked through the member who speaks for them.
		to, err := speaker(ctx, tx, m.ID)
		if err != nil {
			return Result{}, err
		}
		res.add(ui.Out{To: ui.Member(to), Card: ui.Card{
			Title: ui.T("referral.ask_title"),
			Body: []ui.Text{
				ui.T("referral.ask_body", "Moderator", ui.UserText(a.Name), "Partner", ui.UserText(p.Name), "Kind", ui.T("partner.kind."+partnerKind(p.Kind))),
				ui.T("referral.ask_fields"),
				ui.T("referral.ask_choice"),
			},
			Buttons: []ui.Button{
				{Label: ui.T("referral.yes"), Action: ActReferralYes, Payload: ref(id), Style: ui.StylePrimary},
				{Label: ui.T("referral.no"), Action: ActReferralNo, Payload: ref(id)},
			},
		}})
		return res, nil
	})
}

// ReferralAnswer is the person's answer. Yes records the share_with_partner consent
// (scoped to that partner, with the event as evidence) and sends the partner the
// minimum; no shares nothing and tells the moderators.
func (s *Service) ReferralAnswer(ctx context.Context, a Actor, payload string, yes bool) (Result, error) {
	return s.memberRun(ctx, a, func(tx *store.Tx) (Result, error) {
		r, err := tx.Referral(ctx, ID(payload))
		if isNotFound(err) || (err == nil && !r.MemberID.Valid) {
			return reply("crisis.not_yours"), nil
		}
		if err != nil {
			return Result{}, err
		}
		if own, err := speaksFor(ctx, tx, a.MemberID, r.MemberID.Int64); err != nil || !own {
			return reply("crisis.not_yours"), err
		}
		p, err := tx.Partner(ctx, r.PartnerID)
		if err != nil {
			return Result{}, err
		}
		to := store.ReferralDeclined
		if yes {
			to = store.ReferralSent
		}
		ok, err := tx.MoveReferral(ctx, r.ID, store.ReferralAsked, to)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return reply("referral.answered_already"), nil
		}
		var res Result
		if !yes {
			if err := tx.AddCaseEvent(ctx, r.EscalationID, a.MemberID, "referral_declined", ""); err != nil {
				return Result{}, err
			}
			if err := s.audit(ctx, tx, a, "referral.declined", "referral:"+ref(r.ID), "partner="+ref(p.ID)); err != nil {
				return Result{}, err
			}
			res = reply("referral.declined_ok")
			res.add(ui.Out{To: ui.Moderators(a.CommunityID), Card: ui.Card{Body: []ui.Text{
				ui.T("referral.declined_mods", "Name", ui.UserText(a.Name), "Partner", ui.UserText(p.Name), "Case", r.EscalationID)}}})
			return res, nil
		}
		consent, err := tx.GrantScopedConsent(ctx, r.MemberID.Int64, store.PurposeShareWithPartner, store.Scope{Member: p.ID},
			consentEvidence(a, r.MemberID.Int64, "referral.consent"))
		if err != nil {
			return Result{}, err
		}
		if err := tx.SetReferralConsent(ctx, r.ID, consent); err != nil {
			return Result{}, err
		}
		r.ConsentID = sql.NullInt64{Int64: consent, Valid: true}
		sent, err := s.sendReferral(ctx, tx, a, r, p)
		if err != nil {
			return Result{}, err
		}
		res = reply("referral.thanks", "Partner", ui.UserText(p.Name))
		res.Outs = append(res.Outs, sent.Outs...)
		return res, nil
	})
}

// sendReferral sends a partner the referral card (what the referral's basis allows, and
// no more), moves the case to referred and tells the moderators; tx has the referral in
// state sent.
func (s *Service) sendReferral(ctx context.Context, tx *store.Tx, a Actor, r store.Referral, p store.Partner) (Result, error) {
	if _, err := tx.SetCaseStatus(ctx, r.EscalationID, a.MemberID, store.CaseReferred); err != nil {
		return Result{}, err
	}
	if err := tx.AddCaseEvent(ctx, r.EscalationID, a.MemberID, "referral_sent", ""); err != nil {
		return Result{}, err
	}
	if err := s.audit(ctx, tx, a, "referral.sent", "referral:"+ref(r.ID),
		"case="+ref(r.EscalationID)+" partner="+ref(p.ID)+" basis="+r.Basis+" fields="+r.Fields); err != nil {
		return Result{}, err
	}
	card, err := referralCard(ctx, tx, r)
	if err != nil {
		return Result{}, err
	}
	var res Result
	res.add(ui.Out{To: ui.Partner(p.ID), Key: "referral:" + ref(r.ID), Card: card})
	m, err := tx.Member(ctx, r.MemberID.Int64)
	if err != nil {
		return Result{}, err
	}
	res.add(ui.Out{To: ui.Moderators(p.CommunityID), Card: ui.Card{Body: []ui.Text{
		ui.T("referral.sent_mods", "Name", nameOf(m), "Partner", ui.UserText(p.Name), "Case", r.EscalationID,
			"Basis", ui.T("referral.basis."+r.Basis))}}})
	c, err := tx.Escalation(ctx, r.EscalationID)
	if err != nil {
		return Result{}, err
	}
	mod, err := caseCard(ctx, tx, c)
	if err != nil {
		return Result{}, err
	}
	res.add(ui.Out{To: ui.Moderators(p.CommunityID), Key: caseKey(c.ID), Card: mod})
	return res, nil
}

// referralCard is what the partner sees: the person's name, how to reach them and their
// language, the basis, and a button to acknowledge.
func referralCard(ctx context.Context, tx *store.Tx, r store.Referral) (ui.Card, error) {
	m, err := tx.Member(ctx, r.MemberID.Int64)
	if err != nil {
		return ui.Card{}, err
	}
	c, err := tx.Community(ctx, m.CommunityID)
	if err != nil {
		return ui.Card{}, err
	}
	// A person without an account is reached through the member who speaks for them.
	reachable, err := speaker(ctx, tx, m.ID)
	if err != nil {
		return ui.Card{}, err
	}
	ids, err := tx.IdentitiesOf(ctx, reachable)
	if err != nil {
		return ui.Card{}, err
	}
	var reach []string
	for _, id := range ids {
		reach = append(reach, id.Platform+" "+id.PlatformUserID)
	}
	lang := m.Locale
	if lang == "" {
		lang = c.Locale
	}
	card := ui.Card{
		Title: ui.T("referral.card_title", "Community", ui.UserText(c.Name), "Ref", r.ID),
		Fields: []ui.Field{
			{Label: ui.T("referral.field.name"), Value: ui.T("value.text", "Text", nameOf(m))},
			{Label: ui.T("referral.field.contact"), Value: ui.T("value.text", "Text", ui.UserText(strings.Join(reach, ", ")))},
			{Label: ui.T("referral.field.language"), Value: ui.T("language." + languageKey(lang))},
		},
		Body: []ui.Text{ui.T("referral.card_basis." + r.Basis)},
	}
	switch r.State {
	case store.ReferralAcknowledged:
		card.Body = append(card.Body, ui.T("referral.card_acknowledged"))
	default:
		card.Buttons = []ui.Button{{Label: ui.T("referral.ack"), Action: ActReferralAck, Payload: ref(r.ID), Style: ui.StylePrimary}}
	}
	return card, nil
}

func languageKey(l string) string {
	if strings.HasPrefix(strings.ToLower(l), "fr") {
		return "fr"
	}
	return "en"
}

// ReferralAck is the partner acknowledging a referral from its own channel.
func (s *Service) ReferralAck(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		r, err := tx.Referral(ctx, ID(payload))
		if isNotFound(err) {
			return reply("case.unknown"), nil
		}
		if err != nil {
			return Result{}, err
		}
		p, err := tx.Partner(ctx, r.PartnerID)
		if err != nil {
			return Result{}, err
		}
		if p.CommunityID != a.CommunityID {
			return reply("case.unknown"), nil
		}
		ok, err := tx.MoveReferral(ctx, r.ID, store.ReferralSent, store.ReferralAcknowledged)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return reply("referral.ack_already"), nil
		}
		if err := tx.AddCaseEvent(ctx, r.EscalationID, a.MemberID, "partner_acknowledged", ""); err != nil {
			return Result{}, err
		}
		if err := s.audit(ctx, tx, a, "referral.acknowledged", "referral:"+ref(r.ID), "partner="+ref(p.ID)+" by="+a.Platform+":"+a.UserID); err != nil {
			return Result{}, err
		}
		if r, err = tx.Referral(ctx, r.ID); err != nil {
			return Result{}, err
		}
		card, err := referralCard(ctx, tx, r)
		if err != nil {
			return Result{}, err
		}
		res := reply("referral.ack_thanks")
		res.add(ui.Out{To: ui.Partner(p.ID), Key: "referral:" + ref(r.ID), Card: card})
		res.add(ui.Out{To: ui.Moderators(p.CommunityID), Card: ui.Card{Body: []ui.Text{
			ui.T("referral.ack_mods", "Partner", ui.UserText(p.Name), "Case", r.EscalationID)}}})
		return res, nil
	})
}

// EmergencyForm opens the emergency override: a partner and a written reason.
func (s *Service) EmergencyForm(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	if !a.Moderator {
		return reply("case.moderators_only"), nil
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		c, _, ok, err := moderatorCase(ctx, tx, a, ID(payload), 0)
		if err != nil || !ok || !c.MemberID.Valid {
			res = reply("case.unknown")
			return err
		}
		ps, err := tx.Partners(ctx, a.CommunityID, false)
		if err != nil {
			return err
		}
		var opts []ui.Option
		for _, p := range ps {
			opts = append(opts, ui.Option{Label: ui.T("value.text", "Text", ui.UserText(p.Name)), Value: ref(p.ID)})
		}
		res.Form = &ui.Form{ID: FormEmergency, Payload: ref(c.ID), Title: ui.T("emergency.form.title", "Case", c.ID), Fields: []ui.FormField{
			{Name: "partner", Kind: ui.FieldChoice, Label: ui.T("emergency.field.partner"), Options: opts, Required: true},
			{Name: "reason", Kind: ui.FieldLongText, Label: ui.T("emergency.field.reason"), Help: ui.T("emergency.help.reason"), Required: true, MaxLen: MaxNotes, Private: true},
		}}
		return nil
	})
	return res, err
}

// EmergencyRefer sends a referral without consent: only with a written reason, only the
// minimum, recorded with the moderator's name, shown in the audit, and told to the
// person afterwards.
func (s *Service) EmergencyRefer(ctx context.Context, a Actor, payload string, in map[string]string) (Result, error) {
	if !a.Moderator {
		return reply("case.moderators_only"), nil
	}
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		v := newValues(in)
		reason := v.long("reason", MaxNotes)
		if strings.TrimSpace(reason) == "" {
			v.fail("reason", "emergency.reason_required")
		}
		partnerID, _ := strconv.ParseInt(v.text("partner", true, 20), 10, 64)
		c, p, ok, err := moderatorCase(ctx, tx, a, ID(payload), partnerID)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			v.fail("partner", "emergency.partner_unknown")
		}
		if len(v.errs) > 0 {
			return Result{Errors: v.errs}, nil
		}
		if !c.MemberID.Valid {
			return reply("referral.no_member"), nil
		}
		id, err := tx.AddReferral(ctx, store.Referral{EscalationID: c.ID, PartnerID: p.ID, MemberID: c.MemberID, Basis: "emergency",
			Fields: "name,contact", ReferredBy: a.MemberID, State: store.ReferralSent}, reason)
		if err != nil {
			return Result{}, err
		}
		if err := tx.AddCaseEvent(ctx, c.ID, a.MemberID, "emergency_override", reason); err != nil {
			return Result{}, err
		}
		if err := s.audit(ctx, tx, a, "referral.emergency", "referral:"+ref(id), "case="+ref(c.ID)+" partner="+ref(p.ID)+" moderator="+ref(a.MemberID)); err != nil {
			return Result{}, err
		}
		r, err := tx.Referral(ctx, id)
		if err != nil {
			return Result{}, err
		}
		res, err := s.sendReferral(ctx, tx, a, r, p)
		if err != nil {
			return Result{}, err
		}
		res.add(ui.Out{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T("emergency.sent", "Partner", ui.UserText(p.Name))}}})
		told, err := speaker(ctx, tx, c.MemberID.Int64)
		if err != nil {
			return Result{}, err
		}
		res.add(ui.Out{To: ui.Member(told), Card: ui.Card{Body: []ui.Text{ui.T("emergency.told", "Partner", ui.UserText(p.Name))}}})
		return res, nil
	})
}
