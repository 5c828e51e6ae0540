package flows

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// The audit trail as moderators read it: who saw whose private data, when and on what
// basis (disclosures), and every state change (the audit log), newest first. Every look
// at it is itself written to the audit log.

// auditPage is how many rows "/tend audit" shows; auditCard how many go on one card.
const (
	auditPage = 30
	auditCard = 10
)

// AuditRow is one row of the audit trail: a disclosure or an audit log entry.
type AuditRow struct {
	At         int64
	Disclosure *store.Disclosure
	Entry      *store.AuditEntry
}

// AuditTrail lists a community's disclosures and audit log entries together, newest
// first, at most f.Limit of them (all when 0), with how many match in all.
func AuditTrail(ctx context.Context, tx *store.Tx, community int64, f store.AuditFilter) ([]AuditRow, int, error) {
	ds, dTotal, err := tx.CommunityDisclosures(ctx, community, f)
	if err != nil {
		return nil, 0, err
	}
	es, eTotal, err := tx.AuditEntries(ctx, community, f)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]AuditRow, 0, len(ds)+len(es))
	i, j := 0, 0
	for (i < len(ds) || j < len(es)) && (f.Limit == 0 || len(rows) < f.Limit) {
		// Both lists are newest first; at the same second a disclosure goes first.
		if j >= len(es) || (i < len(ds) && ds[i].CreatedAt >= es[j].CreatedAt) {
			rows = append(rows, AuditRow{At: ds[i].CreatedAt, Disclosure: &ds[i]})
			i++
		} else {
			rows = append(rows, AuditRow{At: es[j].CreatedAt, Entry: &es[j]})
			j++
		}
	}
	return rows, dTotal + eTotal, nil
}

// DayRange turns since and until dates (YYYY-MM-DD, either may be empty) into Unix
// bounds in a time zone: since from the start of its day, until to the end of its day.
func DayRange(since, until string, loc *time.Location) (from, to int64, err error) {
	if since != "" {
		t, err := time.ParseInLocation(time.DateOnly, since, loc)
		if err != nil {
			return 0, 0, fmt.Errorf("flows: since %q: %w", since, err)
		}
		from = t.Unix()
	}
	if until != "" {
		t, err := time.ParseInLocation(time.DateOnly, until, loc)
		if err != nil {
			return 0, 0, fmt.Errorf("flows: until %q: %w", until, err)
		}
		to = t.AddDate(0, 0, 1).Unix() - 1
	}
	if from != 0 && to != 0 && to < from {
		return 0, 0, fmt.Errorf("flows: until %s is before since %s", until, since)
	}
	return from, to, nil
}

// AuditBounds is how a look at the audit trail records its dates in the audit log:
// " since=... until=...", each only when given.
func AuditBounds(since, until string) string {
	var b strings.Builder
	if since != "" {
		b.WriteString(" since=" + since)
	}
	if until != "" {
		b.WriteString(" until=" + until)
	}
	return b.String()
}

