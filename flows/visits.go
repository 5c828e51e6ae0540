package flows

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Safe visits. A category's risk level decides what an accepted helper gets: from a
// doorstep errand up, a code word the requester can ask for at the door; from a ride up,
// the community's visit rules, an "I've arrived" button and a check after the visit (the
// helper is asked whether all is well, then the moderators are told if nobody answers).
// A category may need two helpers: its request's slot then has two places.

// Buttons and jobs of safe visits; payloads and refs are claim ids.
const (
	ActArrived  = "visit.arrived"
	ActNeedHelp = "visit.help"
	// JobVisitOverdue asks the helper whether all is well, a grace period after the end.
	JobVisitOverdue = "visit_overdue"
	// JobVisitOverdueMods tells the moderators when the helper has not answered since.
	JobVisitOverdueMods = "visit_overdue_mods"
)

// codeWordKept is how long a code word outlives the end of its claim (a message about
// the visit may still be on its way), before the hourly purge erases it.
const codeWordKept = 24 * time.Hour

// visitRoutes adds safe visits: arrival, the overdue check, code words.
func (s *Service) visitRoutes(r *Routes) {
	r.Buttons[ActArrived] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.Arrived(ctx, a, ID(payload))
	}
	r.Buttons[ActNeedHelp] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.NeedHelp(ctx, a, ID(payload))
	}
	r.Jobs[JobVisitOverdue] = s.VisitOverdue
	r.Jobs[JobVisitOverdueMods] = s.VisitOverdueMods
}

// atLeast reports whether a category's risk is at least the level.
func atLeast(cat store.Category, level string) bool {
	return store.RiskRank(cat.Risk) >= store.RiskRank(level)
}

// requestCategory loads a request's category. One removed from config since counts as a
// home visit for one helper: a safety check too many is better than one too few.
func requestCategory(ctx context.Context, tx *store.Tx, r store.Request) (store.Category, error) {
	cat, err := tx.Category(ctx, r.CommunityID, r.Category)
	if isNotFound(err) {
		return store.Category{CommunityID: r.CommunityID, Key: r.Category, Risk: store.RiskHome, Helpers: 1}, nil
	}
	return cat, err
}

// placesFilled reports whether every place of a request has an accepted (or done)
// helper: only then is it matched. Each slot's row is locked first, so two helpers
// accepted at the same moment cannot both miss each other and leave it unmatched.
func placesFilled(ctx context.Context, tx *store.Tx, request int64) (bool, error) {
	slots, err := tx.SlotsOfRequest(ctx, request)
	if err != nil {
		return false, err
	}
	for _, sl := range slots {
		if sl.Capacity > 1 {
			if err := tx.LockSlot(ctx, sl.ID); err != nil {
				return false, err
			}
		}
		n, err := acceptedOn(ctx, tx, sl.ID)
		if err != nil {
			return false, err
		}
		if len(n) < sl.Capacity {
			return false, nil
		}
	}
	return true, nil
}

// acceptedOn lists the accepted or done claims of a slot.
func acceptedOn(ctx context.Context, tx *store.Tx, slot int64) ([]store.Claim, error) {
	claims, err := tx.LiveClaimsOnSlot(ctx, slot)
	if err != nil {
		return nil, err
	}
	var out []store.Claim
	for _, c := range claims {
		if c.State == store.ClaimAccepted || c.State == store.ClaimDone {
			out = append(out, c)
		}
	}
	return out, nil
}

// aloneOnVisit reports whether a claim is an accepted helper, not yet arrived, on a
// visit that needs more than one: when the visit's request expires, they are stood down.
func aloneOnVisit(ctx context.Context, tx *store.Tx, c store.Claim) (bool, error) {
	if c.State != store.ClaimAccepted || c.ArrivedAt.Valid {
		return false, nil
	}
	sl, err := tx.Slot(ctx, c.SlotID)
	return sl.Capacity > 1, err
}

// helpersFields says on a request's board card how many helpers it has of those it
// needs, when a slot needs more than one.
func helpersFields(slots []store.Slot) []ui.Field {
	taken, total, many := 0, 0, false
	for _, sl := range slots {
		taken, total, many = taken+sl.Taken, total+sl.Capacity, many || sl.Capacity > 1
	}
	if !many {
		return nil
	}
	return []ui.Field{{Label: ui.T("visit.field.helpers"), Value: ui.T("visit.value.helpers", "Taken", taken, "Total", total)}}
}

