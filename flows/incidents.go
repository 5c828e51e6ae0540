package flows

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// The register of confidentiality incidents, with the fields Quebec's register asks
// for. It is kept from the command line (tend incident) and read by moderators in chat
// (/tend incidents). The free text is sealed; a card names it by row and the bot opens
// it only when rendering for a reader of the incident's own community.

// Incident input fields: the names the command line's flags and the error messages use.
const (
	IncData           = "data"
	IncCircumstances  = "circumstances"
	IncOccurred       = "occurred"
	IncApproximate    = "approximate"
	IncKnown          = "known"
	IncAffected       = "affected"
	IncEstimate       = "estimate"
	IncRisk           = "risk"
	IncSensitivity    = "sensitivity"
	IncConsequences   = "consequences"
	IncLikelihood     = "likelihood"
	IncNotifiedCAI    = "notified_cai"
	IncNotifiedPeople = "notified_people"
	IncMeasures       = "measures"
)

// maxIncidentText bounds each free-text field.
const maxIncidentText = 2000

// incidentsShown is how many incidents "/tend incidents" shows, newest first.
const incidentsShown = 10

// SealedIncident prefixes the kinds of an incident's sealed free text ("incident.data").
const SealedIncident = "incident."

func incidentFieldLabel(name string) ui.Text {
	switch name {
	case IncData:
		return ui.T("incident.field.data")
	case IncCircumstances:
		return ui.T("incident.field.circumstances")
	case IncOccurred:
		return ui.T("incident.field.occurred")
	case IncKnown:
		return ui.T("incident.field.known")
	case IncAffected:
		return ui.T("incident.field.affected")
	case IncRisk:
		return ui.T("incident.field.risk")
	case IncSensitivity:
		return ui.T("incident.field.sensitivity")
	case IncConsequences:
		return ui.T("incident.field.consequences")
	case IncLikelihood:
		return ui.T("incident.field.likelihood")
	case IncNotifiedCAI:
		return ui.T("incident.field.notified_cai")
	case IncNotifiedPeople:
		return ui.T("incident.field.notified_people")
	case IncMeasures:
		return ui.T("incident.field.measures")
	}
	return ui.T("value.text", "Text", name)
}

// incidentCheck validates fields one at a time, collecting what is wrong.
type incidentCheck struct {
	in    map[string]string
	today string
	errs  []ui.FieldError
}

func (c *incidentCheck) fail(field, id string, kv ...any) {
	c.errs = append(c.errs, ui.FieldError{Field: field, Msg: ui.T(id, append([]any{"Field", incidentFieldLabel(field)}, kv...)...)})
}

// text applies a free-text field when given; required fails an empty one.
func (c *incidentCheck) text(field string, dst *string, required bool) {
	v, given := c.in[field]
	if !given {
		if required && *dst == "" {
			c.fail(field, "incident.error.required")
		}
		return
	}
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		c.fail(field, "incident.error.required")
	case utf8.RuneCountInString(v) > maxIncidentText:
		c.fail(field, "incident.error.too_long", "Max", maxIncidentText)
	default:
		*dst = v
	}
}

// date reads a YYYY-MM-DD date that is not in the future; "" when empty.
func (c *incidentCheck) date(field, v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", true
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		c.fail(field, "incident.error.date", "Value", ui.UserText(v))
		return "", false
	}
	if v > c.today {
		c.fail(field, "incident.error.future", "Value", ui.UserText(v))
		return "", false
	}
	return v, true
}

