package flows

import (
	"context"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// The moderators' queue and what they do on a case: acknowledge, contact the person,
// hide a request or an offer, suspend a member, resolve with a note. Every action is
// checked against the moderator role, writes an audit row and a timeline entry, and
// refuses before it writes.

// queueSize is how many open cases the queue shows at once.
const queueSize = 20

// modOnly is the kind refusal for someone who is not a moderator.
func modOnly() Result { return reply("mod.only") }

// Queue is "/tend queue": the open cases, newest first, each with its actions.
func (s *Service) Queue(ctx context.Context, a Actor, _ []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return modOnly(), nil
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		c, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return err
		}
		total, err := tx.OpenCaseCount(ctx, c.ID)
		if err != nil {
			return err
		}
		if total == 0 {
			res = reply("mod.queue.empty")
			return nil
		}
		cases, err := tx.Escalations(ctx, c.ID, true, queueSize)
		if err != nil {
			return err
		}
		head := ui.Card{Title: ui.T("mod.queue.title", "Count", total)}
		if total > len(cases) {
			head.Body = append(head.Body, ui.T("mod.queue.showing", "Count", len(cases)))
		}
		res.add(ui.Out{To: ui.Actor(), Card: head})
		for _, e := range cases {
			card, err := modCardOf(ctx, tx, e, c.Timezone)
			if err != nil {
				return err
			}
			res.add(ui.Out{To: ui.Actor(), Card: card})
		}
		return nil
	})
	return res, err
}

// Case is "/tend case <id>": one case with its timeline, notes decrypted, and who
// raised it. Reading it is logged, since notes and reporters are private.
func (s *Service) Case(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return modOnly(), nil
	}
	id := ID(strings.TrimPrefix(nthArg(args, 0), "#"))
	if id == 0 {
		return reply("mod.case.usage"), nil
	}
	return s.caseStep(ctx, a, id, func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error) {
		card, err := modCardOf(ctx, tx, e, zone)
		if err != nil {
			return Result{}, false, err
		}
		if e.MemberID.Valid {
			who, err := memberLabel(ctx, tx, e.MemberID.Int64)
			if err != nil {
				return Result{}, false, err
			}
			card.Fields = append(card.Fields, ui.Field{Label: ui.T("mod.field.person"), Value: who})
		}
		if e.ReporterID.Valid {
			who, err := memberLabel(ctx, tx, e.ReporterID.Int64)
			if err != nil {
				return Result{}, false, err
			}
			card.Fields = append(card.Fields, ui.Field{Label: ui.T("mod.field.reporter"), Value: who})
		}
		events, err := tx.CaseEvents(ctx, e.ID)
		if err != nil {
			return Result{}, false, err
		}
		timeline := ui.Card{Title: ui.T("mod.case.timeline", "ID", e.ID)}
		for _, ev := range events {
			who := ui.T("mod.actor.system")
			if ev.ActorID != 0 {
				if who, err = memberLabel(ctx, tx, ev.ActorID); err != nil {
					return Result{}, false, err
				}
			}
			line := ui.T("mod.case.event", "When", stamp(ev.CreatedAt, zone), "Who", who, "What", eventLabel(ev.Action))
			if ev.Note != "" {
				line = ui.T("mod.case.event_note", "When", stamp(ev.CreatedAt, zone), "Who", who, "What", eventLabel(ev.Action), "Note", ui.UserText(ev.Note))
			}
			timeline.Body = append(timeline.Body, line)
		}
		if err := s.audit(ctx, tx, a, "case.viewed", modCaseRef(e.ID), ""); err != nil {
			return Result{}, false, err
		}
		return Result{Outs: []ui.Out{{To: ui.Actor(), Card: card}, {To: ui.Actor(), Card: timeline}}}, true, nil
	})
}

// caseStep runs a moderator's step on a case of their community; fn gets the case and
// the community's time zone.
func (s *Service) caseStep(ctx context.Context, a Actor, id int64, fn func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error)) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return modOnly(), nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		e, err := tx.Escalation(ctx, id)
		if isNotFound(err) || (err == nil && e.CommunityID != a.CommunityID) {
			return reply("mod.case.unknown"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		c, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		return fn(tx, e, c.Timezone)
	})
}

