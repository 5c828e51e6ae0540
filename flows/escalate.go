package flows

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Crisis signal tiers, from the detector; "" is no signal.
const (
	TierDistress = "distress"
	TierIdeation = "ideation"
	TierImminent = "imminent"
)

// Actions of the crisis card and of a case.
const (
	ActCrisisPost = "crisis.post"
	ActCrisisSafe = "crisis.safe"
	ActCrisisTalk = "crisis.talk"
	ActCrisisMore = "crisis.more"
	ActCaseAck    = "case.ack"
)

// JobCaseRealert re-alerts an urgent case nobody has acknowledged.
const JobCaseRealert = "case_realert"

// Re-alerts: every realertEvery while a case is open, reaching the alert channel from
// the second on, and stopping after maxAlerts (by then the alert channel has had many).
const (
	realertEvery = 10 * time.Minute
	maxAlerts    = 12
	// sameCase is how long a new signal from the same person joins the open case
	// instead of opening another (one conversation, one case).
	sameCase = 30 * time.Minute
	// resourcesShown is how many resources the first answer shows: a few, not a wall.
	resourcesShown = 3
)

// Screener finds crisis signals in what people write: it returns a tier, or "" for
// none. It never keeps or reports the words.
type Screener interface {
	Screen(community int64, text string) string
}

// SetScreener installs the crisis detector; without one nothing is screened.
func (s *Service) SetScreener(sc Screener) { s.screener = sc }

// screen returns the highest tier found in texts.
func (s *Service) screen(community int64, texts ...string) string {
	if s.screener == nil {
		return ""
	}
	best := ""
	for _, t := range texts {
		if tier := s.screener.Screen(community, t); tierRank(tier) > tierRank(best) {
			best = tier
		}
	}
	return best
}

func tierRank(t string) int {
	switch t {
	case TierDistress:
		return 1
	case TierIdeation:
		return 2
	case TierImminent:
		return 3
	}
	return 0
}

// urgent tiers open the case in the moderators' channel at once, with re-alerts.
func urgent(tier string) bool { return tierRank(tier) >= tierRank(TierIdeation) }

type releasedKey struct{}

// released marks a request or offer the person chose to post after a signal: it is not
// screened again.
func released(ctx context.Context) bool { v, _ := ctx.Value(releasedKey{}).(bool); return v }

// heldForm is what a case keeps of a form until the person chooses: the form and its
// answers, sealed in the case.
type heldForm struct {
	Form string `json:"form"`
	// Payload is the form's own (the request an edit is for).
	Payload string            `json:"payload,omitempty"`
	Values  map[string]string `json:"values"`
}

// signal records a crisis signal in tx and says what the person sees: a case (joining an
// open one of the same person from the last half hour), the held form if any, the
// moderators' card for an urgent tier, and the private answer with resources.
func (s *Service) signal(ctx context.Context, tx *store.Tx, a Actor, tier, seenIn string, held *heldForm) (Result, error) {
	e := store.Escalation{CommunityID: a.CommunityID, Source: "detector", Severity: tier, SeenIn: seenIn}
	if a.IsMember() {
		e.MemberID = sql.NullInt64{Int64: a.MemberID, Valid: true}
	} else {
		// The emergency exception: someone who has not joined is answered all the same,
		// and their case holds only the platform id, the tier and where it was seen.
		e.Platform, e.PlatformUserID = a.Platform, a.UserID
	}
	id, prev, err := s.openSignal(ctx, tx, e)
	if err != nil {
		return Result{}, err
	}
	if held != nil {
		b, err := json.Marshal(held)
		if err != nil {
			return Result{}, fmt.Errorf("flows: hold form: %w", err)
		}
		if err := tx.Hold(ctx, id, held.Form, b); err != nil {
			return Result{}, err
		}
	}
	if err := s.audit(ctx, tx, a, "case.signal", caseKey(id), "tier="+tier+" seen_in="+seenIn); err != nil {
		return Result{}, err
	}
	c, err := tx.Escalation(ctx, id)
	if err != nil {
		return Result{}, err
	}
	var res Result
	card, err := s.crisisCard(ctx, tx, a.CommunityID, c, false)
	if err != nil {
		return Result{}, err
	}
	res.add(ui.Out{To: ui.Actor(), Card: card})
	if a.IsMember() && !a.InDM {
		// An ephemeral answer may go unseen; the DM stays.
		res.add(ui.Out{To: ui.Member(a.MemberID), Card: card})
	}
	if urgent(c.Severity) && !urgent(prev) {
		// A new urgent case, or one that just became urgent: the moderators hear of it
		// now, and again until someone acknowledges it.
		mod, err := caseCard(ctx, tx, c)
		if err != nil {
			return Result{}, err
		}
		res.add(ui.Out{To: ui.Moderators(a.CommunityID), Key: caseKey(id), Card: mod})
		res.Jobs = append(res.Jobs, realertJob(tx, id))
	}
	return res, nil
}