// visitAccepted adds what a safe visit needs to the helper's and the requester's
// messages when the requester accepts a helper: the code word, the rules and the arrival
// button by risk level, where a two-helper visit stands, and the check after the visit.
// The code word travels as a reference to the claim (Card.CodeWord), decrypted only
// when each message is rendered for its reader.
func (s *Service) visitAccepted(ctx context.Context, tx *store.Tx, cc claimCtx, requester, helper store.Member, helperCard, requesterCard *ui.Card) (Result, error) {
	var res Result
	r := cc.request
	cat, err := requestCategory(ctx, tx, r)
	if err != nil {
		return res, err
	}
	vs, err := tx.VisitSettings(ctx, r.CommunityID)
	if err != nil {
		return res, err
	}
	requesterName, helperName := nameOf(requester), ui.UserText(helper.DisplayName)
	if atLeast(cat, store.RiskDoorstep) {
		if err := s.giveCodeWord(ctx, tx, cc, requester); err != nil {
			return res, err
		}
		helperCard.Body = append(helperCard.Body, ui.T("visit.code_word.helper", "Name", requesterName))
		helperCard.CodeWord = cc.claim.ID
		// The requester's code word goes in a DM of its own: the answer to their press
		// is kept for a redelivery of the event, and must hold nothing sealed.
		to, err := toRequester(ctx, tx, r)
		if err != nil {
			return res, err
		}
		res.add(ui.Out{To: to, Card: ui.Card{
			Body: []ui.Text{ui.T("visit.code_word.requester", "Name", helperName)}, CodeWord: cc.claim.ID}})
	}
	if atLeast(cat, store.RiskRide) {
		helperCard.Body = append(helperCard.Body, visitRules(vs)...)
		helperCard.Body = append(helperCard.Body, ui.T("visit.arrived.hint", "Name", requesterName))
		// After Done and Withdraw, so the buttons people already know keep their place.
		helperCard.Buttons = append(helperCard.Buttons, ui.Button{Label: ui.T("visit.button.arrived"), Action: ActArrived, Payload: ref(cc.claim.ID)})
		if at := cc.slot.EndsAt + int64(vs.GraceMinutes)*60; at > tx.Now() {
			res.Jobs = append(res.Jobs, Job{Kind: JobVisitOverdue, Ref: cc.claim.ID, At: at})
		}
	}
	if cc.slot.Capacity > 1 {
		accepted, err := acceptedOn(ctx, tx, cc.slot.ID)
		if err != nil {
			return res, err
		}
		var names []string
		var others []int64
		for _, c := range accepted {
			if c.ID == cc.claim.ID {
				continue
			}
			m, err := tx.Member(ctx, c.MemberID)
			if err != nil {
				return res, err
			}
			names, others = append(names, m.DisplayName), append(others, m.ID)
		}
		if len(accepted) < cc.slot.Capacity {
			helperCard.Body = append(helperCard.Body, ui.T("visit.two.waiting"))
			requesterCard.Body = append(requesterCard.Body, ui.T("visit.two.requester_waiting", "Taken", len(accepted), "Total", cc.slot.Capacity))
		} else {
			helperCard.Body = append(helperCard.Body, ui.T("visit.two.with", "Names", ui.UserText(strings.Join(names, ", "))))
			for _, id := range others {
				res.add(ui.Out{To: ui.Member(id), Card: ui.Card{Body: []ui.Text{
					ui.T("visit.two.partner", "Name", helperName, "Summary", ui.UserText(r.Summary))}}})
			}
		}
	}
	return res, nil
}

// visitRules are the community's rules, or the catalogue's when it has none, and who
// to call.
func visitRules(vs store.VisitSettings) []ui.Text {
	out := []ui.Text{ui.T("visit.rules.title")}
	if rules := vs.RuleList(); len(rules) > 0 {
		for _, l := range rules {
			out = append(out, ui.T("visit.rule", "Rule", ui.UserText(l)))
		}
	} else {
		out = append(out, ui.T("visit.rule.cash"), ui.T("visit.rule.enter"), ui.T("visit.rule.code"), ui.T("visit.rule.call"))
	}
	if c := strings.TrimSpace(vs.Contact); c != "" {
		out = append(out, ui.T("visit.rule.contact", "Contact", ui.UserText(c)))
	}
	return out
}

