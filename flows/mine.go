package flows

import (
	"context"
	"database/sql"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Mine shows a member their live requests, claims, offers and volunteer profile, each
// with the buttons that change it.
func (s *Service) Mine(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		c, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return err
		}
		zone := c.Timezone
		reqs, err := tx.RequestsBy(ctx, a.MemberID)
		if err != nil {
			return err
		}
		claims, err := tx.ClaimsBy(ctx, a.MemberID)
		if err != nil {
			return err
		}
		offers, err := tx.OffersBy(ctx, a.MemberID)
		if err != nil {
			return err
		}
		res.add(ui.Out{To: ui.Actor(), Card: ui.Card{Title: ui.T("mine.title"), Body: []ui.Text{
			ui.T("mine.counts", "Requests", len(reqs), "Claims", len(claims), "Offers", len(offers))}}})
		for _, r := range reqs {
			card := ui.Card{
				Body:    append([]ui.Text{ui.T("mine.request", "Status", ui.T("status."+r.Status)), requestTitle(r)}, hiddenNote(r.Hidden)...),
				Fields:  []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, zone))}},
				Buttons: []ui.Button{editButton(r.ID), {Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(r.ID), Style: ui.StyleDanger}},
			}
			if r.PausedAt.Valid {
				// Paused while they were away (flows/departures.go): only they resume it.
				card.Body = append(card.Body, ui.T("departure.mine.paused"))
				card.Buttons = append([]ui.Button{{Label: ui.T("departure.button.resume"), Action: ActResume, Payload: ref(r.ID), Style: ui.StylePrimary}}, card.Buttons...)
			}
			res.add(ui.Out{To: ui.Actor(), Card: card})
		}
		others, err := mineForOthers(ctx, tx, a, zone)
		if err != nil {
			return err
		}
		res.add(others...)
		for _, cl := range claims {
			sl, err := tx.Slot(ctx, cl.SlotID)
			if err != nil {
				return err
			}
			out, err := claimLine(ctx, tx, cl, sl, zone)
			if err != nil {
				return err
			}
			res.add(out)
		}
		for _, o := range offers {
			res.add(ui.Out{To: ui.Actor(), Card: ui.Card{
				Body:    append([]ui.Text{ui.T("mine.offer", "Category", CategoryText(o.Category, o.CategoryEN, o.CategoryFR), "Summary", ui.UserText(o.Summary))}, hiddenNote(o.Hidden)...),
				Fields:  []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(o.StartsAt, o.EndsAt, zone))}},
				Buttons: []ui.Button{{Label: ui.T("button.cancel_offer"), Action: ActCancelOffer, Payload: ref(o.ID), Style: ui.StyleDanger}},
			}})
		}
		p, err := tx.VolunteerProfile(ctx, a.MemberID)
		switch {
		case isNotFound(err):
			res.add(ui.Out{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T("mine.not_volunteer")}}})
		case err != nil:
			return err
		default:
			state := "mine.volunteer_active"
			if p.Paused {
				state = "mine.volunteer_paused"
			}
			res.add(ui.Out{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T(state,
				"Categories", ui.UserText(p.Categories), "Areas", ui.UserText(p.Areas), "Days", ui.UserText(p.Availability))}}})
		}
		vetting, err := vettingOuts(ctx, tx, a.MemberID, zone)
		if err != nil {
			return err
		}
		res.add(vetting...)
		links, err := mineLinks(ctx, tx, a)
		if err != nil {
			return err
		}
		res.add(links...)
		return nil
	})
	return res, err
}

func claimLine(ctx context.Context, tx *store.Tx, cl store.Claim, sl store.Slot, zone string) (ui.Out, error) {
	if sl.OfferID.Valid {
		o, err := tx.Offer(ctx, sl.OfferID.Int64)
		if err != nil {
			return ui.Out{}, err
		}
		return ui.Out{To: ui.Actor(), Card: ui.Card{
			Body:    []ui.Text{ui.T("mine.joined", "Summary", ui.UserText(o.Summary))},
			Fields:  []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(o.StartsAt, o.EndsAt, zone))}},
			Buttons: []ui.Button{{Label: ui.T("button.leave"), Action: ActLeave, Payload: ref(cl.ID)}},
		}}, nil
	}
	r, err := tx.Request(ctx, sl.RequestID.Int64)
	if err != nil {
		return ui.Out{}, err
	}
	card := ui.Card{
		Body:   []ui.Text{ui.T("mine.helping", "Status", ui.T("claim."+cl.State)), requestTitle(r)},
		Fields: []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, zone))}},
	}
	if cl.State == store.ClaimAccepted {
		card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("button.done"), Action: ActDone, Payload: ref(cl.ID), Style: ui.StylePrimary})
	}
	card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("button.withdraw"), Action: ActWithdraw, Payload: ref(cl.ID)})
	return ui.Out{To: ui.Actor(), Card: card}, nil
}

// Vet is a moderator recording that a volunteer passed a vetting step. Only the step,
// who verified it and when are kept; never what a check found.
func (s *Service) Vet(ctx context.Context, a Actor, targetUserID, step string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return reply("moderator.only"), nil
	}
	targetUserID = strings.TrimPrefix(strings.TrimSpace(targetUserID), "@")
	if targetUserID == "" {
		return reply("vet.usage"), nil
	}
	step, until, dated := vetUntil(step)
	step = strings.TrimSpace(step)
	if step == "" {
		step = "interview"
	}
	if len([]rune(step)) > 60 {
		return reply("error.too_long", "Count", 60), nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		m, err := tx.MemberByIdentity(ctx, a.CommunityID, a.Platform, targetUserID)
		if isNotFound(err) {
			return reply("vet.unknown", "Name", ui.UserText(targetUserID)), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		if _, err := tx.VolunteerProfile(ctx, m.ID); isNotFound(err) {
			return reply("vet.not_volunteer", "Name", ui.UserText(m.DisplayName)), false, nil
		} else if err != nil {
			return Result{}, false, err
		}
		expires, why, err := vettingExpiry(ctx, tx, a.CommunityID, until, dated)
		if err != nil || why != "" {
			return reply(why), false, err
		}
		if _, err := tx.AddVetting(ctx, store.Vetting{MemberID: m.ID, Step: step,
			VerifiedBy: sql.NullInt64{Int64: a.MemberID, Valid: true}, VerifiedAt: tx.Now(), ExpiresAt: expires}); err != nil {
			return Result{}, false, err
		}
		if err := s.audit(ctx, tx, a, "volunteer.vetted", "member:"+ref(m.ID), "step="+step); err != nil {
			return Result{}, false, err
		}
		res := reply("vet.done", "Name", ui.UserText(m.DisplayName), "Step", ui.UserText(step))
		res.add(ui.Out{To: ui.Member(m.ID), Card: ui.Card{Body: []ui.Text{ui.T("vet.volunteer")}}})
		com, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		vettedUntil(&res, expires, com.Timezone)
		return res, true, nil
	})
}