// caseAction is caseStep for actions on a case still open; a resolved case refuses.
func (s *Service) caseAction(ctx context.Context, a Actor, payload string, fn func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error)) (Result, error) {
	return s.caseStep(ctx, a, ID(payload), func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error) {
		if e.Status == store.CaseResolved {
			return reply("mod.case.already_resolved", "ID", e.ID), false, nil
		}
		return fn(tx, e, zone)
	})
}

// recordAction writes an action's timeline entry and audit row and adds the case's card,
// redrawn, to the moderators' channel.
func (s *Service) recordAction(ctx context.Context, tx *store.Tx, a Actor, res *Result, e store.Escalation, zone, event, note, auditAction, auditSubject, detail string) error {
	if err := tx.AddCaseEvent(ctx, e.ID, a.MemberID, event, note); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, a, auditAction, auditSubject, detail); err != nil {
		return err
	}
	// Cases from other sources keep the card their own flow draws.
	if e.Source != SourceFlag && e.Source != SourceWorried {
		return nil
	}
	e, err := tx.Escalation(ctx, e.ID)
	if err != nil {
		return err
	}
	card, err := modCardOf(ctx, tx, e, zone)
	if err != nil {
		return err
	}
	res.add(ui.Out{To: ui.Moderators(e.CommunityID), Card: card, Key: modCaseKey(e.ID)})
	return nil
}

// takeCase acknowledges a case still open as part of another action: whoever acts first
// has taken it.
func (s *Service) takeCase(ctx context.Context, tx *store.Tx, a Actor, e store.Escalation) error {
	if e.Status != store.CaseOpen {
		return nil
	}
	ok, err := tx.Acknowledge(ctx, e.ID, a.MemberID)
	if err != nil || !ok {
		return err
	}
	if err := tx.AddCaseEvent(ctx, e.ID, a.MemberID, "acknowledged", ""); err != nil {
		return err
	}
	return s.audit(ctx, tx, a, "case.acknowledged", modCaseRef(e.ID), "")
}

// Acknowledge is a moderator taking a case. The first wins; a later press is told who.
func (s *Service) Acknowledge(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.caseAction(ctx, a, payload, func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error) {
		ok, err := tx.Acknowledge(ctx, e.ID, a.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		if !ok {
			by, err := ackBy(ctx, tx, e)
			return reply("mod.ack.already", "ID", e.ID, "By", by), false, err
		}
		res := reply("mod.ack.done", "ID", e.ID)
		return res, true, s.recordAction(ctx, tx, a, &res, e, zone, "acknowledged", "", "case.acknowledged", modCaseRef(e.ID), "")
	})
}

func ackBy(ctx context.Context, tx *store.Tx, e store.Escalation) (ui.Text, error) {
	if !e.AcknowledgedBy.Valid {
		return ui.T("mod.actor.someone"), nil
	}
	return memberLabel(ctx, tx, e.AcknowledgedBy.Int64)
}

// Contact sends the person a case is about a neutral word from the moderators. It never
// says who reported or why.
func (s *Service) Contact(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.caseAction(ctx, a, payload, func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error) {
		if !e.MemberID.Valid {
			return reply("mod.contact.no_member"), false, nil
		}
		name, err := memberLabel(ctx, tx, e.MemberID.Int64)
		if err != nil {
			return Result{}, false, err
		}
		c, _, err := community(ctx, tx, e.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		if err := s.takeCase(ctx, tx, a, e); err != nil {
			return Result{}, false, err
		}
		res := reply("mod.contact.done", "Name", name)
		// A person without an account is reached through the member who speaks for them.
		to, err := speaker(ctx, tx, e.MemberID.Int64)
		if err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: ui.Member(to), Card: ui.Card{
			Title: ui.T("mod.contact.title", "Community", ui.UserText(c.Name)),
			Body:  []ui.Text{ui.T("mod.contact.body")},
		}})
		return res, true, s.recordAction(ctx, tx, a, &res, e, zone, "contacted", "", "case.contacted", modCaseRef(e.ID), "")
	})
}