// visitClaim loads a claim for a button only its helper may press; why is the refusal.
func visitClaim(ctx context.Context, tx *store.Tx, a Actor, claimID int64) (claimCtx, string, error) {
	cc, ok, err := loadClaim(ctx, tx, claimID)
	switch {
	case err != nil:
		return cc, "", err
	case !ok:
		return cc, "error.gone", nil
	case cc.claim.MemberID != a.MemberID:
		return cc, "visit.not_yours", nil
	}
	return cc, "", nil
}

// Arrived is the helper saying they are at the door: it is recorded once, and the
// requester is told privately, with the code word to ask for.
func (s *Service) Arrived(ctx context.Context, a Actor, claimID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		cc, why, err := visitClaim(ctx, tx, a, claimID)
		if err != nil || why != "" {
			return reply(why), false, err
		}
		c, r := cc.claim, cc.request
		if c.ArrivedAt.Valid {
			return reply("visit.arrived.already"), false, nil
		}
		if c.State != store.ClaimAccepted {
			return reply("visit.not_accepted"), false, nil
		}
		if moved, err := tx.MarkArrived(ctx, c.ID); err != nil || !moved {
			return reply("visit.arrived.already"), false, err
		}
		if err := s.audit(ctx, tx, a, "visit.arrived", "claim:"+ref(c.ID), "request="+ref(r.ID)); err != nil {
			return Result{}, false, err
		}
		requester, err := tx.Member(ctx, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		helper, err := tx.Member(ctx, c.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Body:    []ui.Text{ui.T("visit.arrived.thanks", "Name", nameOf(requester))},
			Buttons: helperButtons(c.ID),
		}}}}
		told := ui.Card{Body: []ui.Text{ui.T("visit.arrived.requester", "Name", ui.UserText(helper.DisplayName), "Summary", ui.UserText(r.Summary))}}
		if len(c.CodeCT) > 0 {
			told.CodeWord = c.ID
		}
		to, err := toRequester(ctx, tx, r)
		if err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: to, Card: told})
		return res, true, nil
	})
}

// helperButtons are "Mark as done" and "I need help", for a helper during or after a visit.
func helperButtons(claimID int64) []ui.Button {
	return []ui.Button{
		{Label: ui.T("button.done"), Action: ActDone, Payload: ref(claimID), Style: ui.StylePrimary},
		{Label: ui.T("visit.button.help"), Action: ActNeedHelp, Payload: ref(claimID), Style: ui.StyleDanger},
	}
}

// NeedHelp is the helper asking for help: the moderators are told at once, with the
// public part of the request only, and the helper is shown the crisis resources. A call
// for help is never turned down for the state of the claim.
func (s *Service) NeedHelp(ctx context.Context, a Actor, claimID int64) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		cc, why, err := visitClaim(ctx, tx, a, claimID)
		if err != nil || why != "" {
			return reply(why), false, err
		}
		r := cc.request
		if err := s.audit(ctx, tx, a, "visit.help", "claim:"+ref(cc.claim.ID), "request="+ref(r.ID)); err != nil {
			return Result{}, false, err
		}
		mods, err := visitModsCard(ctx, tx, cc, "visit.help.title", "visit.help.mods")
		if err != nil {
			return Result{}, false, err
		}
		if err := visitCase(ctx, tx, cc, &mods); err != nil {
			return Result{}, false, err
		}
		res := reply("visit.help.sent")
		rs, err := tx.CrisisResources(ctx, r.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		for _, cr := range rs {
			res.Outs[0].Card.Fields = append(res.Outs[0].Card.Fields, ui.Field{
				Label: ui.T("value.text", "Text", ui.UserText(cr.Label)), Value: ui.T("value.text", "Text", ui.UserText(cr.Contact))})
		}
		res.add(mods)
		return res, true, nil
	})
}

