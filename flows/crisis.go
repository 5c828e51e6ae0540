package flows

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// escalationRoutes adds crisis answers, cases, referrals and the partner directory.
func (s *Service) escalationRoutes(r *Routes) {
	r.Buttons[ActCrisisPost] = s.CrisisPost
	r.Buttons[ActCrisisSafe] = s.CrisisSafe
	r.Buttons[ActCrisisTalk] = s.CrisisTalk
	r.Buttons[ActCrisisMore] = s.CrisisMore
	r.Buttons[ActCaseAck] = s.CaseAck
	r.Buttons[ActCaseRefer] = s.CaseRefer
	r.Buttons[ActCaseEmergency] = s.EmergencyForm
	r.Buttons[ActReferralYes] = func(ctx context.Context, a Actor, p, _ string) (Result, error) {
		return s.ReferralAnswer(ctx, a, p, true)
	}
	r.Buttons[ActReferralNo] = func(ctx context.Context, a Actor, p, _ string) (Result, error) {
		return s.ReferralAnswer(ctx, a, p, false)
	}
	r.Buttons[ActReferralAck] = s.ReferralAck
	r.Forms[FormEmergency] = s.EmergencyRefer
	r.Forms[FormPartner] = s.PartnerSubmit
	r.Jobs[JobCaseRealert] = s.Realert
	for _, name := range []string{"partners", "partner", "partenaires", "partenaire"} {
		r.Commands[name] = s.PartnersCommand
	}
}

// ScreenText answers a crisis signal in something a person wrote to the bot (seenIn
// says where: "dialogue", "board"); ok is false when there is none.
func (s *Service) ScreenText(ctx context.Context, a Actor, text, seenIn string) (Result, bool, error) {
	tier := s.screen(a.CommunityID, text)
	if tier == "" {
		return Result{}, false, nil
	}
	res, err := s.run(ctx, func(tx *store.Tx) (Result, error) { return s.signal(ctx, tx, a, tier, seenIn, nil) })
	return res, true, err
}

// ownCase loads a case about the actor; ok is false for anyone else's.
func ownCase(ctx context.Context, tx *store.Tx, a Actor, payload string) (store.Escalation, bool, error) {
	c, err := tx.Escalation(ctx, ID(payload))
	if isNotFound(err) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	mine := c.CommunityID == a.CommunityID && ((c.MemberID.Valid && c.MemberID.Int64 == a.MemberID && a.MemberID != 0) ||
		(!c.MemberID.Valid && c.Platform == a.Platform && c.PlatformUserID == a.UserID))
	return c, mine, nil
}

// postHeld posts the request or offer a case held, as the person chose; the case itself
// stays as it is.
func (s *Service) postHeld(ctx context.Context, tx *store.Tx, a Actor, c store.Escalation) (Result, error) {
	if !c.Held() {
		return Result{}, nil
	}
	var h heldForm
	_, plain, ok, err := tx.Release(ctx, c.ID)
	if err != nil || !ok {
		return Result{}, err
	}
	if err := json.Unmarshal(plain, &h); err != nil {
		return Result{}, fmt.Errorf("flows: held form: %w", err)
	}
	if err := tx.AddCaseEvent(ctx, c.ID, a.MemberID, "released", ""); err != nil {
		return Result{}, err
	}
	// The post runs in this transaction and is not screened again: the person chose.
	jctx := store.WithTx(context.WithValue(ctx, releasedKey{}, true), tx)
	var res Result
	switch h.Form {
	case FormOffer:
		res, err = s.Offer(jctx, a, h.Values)
	case FormAskFor:
		res, err = s.AskFor(jctx, a, h.Values)
	case FormEdit:
		res, err = s.Edit(jctx, a, h.Payload, h.Values)
	default:
		res, err = s.Ask(jctx, a, h.Values)
	}
	if err != nil {
		return Result{}, err
	}
	if len(res.Errors) > 0 {
		// What was held no longer fits (its time has passed): say so kindly.
		return reply("crisis.post_again"), nil
	}
	return res, nil
}

// CrisisPost posts what a signal held: the person still needs the ride. The case stays
// open.
func (s *Service) CrisisPost(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		c, mine, err := ownCase(ctx, tx, a, payload)
		if err != nil || !mine {
			return reply("crisis.not_yours"), err
		}
		if !c.Held() {
			return reply("crisis.already_posted"), nil
		}
		if err := s.audit(ctx, tx, a, "case.released", caseKey(c.ID), ""); err != nil {
			return Result{}, err
		}
		return s.postHeld(ctx, tx, a, c)
	})
}

// CrisisSafe is "I'm safe / that's not what I meant": a distress or ideation signal
// closes quietly (counted, for tuning the lists); an imminent one stays open until a
// moderator acknowledges it. Anything held is posted.
func (s *Service) CrisisSafe(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		c, mine, err := ownCase(ctx, tx, a, payload)
		if err != nil || !mine {
			return reply("crisis.not_yours"), err
		}
		res := reply("crisis.safe_thanks")
		if c.Severity == TierImminent {
			res = reply("crisis.safe_imminent")
		} else if c.Status != store.CaseResolved {
			if _, err := tx.SetCaseStatus(ctx, c.ID, 0, store.CaseResolved); err != nil {
				return Result{}, err
			}
			if err := tx.AddCaseEvent(ctx, c.ID, a.MemberID, "not_meant", ""); err != nil {
				return Result{}, err
			}
			if urgent(c.Severity) {
				if c, err = tx.Escalation(ctx, c.ID); err != nil {
					return Result{}, err
				}
				card, err := caseCard(ctx, tx, c)
				if err != nil {
					return Result{}, err
				}
				res.add(ui.Out{To: ui.Moderators(c.CommunityID), Key: caseKey(c.ID), Card: card})
			}
		}
		if err := s.audit(ctx, tx, a, "case.not_meant", caseKey(c.ID), "tier="+c.Severity); err != nil {
			return Result{}, err
		}
		posted, err := s.postHeld(ctx, tx, a, c)
		if err != nil {
			return Result{}, err
		}
		res.Outs = append(res.Outs, posted.Outs...)
		res.Jobs = append(res.Jobs, posted.Jobs...)
		return res, nil
	})
}