func realertJob(tx *store.Tx, id int64) Job {
	return Job{Kind: JobCaseRealert, Ref: id, At: tx.Now() + int64(realertEvery/time.Second)}
}

// openSignal opens a detector case, or joins the person's open one from the last half
// hour, raising its severity to the higher tier; prev is the joined case's severity
// before ("" for a new case).
func (s *Service) openSignal(ctx context.Context, tx *store.Tx, e store.Escalation) (id int64, prev string, err error) {
	recent, err := tx.RecentSignal(ctx, e, tx.Now()-int64(sameCase/time.Second))
	switch {
	case err == nil:
		if tierRank(e.Severity) > tierRank(recent.Severity) {
			if err := tx.RaiseSeverity(ctx, recent.ID, e.Severity); err != nil {
				return 0, "", err
			}
		}
		return recent.ID, recent.Severity, nil
	case !isNotFound(err):
		return 0, "", err
	}
	id, err = tx.OpenEscalation(ctx, e, nil)
	return id, "", err
}

// caseKey names a case: its card in the moderators' channel (edited in place) and the
// subject of its audit rows.
func caseKey(id int64) string { return "case:" + ref(id) }

// resource is one line of crisis resources: a catalogue label or the community's own.
type resource struct {
	label   ui.Text
	contact string
}

// defaultResources are the region's crisis lines, in the order to show them.
func defaultResources(region string) []resource {
	ca := []resource{{ui.T("resource.ca.988"), "9-8-8"}, {ui.T("resource.911"), "911"}}
	switch strings.ToUpper(region) {
	case "CA-QC":
		return append([]resource{{ui.T("resource.qc.appelle"), "1-866-APPELLE (1-866-277-3553)"}}, ca...)
	case "CA":
		return ca
	case "US":
		return []resource{{ui.T("resource.us.988"), "988"}, {ui.T("resource.911"), "911"}}
	}
	return nil
}

// HasDefaultResources reports whether tend knows crisis lines for a region.
func HasDefaultResources(region string) bool { return len(defaultResources(region)) > 0 }

