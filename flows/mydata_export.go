package flows

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/tend-community/tend/store"
)

// The export of "My data": everything the store holds about one member, for them alone
// (or for a moderator acting on their written request, on the command line). It is built
// when asked and never stored: the private parts are opened here, for this answer only.

// Export is what tend holds about a member. Times are RFC 3339 in the community's zone.
type Export struct {
	Generated   string             `json:"generated_at"`
	Community   string             `json:"community"`
	Profile     ExportProfile      `json:"profile"`
	Identities  []ExportIdentity   `json:"identities"`
	Consents    []ExportConsent    `json:"consents"`
	Volunteer   *ExportVolunteer   `json:"volunteer_profile,omitempty"`
	Requests    []ExportRequest    `json:"requests"`
	Offers      []ExportOffer      `json:"offers"`
	Claims      []ExportClaim      `json:"claims"`
	Disclosures []ExportDisclosure `json:"disclosures_about_me"`
	Retention   int                `json:"retention_days"`
}

// ExportProfile is the member row.
type ExportProfile struct {
	MemberID      int64  `json:"member_id"`
	DisplayName   string `json:"display_name"`
	Locale        string `json:"locale"`
	NoticeVersion string `json:"notice_version"`
	AcceptedAt    string `json:"accepted_at"`
}

// ExportIdentity is one platform account of the member.
type ExportIdentity struct {
	Platform  string `json:"platform"`
	UserID    string `json:"user_id"`
	CreatedAt string `json:"linked_at"`
	LeftAt    string `json:"left_at,omitempty"`
}

// ExportConsent is one consent with how it was given.
type ExportConsent struct {
	ID            int64  `json:"id"`
	Purpose       string `json:"purpose"`
	Request       int64  `json:"request,omitempty"`
	Offer         int64  `json:"offer,omitempty"`
	Member        int64  `json:"for_member,omitempty"`
	NoticeVersion string `json:"notice_version,omitempty"`
	Surface       string `json:"surface"`
	Action        string `json:"action,omitempty"`
	GrantedAt     string `json:"granted_at"`
	WithdrawnAt   string `json:"withdrawn_at,omitempty"`
}

// ExportVolunteer is the volunteer profile.
type ExportVolunteer struct {
	Categories   string `json:"categories"`
	Areas        string `json:"areas"`
	Availability string `json:"availability"`
	Paused       bool   `json:"paused"`
}

// ExportRequest is one request with its private part opened, and when that part goes.
type ExportRequest struct {
	ID       int64         `json:"id"`
	Category string        `json:"category"`
	Summary  string        `json:"summary"`
	Area     string        `json:"area"`
	Starts   string        `json:"starts_at"`
	Ends     string        `json:"ends_at"`
	Status   string        `json:"status"`
	ShowName bool          `json:"show_name"`
	Private  store.Private `json:"private"`
	// PurgeAt is when the private part will be purged: the close plus the retention
	// period; empty while the request is live or once nothing private is left.
	PurgeAt   string `json:"private_purged_at,omitempty"`
	CreatedAt string `json:"created_at"`
}