// CheckIncident applies the fields given in `in` to prev (a new incident when its ID is
// 0: then every required field must be given) and validates the result; today is the
// date in the community's zone. Dates are YYYY-MM-DD; "occurred" is a day or a period
// "YYYY-MM-DD..YYYY-MM-DD"; "affected" a number or "unknown"; "risk" low, medium or high
// (or faible, moyen, élevé); approximate and estimate "yes" or "no".
func CheckIncident(in map[string]string, prev store.Incident, d store.IncidentDetails, today string) (store.Incident, store.IncidentDetails, []ui.FieldError) {
	c := &incidentCheck{in: in, today: today}
	inc := prev
	c.text(IncData, &d.Data, true)
	c.text(IncCircumstances, &d.Circumstances, true)
	c.text(IncSensitivity, &d.Sensitivity, true)
	c.text(IncConsequences, &d.Consequences, true)
	c.text(IncLikelihood, &d.Likelihood, true)
	c.text(IncMeasures, &d.Measures, false)
	if v, given := in[IncOccurred]; given || inc.OccurredFrom == "" {
		from, until, period := strings.Cut(strings.TrimSpace(v), "..")
		switch f, ok := c.date(IncOccurred, from); {
		case !ok:
		case f == "":
			c.fail(IncOccurred, "incident.error.required")
		default:
			inc.OccurredFrom, inc.OccurredUntil = f, ""
			if period {
				u, ok := c.date(IncOccurred, until)
				switch {
				case ok && u == "":
					c.fail(IncOccurred, "incident.error.date", "Value", ui.UserText(v))
				case ok && u < f:
					c.fail(IncOccurred, "incident.error.period")
				case ok:
					inc.OccurredUntil = u
				}
			}
		}
	}
	if v, given := in[IncKnown]; given || inc.KnownOn == "" {
		switch k, ok := c.date(IncKnown, v); {
		case !ok:
		case k == "":
			c.fail(IncKnown, "incident.error.required")
		default:
			inc.KnownOn = k
		}
	}
	if inc.KnownOn != "" && inc.OccurredFrom != "" && inc.KnownOn < inc.OccurredFrom {
		c.fail(IncKnown, "incident.error.known_before")
	}
	if v, given := in[IncAffected]; given || (prev.ID == 0 && !given) {
		v = fold(v)
		n, err := strconv.ParseInt(strings.TrimPrefix(v, "~"), 10, 64)
		switch {
		case v == "unknown" || v == "inconnu":
			inc.Affected = sql.NullInt64{}
		case v == "":
			c.fail(IncAffected, "incident.error.required")
		case err != nil || n < 0:
			c.fail(IncAffected, "incident.error.affected", "Value", ui.UserText(v))
		default:
			inc.Affected = sql.NullInt64{Int64: n, Valid: true}
			if strings.HasPrefix(v, "~") {
				inc.AffectedEstimate = true
			}
		}
	}
	for field, dst := range map[string]*bool{IncApproximate: &inc.OccurredApprox, IncEstimate: &inc.AffectedEstimate} {
		if v, given := in[field]; given {
			switch fold(v) {
			case "yes", "oui", "true":
				*dst = true
			case "no", "non", "false", "":
				*dst = false
			}
		}
	}
	if v, given := in[IncRisk]; given || inc.Risk == "" {
		switch fold(v) {
		case "low", "faible":
			inc.Risk = "low"
		case "medium", "moyen", "moyenne":
			inc.Risk = "medium"
		case "high", "eleve", "elevee":
			inc.Risk = "high"
		case "":
			c.fail(IncRisk, "incident.error.required")
		default:
			c.fail(IncRisk, "incident.error.risk", "Value", ui.UserText(v))
		}
	}
	if v, given := in[IncNotifiedCAI]; given {
		if dt, ok := c.date(IncNotifiedCAI, v); ok {
			inc.NotifiedCAIOn = dt
		}
	}
	if v, given := in[IncNotifiedPeople]; given {
		if dt, ok := c.date(IncNotifiedPeople, v); ok {
			inc.NotifiedPeopleOn = dt
		}
	}
	return inc, d, c.errs
}

// SaveIncident records a new incident (id 0) or updates one from the fields given,
// validated, and writes it to the audit log under by (the command line's actor is
// "cli"). Nothing is written when errs is not empty.
func SaveIncident(ctx context.Context, tx *store.Tx, by Actor, id int64, in map[string]string) (int64, []ui.FieldError, error) {
	_, loc, err := community(ctx, tx, by.CommunityID)
	if err != nil {
		return 0, nil, err
	}
	prev, d := store.Incident{CommunityID: by.CommunityID}, store.IncidentDetails{}
	if id != 0 {
		if prev, err = tx.Incident(ctx, by.CommunityID, id); err != nil {
			return 0, nil, err
		}
		if d, err = tx.IncidentDetails(prev); err != nil {
			return 0, nil, err
		}
	}
	today := time.Unix(tx.Now(), 0).In(loc).Format(time.DateOnly)
	inc, d, errs := CheckIncident(in, prev, d, today)
	if len(errs) > 0 {
		return 0, errs, nil
	}
	saved, err := tx.SaveIncident(ctx, inc, d)
	if err != nil {
		return 0, nil, err
	}
	action, detail := "incident.recorded", "risk="+inc.Risk
	if id != 0 {
		var fields []string
		for _, f := range []string{IncData, IncCircumstances, IncOccurred, IncApproximate, IncKnown, IncAffected, IncEstimate, IncRisk,
			IncSensitivity, IncConsequences, IncLikelihood, IncNotifiedCAI, IncNotifiedPeople, IncMeasures} {
			if _, ok := in[f]; ok {
				fields = append(fields, f)
			}
		}
		action, detail = "incident.updated", "fields="+strings.Join(fields, ",")
	}
	return saved, nil, settingsAudit(ctx, tx, by, action, "incident:"+ref(saved), detail)
}