// visitModsCard is a case-like card for the moderators about a visit: who helps whom
// (the requester only by name if they chose to show it) and the request's public part.
func visitModsCard(ctx context.Context, tx *store.Tx, cc claimCtx, title, body string, kv ...any) (ui.Out, error) {
	r := cc.request
	helper, err := tx.Member(ctx, cc.claim.MemberID)
	if err != nil {
		return ui.Out{}, err
	}
	requester, err := tx.Member(ctx, r.RequesterID)
	if err != nil {
		return ui.Out{}, err
	}
	who := requesterLabel(r, requester)
	args := append([]any{"Helper", ui.UserText(helper.DisplayName), "Requester", who, "Request", r.ID}, kv...)
	return ui.Out{To: ui.Moderators(r.CommunityID), Card: ui.Card{
		Title:  ui.T(title),
		Body:   []ui.Text{ui.T(body, args...), requestTitle(r)},
		Fields: requestFields(r, who, cc.zone),
	}}, nil
}

// VisitOverdue runs a grace period after a visit's end: if its helper has not marked it
// done, they are asked privately whether all is well, and the moderators' check is
// scheduled another grace period later. A claim done, withdrawn or cancelled since, or
// a helper already asked, ends it silently.
func (s *Service) VisitOverdue(ctx context.Context, claimID int64) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		cc, ok, err := loadClaim(ctx, tx, claimID)
		if err != nil || !ok || cc.claim.State != store.ClaimAccepted || tx.Now() < cc.slot.EndsAt || pausedUnvisited(cc) {
			return Result{}, false, err
		}
		vs, err := tx.VisitSettings(ctx, cc.request.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		if moved, err := tx.MarkChecked(ctx, cc.claim.ID); err != nil || !moved {
			return Result{}, false, err
		}
		r := cc.request
		if err := tx.Audit(ctx, r.CommunityID, 0, "visit.checked", "claim:"+ref(cc.claim.ID), "request="+ref(r.ID)); err != nil {
			return Result{}, false, err
		}
		requester, err := tx.Member(ctx, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		res := Result{Outs: []ui.Out{{To: ui.Member(cc.claim.MemberID), Card: ui.Card{
			Title:   ui.T("visit.overdue.title"),
			Body:    []ui.Text{ui.T("visit.overdue.body", "Name", nameOf(requester), "Summary", ui.UserText(r.Summary))},
			Buttons: helperButtons(cc.claim.ID),
		}}}}
		res.Jobs = []Job{{Kind: JobVisitOverdueMods, Ref: cc.claim.ID, At: tx.Now() + int64(vs.GraceMinutes)*60}}
		return res, true, nil
	})
}

// VisitOverdueMods tells the moderators that a helper asked whether all is well has not
// answered, once; a claim marked done since ends it silently.
func (s *Service) VisitOverdueMods(ctx context.Context, claimID int64) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		cc, ok, err := loadClaim(ctx, tx, claimID)
		if err != nil || !ok || cc.claim.State != store.ClaimAccepted || !cc.claim.CheckedAt.Valid || pausedUnvisited(cc) {
			return Result{}, false, err
		}
		vs, err := tx.VisitSettings(ctx, cc.request.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		if moved, err := tx.MarkAlerted(ctx, cc.claim.ID); err != nil || !moved {
			return Result{}, false, err
		}
		r := cc.request
		if err := tx.Audit(ctx, r.CommunityID, 0, "visit.alerted", "claim:"+ref(cc.claim.ID), "request="+ref(r.ID)); err != nil {
			return Result{}, false, err
		}
		mods, err := visitModsCard(ctx, tx, cc, "visit.overdue_mods.title", "visit.overdue_mods.body", "Minutes", vs.GraceMinutes)
		if err != nil {
			return Result{}, false, err
		}
		if err := visitCase(ctx, tx, cc, &mods); err != nil {
			return Result{}, false, err
		}
		return Result{Outs: []ui.Out{mods}}, true, nil
	})
}

// vetUntil splits a vet command's step from the end date typed after "until"
// ("jusqu'au" in French), or given as the last word: "interview until 2027-11-25". What
// follows "until" is the date even when it is not one, so that it is refused, not kept
// as part of the step; dated says whether a date was given at all.
func vetUntil(step string) (rest, date string, dated bool) {
	fs := strings.Fields(step)
	for i := len(fs) - 1; i >= 0; i-- {
		if untilWords[strings.ToLower(fs[i])] {
			return strings.Join(fs[:i], " "), strings.Join(fs[i+1:], " "), true
		}
	}
	if n := len(fs); n > 0 && isDate(fs[n-1]) {
		return strings.Join(fs[:n-1], " "), fs[n-1], true
	}
	return step, "", false
}

