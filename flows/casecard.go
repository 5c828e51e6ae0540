package flows

import (
	"context"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// How a case looks to moderators, in the queue and in their channel, and the labels of
// its parts.

// modCard loads a case and draws its card.
func (s *Service) modCard(ctx context.Context, tx *store.Tx, id int64) (ui.Card, error) {
	e, err := tx.Escalation(ctx, id)
	if err != nil {
		return ui.Card{}, err
	}
	c, _, err := community(ctx, tx, e.CommunityID)
	if err != nil {
		return ui.Card{}, err
	}
	return modCardOf(ctx, tx, e, c.Timezone)
}

// modCardOf is a case as moderators see it in the queue and their channel: what it is
// about, why, how urgent, its state and the actions left. A reporter is only "a member"
// here; their name is in the case's details.
func modCardOf(ctx context.Context, tx *store.Tx, e store.Escalation, zone string) (ui.Card, error) {
	about, hidden, err := subjectLine(ctx, tx, e)
	if err != nil {
		return ui.Card{}, err
	}
	card := ui.Card{Title: ui.T("mod.case.title", "ID", e.ID, "Source", sourceLabel(e.Source)), Body: []ui.Text{about}}
	if e.ReporterID.Valid {
		card.Body = append(card.Body, ui.T("mod.case.by_member"))
	}
	status := statusLabel(e.Status)
	switch {
	case e.Status == store.CaseResolved && e.ResolvedBy.Valid:
		by, err := memberLabel(ctx, tx, e.ResolvedBy.Int64)
		if err != nil {
			return ui.Card{}, err
		}
		status = ui.T("mod.status.with_by", "Status", status, "By", by)
	case e.Status != store.CaseOpen && e.AcknowledgedBy.Valid:
		by, err := ackBy(ctx, tx, e)
		if err != nil {
			return ui.Card{}, err
		}
		status = ui.T("mod.status.with_by", "Status", status, "By", by)
	}
	card.Fields = []ui.Field{
		{Label: ui.T("mod.field.severity"), Value: severityLabel(e.Severity)},
		{Label: ui.T("mod.field.reason"), Value: reasonLabel(e.Reason)},
		{Label: ui.T("mod.field.status"), Value: status},
		{Label: ui.T("mod.field.opened"), Value: ui.T("mod.opened", "When", stamp(e.CreatedAt, zone), "Age", age(tx.Now()-e.CreatedAt))},
	}
	p := ref(e.ID)
	if e.Status != store.CaseResolved {
		if e.Status == store.CaseOpen {
			card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("mod.button.ack"), Action: ActModAck, Payload: p, Style: ui.StylePrimary})
		}
		if e.MemberID.Valid {
			card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("mod.button.contact"), Action: ActModContact, Payload: p})
		}
		switch {
		case (e.SubjectKind == SubjectReq || e.SubjectKind == SubjectOffer) && !hidden:
			card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("mod.button.hide"), Action: ActModHide, Payload: p, Style: ui.StyleDanger})
		case e.SubjectKind == SubjectMember && e.Source == SourceFlag:
			card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("mod.button.suspend"), Action: ActModSuspend, Payload: p, Style: ui.StyleDanger})
		}
		card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("mod.button.resolve"), Action: ActModResolve, Payload: p})
	}
	card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("mod.button.details"), Action: ActModCase, Payload: p})
	return card, nil
}