// Incidents is "/tend incidents [number]" for moderators: the register, newest first, a
// card per incident. Each look is audited.
func (s *Service) Incidents(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return modOnly(), nil
	}
	one := int64(0)
	if len(args) > 0 {
		if one = ID(strings.TrimPrefix(args[0], "#")); one == 0 {
			return reply("incident.usage"), nil
		}
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		var ins []store.Incident
		subject := "community:" + ref(a.CommunityID)
		if one != 0 {
			in, err := tx.Incident(ctx, a.CommunityID, one)
			if isNotFound(err) {
				return reply("incident.unknown", "ID", one), false, nil
			}
			if err != nil {
				return Result{}, false, err
			}
			ins, subject = []store.Incident{in}, "incident:"+ref(one)
		} else {
			var err error
			if ins, err = tx.Incidents(ctx, a.CommunityID, incidentsShown); err != nil {
				return Result{}, false, err
			}
		}
		res := Result{}
		if len(ins) == 0 {
			res = reply("incident.none")
		}
		for _, in := range ins {
			res.add(ui.Out{To: ui.Actor(), Card: IncidentCard(in)})
		}
		if err := s.audit(ctx, tx, a, "incident.viewed", subject, ""); err != nil {
			return Result{}, false, err
		}
		return res, true, nil
	})
}

// IncidentCard is one incident as moderators read it: the free text as sealed arguments.
func IncidentCard(in store.Incident) ui.Card {
	sealed := func(field string) ui.Text {
		return ui.T("value.any", "Value", ui.Sealed{Kind: SealedIncident + field, Ref: in.ID})
	}
	dash := func(v string) ui.Text {
		if v == "" {
			return ui.T("incident.not_yet")
		}
		return ui.T("value.text", "Text", v)
	}
	return ui.Card{
		Title: ui.T("incident.card.title", "ID", in.ID, "Risk", RiskLabel(in.Risk)),
		Fields: []ui.Field{
			{Label: incidentFieldLabel(IncOccurred), Value: OccurredText(in)},
			{Label: incidentFieldLabel(IncKnown), Value: ui.T("value.text", "Text", in.KnownOn)},
			{Label: incidentFieldLabel(IncAffected), Value: AffectedText(in)},
			{Label: incidentFieldLabel(IncData), Value: sealed(IncData)},
			{Label: incidentFieldLabel(IncCircumstances), Value: sealed(IncCircumstances)},
			{Label: incidentFieldLabel(IncSensitivity), Value: sealed(IncSensitivity)},
			{Label: incidentFieldLabel(IncConsequences), Value: sealed(IncConsequences)},
			{Label: incidentFieldLabel(IncLikelihood), Value: sealed(IncLikelihood)},
			{Label: incidentFieldLabel(IncNotifiedCAI), Value: dash(in.NotifiedCAIOn)},
			{Label: incidentFieldLabel(IncNotifiedPeople), Value: dash(in.NotifiedPeopleOn)},
			{Label: incidentFieldLabel(IncMeasures), Value: sealed(IncMeasures)},
		},
	}
}

// RiskLabel names a risk level in the reader's language.
func RiskLabel(risk string) ui.Text {
	switch risk {
	case "low":
		return ui.T("incident.risk.low")
	case "medium":
		return ui.T("incident.risk.medium")
	}
	return ui.T("incident.risk.high")
}

// OccurredText is when an incident happened: a day or a period, maybe approximate.
func OccurredText(in store.Incident) ui.Text {
	t := ui.T("value.text", "Text", in.OccurredFrom)
	if in.OccurredUntil != "" {
		t = ui.T("incident.period", "From", in.OccurredFrom, "Until", in.OccurredUntil)
	}
	if in.OccurredApprox {
		t = ui.T("incident.approximate", "Value", t)
	}
	return t
}

// AffectedText is how many people an incident affects: a number, an estimate, or unknown.
func AffectedText(in store.Incident) ui.Text {
	switch {
	case !in.Affected.Valid:
		return ui.T("incident.affected_unknown")
	case in.AffectedEstimate:
		return ui.T("incident.affected_estimate", "Count", in.Affected.Int64)
	}
	return ui.T("incident.affected_count", "Count", in.Affected.Int64)
}

// IncidentField is one free-text field of an incident's details.
func IncidentField(d store.IncidentDetails, field string) string {
	switch field {
	case IncData:
		return d.Data
	case IncCircumstances:
		return d.Circumstances
	case IncSensitivity:
		return d.Sensitivity
	case IncConsequences:
		return d.Consequences
	case IncLikelihood:
		return d.Likelihood
	case IncMeasures:
		return d.Measures
	}
	return ""
}

// unsealIncident opens one free-text field of an incident for a reader who is a member
// of its community; anyone else sees it withheld.
func unsealIncident(ctx context.Context, tx *store.Tx, viewer int64, sl ui.Sealed) (any, error) {
	m, err := tx.Member(ctx, viewer)
	if isNotFound(err) {
		return ui.T("sealed.withheld"), nil
	}
	if err != nil {
		return nil, err
	}
	in, err := tx.Incident(ctx, m.CommunityID, sl.Ref)
	if isNotFound(err) {
		return ui.T("sealed.withheld"), nil
	}
	if err != nil {
		return nil, err
	}
	d, err := tx.IncidentDetails(in)
	if err != nil {
		return nil, fmt.Errorf("flows: incident %d: %w", in.ID, err)
	}
	v := IncidentField(d, strings.TrimPrefix(sl.Kind, SealedIncident))
	if v == "" {
		return ui.T("incident.not_yet"), nil
	}
	return ui.UserText(v), nil
}