// resources are the community's own crisis resources first, then the region's, each
// contact once.
func resources(ctx context.Context, tx *store.Tx, community int64) ([]resource, error) {
	c, err := tx.Community(ctx, community)
	if err != nil {
		return nil, err
	}
	own, err := tx.CrisisResources(ctx, community)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []resource
	add := func(r resource) {
		k := digits(r.contact)
		if k == "" {
			k = r.contact
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, r := range own {
		add(resource{label: ui.T("value.text", "Text", ui.UserText(r.Label)), contact: r.Contact})
	}
	for _, r := range defaultResources(c.Region) {
		add(r)
	}
	return out, nil
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// crisisCard is the private answer to a signal: warm, a few resources (all of them with
// more), plain words that tend is not an emergency service, and the choices.
func (s *Service) crisisCard(ctx context.Context, tx *store.Tx, community int64, c store.Escalation, more bool) (ui.Card, error) {
	rs, err := resources(ctx, tx, community)
	if err != nil {
		return ui.Card{}, err
	}
	card := ui.Card{Title: ui.T("crisis.title"), Body: []ui.Text{ui.T("crisis.intro")}}
	if more {
		card = ui.Card{Title: ui.T("crisis.more_title")}
	}
	for i, r := range rs {
		if !more && i == resourcesShown {
			break
		}
		card.Body = append(card.Body, ui.T("crisis.resource", "Label", r.label, "Contact", r.contact))
	}
	if len(rs) == 0 {
		card.Body = append(card.Body, ui.T("crisis.no_resources"))
	}
	card.Body = append(card.Body, ui.T("crisis.not_emergency"))
	p := ref(c.ID)
	if c.Held() {
		post := ui.T("crisis.post_request")
		if c.HeldForm == FormOffer {
			post = ui.T("crisis.post_offer")
		}
		card.Body = append(card.Body, ui.T("crisis.held"))
		card.Buttons = append(card.Buttons, ui.Button{Label: post, Action: ActCrisisPost, Payload: p})
	}
	card.Buttons = append(card.Buttons,
		ui.Button{Label: ui.T("crisis.safe"), Action: ActCrisisSafe, Payload: p},
		ui.Button{Label: ui.T("crisis.talk"), Action: ActCrisisTalk, Payload: p, Style: ui.StylePrimary})
	if !more {
		card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("crisis.more"), Action: ActCrisisMore, Payload: p})
	}
	return card, nil
}

// caseCard is a case as moderators see it: who, where it was seen, the tier, and its
// state, never the words.
func caseCard(ctx context.Context, tx *store.Tx, c store.Escalation) (ui.Card, error) {
	who, err := caseSubject(ctx, tx, c)
	if err != nil {
		return ui.Card{}, err
	}
	title := ui.T("case.signal_title", "Case", c.ID)
	if c.Source != "detector" {
		title = ui.T("case.title", "Case", c.ID)
	}
	card := ui.Card{Title: title, Body: []ui.Text{
		ui.T("case.signal_body", "Who", who, "Where", ui.T("case.seen."+seenKey(c.SeenIn)), "Tier", ui.T("tier."+c.Severity)),
	}}
	switch c.Status {
	case store.CaseOpen:
		card.Body = append(card.Body, ui.T("case.unacknowledged"))
		card.Buttons = append(card.Buttons, ui.Button{Label: ui.T("case.ack"), Action: ActCaseAck, Payload: ref(c.ID), Style: ui.StylePrimary})
	default:
		by := ui.T("case.someone")
		if c.AcknowledgedBy.Valid {
			m, err := tx.Member(ctx, c.AcknowledgedBy.Int64)
			if err != nil {
				return ui.Card{}, err
			}
			by = ui.T("value.text", "Text", ui.UserText(m.DisplayName))
		}
		card.Body = append(card.Body, ui.T("case.status."+c.Status, "By", by))
	}
	if c.Status != store.CaseResolved && c.MemberID.Valid {
		refer, err := referButtons(ctx, tx, c)
		if err != nil {
			return ui.Card{}, err
		}
		card.Choice = refer.Choice
		card.Buttons = append(card.Buttons, refer.Buttons...)
	}
	return card, nil
}

// seenKey keeps a case's place to the known catalogue ids.
func seenKey(seenIn string) string {
	switch seenIn {
	case "ask", "offer", "dialogue", "board", "talk":
		return seenIn
	}
	return "other"
}

// caseSubject names the person a case is about, for moderators: their name, or for
// someone who has not joined, their platform and account id.
func caseSubject(ctx context.Context, tx *store.Tx, c store.Escalation) (ui.Text, error) {
	if c.MemberID.Valid {
		m, err := tx.Member(ctx, c.MemberID.Int64)
		if err != nil {
			return ui.Text{}, err
		}
		return ui.T("value.text", "Text", nameOf(m)), nil
	}
	return ui.T("case.not_member", "Platform", ui.UserText(c.Platform), "ID", ui.UserText(c.PlatformUserID)), nil
}