// subjectLine says what a case is about: the public part of a request or offer (and
// whether it is hidden), or the person by name (or by platform account for someone who
// has not joined).
func subjectLine(ctx context.Context, tx *store.Tx, e store.Escalation) (about ui.Text, hidden bool, err error) {
	switch e.SubjectKind {
	case SubjectReq:
		r, err := tx.Request(ctx, e.SubjectID.Int64)
		if isNotFound(err) {
			return ui.T("mod.subject.gone"), false, nil
		}
		if err != nil {
			return ui.Text{}, false, err
		}
		if r.Hidden {
			return ui.T("mod.subject.request_hidden", "ID", r.ID, "Item", requestTitle(r)), true, nil
		}
		return ui.T("mod.subject.request", "ID", r.ID, "Item", requestTitle(r)), false, nil
	case SubjectOffer:
		o, err := tx.Offer(ctx, e.SubjectID.Int64)
		if isNotFound(err) {
			return ui.T("mod.subject.gone"), false, nil
		}
		if err != nil {
			return ui.Text{}, false, err
		}
		title := ui.T("offer.card.title", "Category", CategoryText(o.Category, o.CategoryEN, o.CategoryFR), "Summary", ui.UserText(o.Summary))
		if o.Hidden {
			return ui.T("mod.subject.offer_hidden", "ID", o.ID, "Item", title), true, nil
		}
		return ui.T("mod.subject.offer", "ID", o.ID, "Item", title), false, nil
	}
	who := ui.T("mod.subject.not_member", "ID", ui.UserText(e.PlatformUserID))
	if e.MemberID.Valid {
		if who, err = memberLabel(ctx, tx, e.MemberID.Int64); err != nil {
			return ui.Text{}, false, err
		}
	}
	switch {
	case e.Source == SourceWorried:
		return ui.T("mod.subject.worried", "Name", who), false, nil
	case e.SubjectKind == SubjectMember:
		return ui.T("mod.subject.member", "Name", who), false, nil
	}
	return ui.T("mod.subject.person", "Name", who), false, nil
}

// memberLabel names a member for moderators; one whose data was erased is "someone".
func memberLabel(ctx context.Context, tx *store.Tx, id int64) (ui.Text, error) {
	m, err := tx.Member(ctx, id)
	if isNotFound(err) {
		return ui.T("mod.actor.someone"), nil
	}
	if err != nil {
		return ui.Text{}, err
	}
	return ui.T("value.text", "Text", nameOf(m)), nil
}

// stamp is a moment in the community's zone, written the same in every language.
func stamp(unix int64, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return time.Unix(unix, 0).In(loc).Format("2006-01-02 15:04")
}

// age is how long ago something happened, roughly.
func age(seconds int64) ui.Text {
	d := time.Duration(max(seconds, 0)) * time.Second
	switch {
	case d < time.Minute:
		return ui.T("mod.age.now")
	case d < time.Hour:
		return ui.T("mod.age.minutes", "Count", int(d/time.Minute))
	case d < 48*time.Hour:
		return ui.T("mod.age.hours", "Count", int(d/time.Hour))
	}
	return ui.T("mod.age.days", "Count", int(d/(24*time.Hour)))
}

func sourceLabel(source string) ui.Text {
	switch source {
	case SourceFlag:
		return ui.T("mod.source.flag")
	case SourceWorried:
		return ui.T("mod.source.worried")
	case "detector":
		return ui.T("mod.source.detector")
	case "moderator":
		return ui.T("mod.source.moderator")
	case "visit":
		return ui.T("mod.source.visit")
	}
	return ui.T("value.text", "Text", source)
}

func severityLabel(severity string) ui.Text {
	switch severity {
	case "urgent":
		return ui.T("mod.severity.urgent")
	case "high":
		return ui.T("mod.severity.high")
	case "normal":
		return ui.T("mod.severity.normal")
	}
	return ui.T("value.text", "Text", severity)
}

func statusLabel(status string) ui.Text {
	switch status {
	case store.CaseOpen:
		return ui.T("mod.status.open")
	case store.CaseAcknowledged:
		return ui.T("mod.status.acknowledged")
	case store.CaseReferred:
		return ui.T("mod.status.referred")
	case store.CaseResolved:
		return ui.T("mod.status.resolved")
	}
	return ui.T("value.text", "Text", status)
}

func eventLabel(action string) ui.Text {
	switch action {
	case "opened":
		return ui.T("mod.event.opened")
	case "acknowledged":
		return ui.T("mod.event.acknowledged")
	case "contacted":
		return ui.T("mod.event.contacted")
	case "hidden":
		return ui.T("mod.event.hidden")
	case "suspended":
		return ui.T("mod.event.suspended")
	case "unsuspended":
		return ui.T("mod.event.unsuspended")
	case "resolved":
		return ui.T("mod.event.resolved")
	case "noted":
		return ui.T("mod.event.noted")
	}
	return ui.T("value.text", "Text", action)
}