// ExportOffer is one offer.
type ExportOffer struct {
	ID        int64  `json:"id"`
	Category  string `json:"category"`
	Summary   string `json:"summary"`
	Area      string `json:"area"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
}

// ExportClaim is one of the member's claims (a place they took), with what they shared.
type ExportClaim struct {
	ID        int64          `json:"id"`
	Request   int64          `json:"request,omitempty"`
	Offer     int64          `json:"offer,omitempty"`
	State     string         `json:"state"`
	Private   *store.Private `json:"private,omitempty"`
	CreatedAt string         `json:"created_at"`
}

// ExportDisclosure is one reveal of the member's private data.
type ExportDisclosure struct {
	Viewer  string `json:"viewer"`
	Fields  string `json:"fields"`
	Basis   string `json:"basis"`
	Request int64  `json:"request,omitempty"`
	Claim   int64  `json:"claim,omitempty"`
	At      string `json:"at"`
}

// ExportMember gathers everything held about member. It opens private parts: the
// caller shows it to the member alone and never stores it.
func ExportMember(ctx context.Context, tx *store.Tx, member int64) (Export, error) {
	var x Export
	m, err := tx.Member(ctx, member)
	if err != nil {
		return x, err
	}
	com, loc, err := community(ctx, tx, m.CommunityID)
	if err != nil {
		return x, err
	}
	at := func(ts int64) string {
		if ts == 0 {
			return ""
		}
		return time.Unix(ts, 0).In(loc).Format(time.RFC3339)
	}
	x.Generated, x.Community, x.Retention = at(tx.Now()), com.Slug, com.RetentionDays
	x.Profile = ExportProfile{MemberID: m.ID, DisplayName: m.DisplayName, Locale: m.Locale, NoticeVersion: m.NoticeVersion, AcceptedAt: at(m.AcceptedAt)}
	ids, err := tx.IdentitiesOf(ctx, member)
	if err != nil {
		return x, err
	}
	x.Identities = []ExportIdentity{}
	for _, i := range ids {
		x.Identities = append(x.Identities, ExportIdentity{Platform: i.Platform, UserID: i.PlatformUserID, CreatedAt: at(i.CreatedAt), LeftAt: at(i.LeftAt.Int64)})
	}
	cs, err := tx.Consents(ctx, member)
	if err != nil {
		return x, err
	}
	x.Consents = []ExportConsent{}
	for _, c := range cs {
		var ev store.Evidence
		_ = json.Unmarshal([]byte(c.Evidence), &ev)
		x.Consents = append(x.Consents, ExportConsent{ID: c.ID, Purpose: c.Purpose, Request: c.ScopeRequestID.Int64, Offer: c.ScopeOfferID.Int64,
			Member: c.ScopeMemberID.Int64, NoticeVersion: ev.NoticeVersion, Surface: ev.Surface, Action: exportAction(ev.Action),
			GrantedAt: at(c.GrantedAt), WithdrawnAt: at(c.WithdrawnAt.Int64)})
	}
	if p, err := tx.VolunteerProfile(ctx, member); err == nil {
		x.Volunteer = &ExportVolunteer{Categories: p.Categories, Areas: p.Areas, Availability: p.Availability, Paused: p.Paused}
	} else if !isNotFound(err) {
		return x, err
	}
	reqs, err := tx.AllRequestsBy(ctx, member)
	if err != nil {
		return x, err
	}
	x.Requests = []ExportRequest{}
	for _, r := range reqs {
		priv, err := tx.RequestPrivate(r)
		if err != nil {
			return x, err
		}
		e := ExportRequest{ID: r.ID, Category: r.Category, Summary: r.Summary, Area: r.Area, Starts: at(r.StartsAt), Ends: at(r.EndsAt),
			Status: r.Status, ShowName: r.ShowName, Private: priv, CreatedAt: at(r.CreatedAt)}
		if r.Status != "open" && r.Status != "matched" && len(r.PrivateCT) > 0 {
			e.PurgeAt = at(r.UpdatedAt + int64(com.RetentionDays)*86400)
		}
		x.Requests = append(x.Requests, e)
	}
	offers, err := tx.AllOffersBy(ctx, member)
	if err != nil {
		return x, err
	}
	x.Offers = []ExportOffer{}
	for _, o := range offers {
		x.Offers = append(x.Offers, ExportOffer{ID: o.ID, Category: o.Category, Summary: o.Summary, Area: o.Area, Status: o.Status, CreatedAt: at(o.CreatedAt)})
	}
	claims, err := tx.AllClaimsBy(ctx, member)
	if err != nil {
		return x, err
	}
	x.Claims = []ExportClaim{}
	for _, c := range claims {
		sl, err := tx.Slot(ctx, c.SlotID)
		if err != nil {
			return x, err
		}
		e := ExportClaim{ID: c.ID, Request: sl.RequestID.Int64, Offer: sl.OfferID.Int64, State: c.State, CreatedAt: at(c.CreatedAt)}
		if len(c.PrivateCT) > 0 {
			p, err := tx.ClaimPrivate(c)
			if err != nil {
				return x, err
			}
			e.Private = &p
		}
		x.Claims = append(x.Claims, e)
	}
	ds, err := tx.Disclosures(ctx, member)
	if err != nil {
		return x, err
	}
	x.Disclosures = []ExportDisclosure{}
	for _, d := range ds {
		viewer := "#" + ref(d.ViewerMemberID)
		if v, err := tx.Member(ctx, d.ViewerMemberID); err == nil && v.DisplayName != "" {
			viewer = v.DisplayName
		} else if err != nil && !isNotFound(err) {
			return x, err
		}
		x.Disclosures = append(x.Disclosures, ExportDisclosure{Viewer: viewer, Fields: d.Fields, Basis: d.Basis,
			Request: d.RequestID.Int64, Claim: d.ClaimID.Int64, At: at(d.CreatedAt)})
	}
	return x, nil
}

// exportAction is a consent's recorded action without the member ids it may carry
// ("stated_by_contact:12" names who stated it, which is theirs, not the member's).
func exportAction(action string) string {
	a, _, _ := strings.Cut(action, ":")
	return a
}