// Hide takes the flagged request or offer off the board: its card there is replaced in
// place, and it can no longer be claimed or joined.
func (s *Service) Hide(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.caseAction(ctx, a, payload, func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error) {
		if (e.SubjectKind != SubjectReq && e.SubjectKind != SubjectOffer) || !e.SubjectID.Valid {
			return reply("mod.hide.not_item"), false, nil
		}
		id, key := e.SubjectID.Int64, requestKey(e.SubjectID.Int64)
		var hidden bool
		var err error
		boards := ui.Board(e.CommunityID)
		if e.SubjectKind == SubjectReq {
			var r store.Request
			if r, err = tx.Request(ctx, id); err == nil {
				hidden = r.Hidden
				boards, err = requestBoards(ctx, tx, r)
			}
		} else {
			var o store.Offer
			o, err = tx.Offer(ctx, id)
			hidden, key = o.Hidden, offerKey(id)
		}
		if isNotFound(err) {
			return reply("error.gone"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		if hidden {
			return reply("mod.hide.already"), false, nil
		}
		if e.SubjectKind == SubjectReq {
			_, err = tx.HideRequest(ctx, id)
		} else {
			_, err = tx.HideOffer(ctx, id)
		}
		if err != nil {
			return Result{}, false, err
		}
		if err := s.takeCase(ctx, tx, a, e); err != nil {
			return Result{}, false, err
		}
		res := reply("mod.hide.done")
		res.add(hiddenOnBoard(boards, key))
		subject := e.SubjectKind + ":" + ref(id)
		return res, true, s.recordAction(ctx, tx, a, &res, e, zone, "hidden", "", e.SubjectKind+".hidden", subject, "case="+ref(e.ID))
	})
}

// SuspendMember keeps a flagged member from using the bot until a moderator lifts it.
// Only flags about a member lead here: a worry about someone is never a reason.
func (s *Service) SuspendMember(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.caseAction(ctx, a, payload, func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error) {
		if e.SubjectKind != SubjectMember || e.Source != SourceFlag || !e.MemberID.Valid {
			return reply("mod.suspend.not_member"), false, nil
		}
		member := e.MemberID.Int64
		if member == a.MemberID {
			return reply("mod.suspend.self"), false, nil
		}
		name, err := memberLabel(ctx, tx, member)
		if err != nil {
			return Result{}, false, err
		}
		if already, err := tx.Suspended(ctx, member); err != nil || already {
			return reply("mod.suspend.already", "Name", name), false, err
		}
		c, _, err := community(ctx, tx, e.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		if err := tx.Suspend(ctx, member, a.MemberID, 0); err != nil {
			return Result{}, false, err
		}
		if err := s.takeCase(ctx, tx, a, e); err != nil {
			return Result{}, false, err
		}
		res := reply("mod.suspend.done", "Name", name)
		res.add(ui.Out{To: ui.Member(member), Card: ui.Card{Body: []ui.Text{ui.T("mod.suspend.member", "Community", ui.UserText(c.Name))}}})
		return res, true, s.recordAction(ctx, tx, a, &res, e, zone, "suspended", "", "member.suspended", "member:"+ref(member), "case="+ref(e.ID))
	})
}

// ResolveForm asks for the note a case is resolved with.
func (s *Service) ResolveForm(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.caseAction(ctx, a, payload, func(_ *store.Tx, e store.Escalation, _ string) (Result, bool, error) {
		return Result{Form: &ui.Form{ID: FormResolve, Payload: ref(e.ID), Title: ui.T("mod.resolve.form.title", "ID", e.ID), Fields: []ui.FormField{
			{Name: "note", Kind: ui.FieldLongText, Label: ui.T("mod.resolve.field.note"), Help: ui.T("mod.resolve.help.note"), Required: true, MaxLen: MaxNotes, Private: true},
		}}}, false, nil
	})
}

// Resolve closes a case with a note; the note is sealed in the timeline and goes
// nowhere else.
func (s *Service) Resolve(ctx context.Context, a Actor, payload string, in map[string]string) (Result, error) {
	v := newValues(in)
	note := v.long("note", MaxNotes)
	if note == "" {
		v.fail("note", "error.required")
	}
	if len(v.errs) > 0 && a.Moderator {
		return Result{Errors: v.errs}, nil
	}
	return s.caseAction(ctx, a, payload, func(tx *store.Tx, e store.Escalation, zone string) (Result, bool, error) {
		ok, err := tx.SetCaseStatus(ctx, e.ID, a.MemberID, store.CaseResolved)
		if err != nil || !ok {
			return reply("mod.case.already_resolved", "ID", e.ID), false, err
		}
		res := reply("mod.resolve.done", "ID", e.ID)
		return res, true, s.recordAction(ctx, tx, a, &res, e, zone, "resolved", note, "case.resolved", modCaseRef(e.ID), "")
	})
}

// Unsuspend is "/tend unsuspend <member>": the member can use the bot again.
func (s *Service) Unsuspend(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return modOnly(), nil
	}
	userID, _ := userRef(nthArg(args, 0))
	if userID == "" {
		return reply("mod.unsuspend.usage"), nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		m, err := tx.MemberByIdentity(ctx, a.CommunityID, a.Platform, userID)
		if isNotFound(err) {
			return reply("mod.unknown_member", "Name", ui.UserText(userID)), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		lifted, err := tx.Unsuspend(ctx, m.ID)
		if err != nil || !lifted {
			return reply("mod.unsuspend.not_suspended", "Name", ui.UserText(m.DisplayName)), false, err
		}
		if err := s.audit(ctx, tx, a, "member.unsuspended", "member:"+ref(m.ID), ""); err != nil {
			return Result{}, false, err
		}
		// The lift joins the timeline of the latest case about the member, if any.
		if e, err := tx.LatestCaseAbout(ctx, a.CommunityID, m.ID); err == nil {
			if err := tx.AddCaseEvent(ctx, e.ID, a.MemberID, "unsuspended", ""); err != nil {
				return Result{}, false, err
			}
		} else if !isNotFound(err) {
			return Result{}, false, err
		}
		c, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		res := reply("mod.unsuspend.done", "Name", ui.UserText(m.DisplayName))
		res.add(ui.Out{To: ui.Member(m.ID), Card: ui.Card{Body: []ui.Text{ui.T("mod.unsuspend.member", "Community", ui.UserText(c.Name))}}})
		return res, true, nil
	})
}