var untilWords = map[string]bool{"until": true, "till": true, "jusqu'au": true, "jusqu’au": true, "jusqu'à": true, "jusqu’à": true}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// vettingExpiry is when a vetting being recorded ends: the day after the date the
// moderator typed (which is included), else the community's default validity from now,
// else never. why is a refusal message for a bad or past date.
func vettingExpiry(ctx context.Context, tx *store.Tx, communityID int64, date string, dated bool) (sql.NullInt64, string, error) {
	_, loc, err := community(ctx, tx, communityID)
	if err != nil {
		return sql.NullInt64{}, "", err
	}
	if dated {
		d, err := time.ParseInLocation(time.DateOnly, date, loc)
		if err != nil {
			return sql.NullInt64{}, "visit.vet.until_bad", nil
		}
		end := d.AddDate(0, 0, 1).Unix()
		if end <= tx.Now() {
			return sql.NullInt64{}, "visit.vet.until_past", nil
		}
		return sql.NullInt64{Int64: end, Valid: true}, "", nil
	}
	vs, err := tx.VisitSettings(ctx, communityID)
	if err != nil || vs.VettingValidDays <= 0 {
		return sql.NullInt64{}, "", err
	}
	return sql.NullInt64{Int64: tx.Now() + int64(vs.VettingValidDays)*86400, Valid: true}, "", nil
}

// lastDay is the last day a vetting holds, for people: the day before it ends at midnight.
func lastDay(expires int64, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return time.Unix(expires-1, 0).In(loc).Format(time.DateOnly)
}

// vettedUntil adds the end of a new vetting to the moderator's reply and the volunteer's
// message.
func vettedUntil(res *Result, expires sql.NullInt64, zone string) {
	if !expires.Valid {
		return
	}
	for i := range res.Outs {
		res.Outs[i].Card.Body = append(res.Outs[i].Card.Body, ui.T("visit.vet.until", "Date", lastDay(expires.Int64, zone)))
	}
}

// vettingOuts shows a volunteer their vetting records: the step, who verified it, when,
// and until when. A record never holds what a check found, so there is none to show.
func vettingOuts(ctx context.Context, tx *store.Tx, member int64, zone string) ([]ui.Out, error) {
	vs, err := tx.VettingsOf(ctx, member)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	card := ui.Card{}
	for _, v := range vs {
		by := any(ui.T("visit.mine.by_moderator"))
		if v.VerifiedBy.Valid {
			m, err := tx.Member(ctx, v.VerifiedBy.Int64)
			if err != nil && !isNotFound(err) {
				return nil, err
			}
			if err == nil {
				by = ui.UserText(m.DisplayName)
			}
		}
		on := time.Unix(v.VerifiedAt, 0).In(loc).Format(time.DateOnly)
		id, until := "visit.mine.vetting_open", ""
		if v.ExpiresAt.Valid {
			id, until = "visit.mine.vetting", lastDay(v.ExpiresAt.Int64, zone)
			if v.ExpiresAt.Int64 <= tx.Now() {
				id = "visit.mine.vetting_expired"
			}
		}
		card.Body = append(card.Body, ui.T(id, "Step", ui.UserText(v.Step), "By", by, "On", on, "Until", until))
	}
	return []ui.Out{{To: ui.Actor(), Card: card}}, nil
}

// visitCase opens an urgent case about a visit's helper, so the moderators' queue holds
// it until someone takes it, and puts the way to take it on the moderators' card.
func visitCase(ctx context.Context, tx *store.Tx, cc claimCtx, mods *ui.Out) error {
	id, err := tx.OpenEscalation(ctx, store.Escalation{CommunityID: cc.request.CommunityID, Source: "visit", Severity: "urgent",
		MemberID: sql.NullInt64{Int64: cc.claim.MemberID, Valid: true}, SeenIn: "visit", SubjectKind: "request",
		SubjectID: sql.NullInt64{Int64: cc.request.ID, Valid: true}, Reason: "safety"}, nil)
	if err != nil {
		return err
	}
	mods.Card.Buttons = append(mods.Card.Buttons, ui.Button{Label: ui.T("case.ack"), Action: ActCaseAck, Payload: ref(id), Style: ui.StylePrimary})
	return nil
}