// AuditView is "/tend audit [member <user>] [since <YYYY-MM-DD>] [until <YYYY-MM-DD>]"
// for moderators.
func (s *Service) AuditView(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return modOnly(), nil
	}
	var who, since, until string
	for i := 0; i < len(args); i += 2 {
		val := nthArg(args, i+1)
		if val == "" {
			return reply("mod.audit.usage"), nil
		}
		switch fold(args[i]) {
		case "member", "membre":
			who, _ = userRef(val)
		case "since", "depuis", "from", "du":
			since = val
		case "until", "jusqua", "jusqu'a", "jusqu'au", "jusquau", "to", "au":
			until = val
		default:
			return reply("mod.audit.usage"), nil
		}
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		c, loc, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		f := store.AuditFilter{Limit: auditPage}
		if f.Since, f.Until, err = DayRange(since, until, loc); err != nil {
			return reply("mod.audit.usage"), false, nil
		}
		head := ui.Card{}
		subject := "community:" + ref(c.ID)
		if who != "" {
			m, err := tx.MemberByIdentity(ctx, c.ID, a.Platform, who)
			if isNotFound(err) {
				return reply("mod.unknown_member", "Name", ui.UserText(who)), false, nil
			}
			if err != nil {
				return Result{}, false, err
			}
			f.Member, subject = m.ID, "member:"+ref(m.ID)
			head.Body = append(head.Body, ui.T("mod.audit.about", "Name", nameOf(m)))
		}
		if since != "" {
			head.Body = append(head.Body, ui.T("mod.audit.since", "Date", since))
		}
		if until != "" {
			head.Body = append(head.Body, ui.T("mod.audit.until", "Date", until))
		}
		rows, total, err := AuditTrail(ctx, tx, c.ID, f)
		if err != nil {
			return Result{}, false, err
		}
		head.Title = ui.T("mod.audit.title", "Count", total)
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: head}}}
		var card ui.Card
		for i, row := range rows {
			line, err := auditLine(ctx, tx, row, c.Timezone)
			if err != nil {
				return Result{}, false, err
			}
			card.Body = append(card.Body, line)
			if len(card.Body) == auditCard || i == len(rows)-1 {
				res.add(ui.Out{To: ui.Actor(), Card: card})
				card = ui.Card{}
			}
		}
		if more := total - len(rows); more > 0 {
			res.add(ui.Out{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T("mod.audit.more", "Count", more)}}})
		}
		if err := s.audit(ctx, tx, a, "audit.viewed", subject, strings.TrimSpace(AuditBounds(since, until))); err != nil {
			return Result{}, false, err
		}
		return res, true, nil
	})
}

// auditLine is one row of the trail in the reader's language.
func auditLine(ctx context.Context, tx *store.Tx, row AuditRow, zone string) (ui.Text, error) {
	when := stamp(row.At, zone)
	if d := row.Disclosure; d != nil {
		viewer, err := memberLabel(ctx, tx, d.ViewerMemberID)
		if err != nil {
			return ui.Text{}, err
		}
		subject, err := memberLabel(ctx, tx, d.SubjectMemberID)
		if err != nil {
			return ui.Text{}, err
		}
		where := ui.T("mod.audit.ref_claim", "ID", d.ClaimID.Int64)
		if d.RequestID.Valid {
			where = ui.T("mod.audit.ref_request", "ID", d.RequestID.Int64)
		}
		return ui.T("mod.audit.disclosure", "When", when, "Viewer", viewer, "Subject", subject,
			"Fields", fieldList(strings.Split(d.Fields, ",")), "Basis", basisLabel(d.Basis), "Ref", where), nil
	}
	e := row.Entry
	who := ui.T("mod.actor.system")
	if e.ActorMemberID.Valid {
		var err error
		if who, err = memberLabel(ctx, tx, e.ActorMemberID.Int64); err != nil {
			return ui.Text{}, err
		}
	}
	subject := ui.T("value.text", "Text", e.Subject)
	if id, ok := strings.CutPrefix(e.Subject, "member:"); ok && ID(id) != 0 {
		name, err := memberLabel(ctx, tx, ID(id))
		if err != nil {
			return ui.Text{}, err
		}
		subject = ui.T("mod.audit.subject_member", "Name", name, "ID", id)
	}
	if e.Detail == "" {
		return ui.T("mod.audit.entry", "When", when, "Who", who, "Action", e.Action, "Subject", subject), nil
	}
	return ui.T("mod.audit.entry_detail", "When", when, "Who", who, "Action", e.Action, "Subject", subject, "Detail", e.Detail), nil
}

// fieldList names private fields in the reader's language: "address, phone".
func fieldList(keys []string) ui.Text {
	if len(keys) == 0 {
		return ui.Text{}
	}
	var first ui.Text
	switch k := strings.TrimSpace(keys[0]); k {
	case "address":
		first = ui.T("field.address")
	case "phone":
		first = ui.T("field.phone")
	case "notes":
		first = ui.T("field.notes")
	default:
		first = ui.T("value.text", "Text", k)
	}
	if len(keys) == 1 {
		return first
	}
	return ui.T("mod.audit.list", "First", first, "Rest", fieldList(keys[1:]))
}

func basisLabel(basis string) ui.Text {
	switch basis {
	case "consent":
		return ui.T("mod.basis.consent")
	case "emergency":
		return ui.T("mod.basis.emergency")
	}
	return ui.T("value.text", "Text", basis)
}