// Suspension is the answer a suspended member gets instead of what they asked for;
// stop is false for everyone else. The router asks it before anything but the
// commands SuspensionExempt lets through; a crisis signal in what a suspended member
// writes is answered before it (the router screens first).
func (s *Service) Suspension(ctx context.Context, a Actor) (res Result, stop bool, err error) {
	if !a.IsMember() {
		return Result{}, false, nil
	}
	err = s.read(ctx, func(tx *store.Tx) error {
		stop, err = tx.Suspended(ctx, a.MemberID)
		return err
	})
	if err != nil || !stop {
		return Result{}, false, err
	}
	return reply("mod.suspended"), true, nil
}

// SuspensionExempt reports whether a command stays open to a suspended member: reading
// the privacy notice and their own data.
func SuspensionExempt(command string) bool {
	switch strings.ToLower(command) {
	case "privacy", "confidentialite", "confidentialité", "mine", "my", "moi",
		// Forgetting a person one asked for, and unlinking an account, are about one's data.
		"forget-person", "oublier-personne", "unlink", "delier", "délier",
		// Seeing, exporting and erasing one's data (flows/mydata.go).
		"mydata", "my-data", "mesdonnees", "mes-donnees":
		return true
	}
	return false
}

// SuspensionExemptButton reports whether a button stays open to a suspended member:
// those of "My data" (their consents, their export, their erasure).
func SuspensionExemptButton(action string) bool {
	return strings.HasPrefix(action, "mydata.")
}