// CrisisTalk asks for someone from the community: the moderators are told at once,
// without the person's words, and again until someone acknowledges.
func (s *Service) CrisisTalk(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		c, mine, err := ownCase(ctx, tx, a, payload)
		if err != nil || !mine {
			return reply("crisis.not_yours"), err
		}
		if c.Status == store.CaseResolved {
			// They closed it, then asked after all: the case opens again.
			if err := tx.Reopen(ctx, c.ID); err != nil {
				return Result{}, err
			}
		}
		if err := tx.AddCaseEvent(ctx, c.ID, a.MemberID, "talk", ""); err != nil {
			return Result{}, err
		}
		if err := s.audit(ctx, tx, a, "case.talk", caseKey(c.ID), ""); err != nil {
			return Result{}, err
		}
		if c, err = tx.Escalation(ctx, c.ID); err != nil {
			return Result{}, err
		}
		who, err := caseSubject(ctx, tx, c)
		if err != nil {
			return Result{}, err
		}
		card, err := caseCard(ctx, tx, c)
		if err != nil {
			return Result{}, err
		}
		card.Body = append([]ui.Text{ui.T("case.talk", "Who", who)}, card.Body...)
		res := reply("crisis.talk_sent")
		res.add(ui.Out{To: ui.Moderators(c.CommunityID), Key: caseKey(c.ID), Card: card})
		if c.Status == store.CaseOpen {
			res.Jobs = append(res.Jobs, realertJob(tx, c.ID))
		}
		return res, nil
	})
}

// CrisisMore shows every crisis resource the community has.
func (s *Service) CrisisMore(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		c, mine, err := ownCase(ctx, tx, a, payload)
		if err != nil || !mine {
			res = reply("crisis.not_yours")
			return err
		}
		card, err := s.crisisCard(ctx, tx, a.CommunityID, c, true)
		res.add(ui.Out{To: ui.Actor(), Card: card})
		return err
	})
	return res, err
}

// CaseAck is a moderator taking a case: the alerts stop, and who and when are kept.
func (s *Service) CaseAck(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	if !a.Moderator {
		return reply("case.moderators_only"), nil
	}
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		c, err := tx.Escalation(ctx, ID(payload))
		if isNotFound(err) || (err == nil && c.CommunityID != a.CommunityID) {
			return reply("case.unknown"), nil
		}
		if err != nil {
			return Result{}, err
		}
		ok, err := tx.Acknowledge(ctx, c.ID, a.MemberID)
		if err != nil {
			return Result{}, err
		}
		if c, err = tx.Escalation(ctx, c.ID); err != nil {
			return Result{}, err
		}
		if !ok {
			by := ui.T("case.someone")
			if c.AcknowledgedBy.Valid {
				m, err := tx.Member(ctx, c.AcknowledgedBy.Int64)
				if err != nil {
					return Result{}, err
				}
				by = ui.T("value.text", "Text", ui.UserText(m.DisplayName))
			}
			return reply("case.already_acknowledged", "By", by), nil
		}
		if err := tx.AddCaseEvent(ctx, c.ID, a.MemberID, "acknowledged", ""); err != nil {
			return Result{}, err
		}
		if err := s.audit(ctx, tx, a, "case.acknowledged", caseKey(c.ID), ""); err != nil {
			return Result{}, err
		}
		card, err := caseCard(ctx, tx, c)
		if err != nil {
			return Result{}, err
		}
		res := reply("case.acknowledged", "Case", c.ID)
		res.add(ui.Out{To: ui.Moderators(c.CommunityID), Key: caseKey(c.ID), Card: card})
		return res, nil
	})
}

// Realert reminds the moderators of an urgent case nobody has acknowledged; from the
// second reminder it also reaches the alert channel. Acknowledging stops it.
func (s *Service) Realert(ctx context.Context, id int64) (Result, error) {
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		alerts, ok, err := tx.Realert(ctx, id)
		if err != nil || !ok {
			return Result{}, err
		}
		c, err := tx.Escalation(ctx, id)
		if err != nil {
			return Result{}, err
		}
		card, err := caseCard(ctx, tx, c)
		if err != nil {
			return Result{}, err
		}
		card.Title = ui.T("case.realert_title", "Case", c.ID, "Count", alerts)
		var res Result
		res.add(ui.Out{To: ui.Moderators(c.CommunityID), Card: card})
		if alerts >= 2 {
			res.add(ui.Out{To: ui.Alerts(c.CommunityID), Card: card})
		}
		if alerts < maxAlerts {
			res.Jobs = append(res.Jobs, realertJob(tx, id))
		}
		return res, nil
	})
}
