package config

import (
	"strings"

	"github.com/tend-community/tend/store"
)

// Community is one community's settings.
type Community struct {
	Slug           string `toml:"slug"`
	Name           string `toml:"name"`
	Locale         string `toml:"locale"`
	Timezone       string `toml:"timezone"`
	Region         string `toml:"region"`
	RetentionDays  int    `toml:"retention_days"`
	PrivacyOfficer string `toml:"privacy_officer"`

	Categories      []Category       `toml:"categories"`
	CrisisResources []CrisisResource `toml:"crisis_resources"`
	Spaces          []Space          `toml:"spaces"`
	// Moderators and Vetted name people directly; platform roles are mapped elsewhere.
	Moderators []UserRef `toml:"moderators"`
	Vetted     []UserRef `toml:"vetted"`
	// CrisisPhrases are the community's own additions to the crisis detector's lists,
	// by language ("en", "fr").
	CrisisPhrases CrisisPhrases `toml:"crisis_phrases"`

	// VisitRules are shown to helpers before a ride or a home visit, one line each;
	// empty means the catalogue's rules in the reader's language.
	VisitRules []string `toml:"visit_rules"`
	// VisitContact, optional, says who to call during a visit (a coordinator's number).
	VisitContact string `toml:"visit_contact"`
	// VisitGraceMinutes is how long after a visit's end the helper is asked whether all
	// is well, and again before the moderators are told (default 30).
	VisitGraceMinutes int `toml:"visit_grace_minutes"`
	// VettingValidDays is how long a vetting lasts when the moderator gives no end date;
	// 0 (the default) means until a moderator says otherwise.
	VettingValidDays int `toml:"vetting_valid_days"`
}

// CrisisPhrases are a community's own crisis phrases and hard negatives, by language.
type CrisisPhrases map[string]PhraseList

// PhraseList is one language's additions: phrases per tier, and hard negatives (what
// looks like a signal but, here, is not).
type PhraseList struct {
	Imminent  []string `toml:"imminent"`
	Ideation  []string `toml:"ideation"`
	Distress  []string `toml:"distress"`
	Negatives []string `toml:"negatives"`
}

// Category is a kind of help, its risk, and the tier a helper needs. Risk is call,
// doorstep, ride or home; the first names low, medium and high still work and mean
// doorstep, ride and home.
type Category struct {
	Key  string `toml:"key"`
	Risk string `toml:"risk"`
	Tier string `toml:"tier"`
	// Helpers is how many volunteers one request needs: 1 (the default) or 2.
	Helpers int `toml:"helpers"`
}

// CrisisResource is a line shown to a person in crisis.
type CrisisResource struct {
	Label   string `toml:"label"`
	Contact string `toml:"contact"`
}

// Space binds a platform workspace (Slack team, Discord guild, Mattermost team) to the
// community.
type Space struct {
	Platform          string `toml:"platform"`
	Workspace         string `toml:"workspace"`
	BoardChannel      string `toml:"board_channel"`
	ModeratorsChannel string `toml:"moderators_channel"`
	// AlertChannel, optional, is where urgent cases go when the moderators have not
	// acknowledged them (an on-call group).
	AlertChannel string `toml:"alert_channel"`
	// ReceiveShared says whether the space shows the requests that people asking in the
	// community's other spaces chose to share; true when unset. A space always shows its
	// own requests.
	ReceiveShared *bool `toml:"receive_shared"`
}

// UserRef names a person by platform user id, never by display name.
type UserRef struct {
	Platform string `toml:"platform"`
	UserID   string `toml:"user_id"`
}

// Platforms tend knows.
var Platforms = []string{"console", "slack", "discord", "mattermost", "loopback"}

// DefaultRetentionDays is how long private details of closed requests are kept.
const DefaultRetentionDays = 30

// DefaultCategories is the set a community gets when its config lists none.
func DefaultCategories() []Category {
	return []Category{
		{Key: "ride", Risk: "ride", Tier: "vetted"},
		{Key: "meal", Risk: "doorstep", Tier: "volunteer"},
		{Key: "groceries", Risk: "doorstep", Tier: "volunteer"},
		{Key: "visit", Risk: "home", Tier: "vetted"},
		{Key: "call", Risk: "call", Tier: "volunteer"},
		{Key: "errand", Risk: "doorstep", Tier: "volunteer"},
		{Key: "grief_circle", Risk: "ride", Tier: "volunteer"},
	}
}

// Demo is the console's demo community. Vetted is empty: the console seeds vetting
// records itself.
func Demo() Community {
	return Community{
		Slug:           "demo",
		Name:           "Rosemont Neighbours",
		Locale:         "en",
		Timezone:       "America/Toronto",
		Region:         "CA",
		RetentionDays:  30,
		PrivacyOfficer: "Maya Tremblay <privacy@example.org>",
		Categories:     DefaultCategories(),
		CrisisResources: []CrisisResource{
			{Label: "9-8-8 Suicide Crisis Helpline (call or text, 24/7)", Contact: "988"},
			{Label: "Emergency services", Contact: "911"},
		},
		Spaces:     []Space{{Platform: "console", Workspace: "demo", BoardChannel: "board", ModeratorsChannel: "moderators"}},
		Moderators: []UserRef{{Platform: "console", UserID: "maya"}},
	}
}

// Setup converts the community to what store.ApplyCommunity takes.
func (c Community) Setup() store.CommunitySetup {
	s := store.CommunitySetup{Community: store.Community{
		Slug: c.Slug, Name: c.Name, Locale: c.Locale, Timezone: c.Timezone, Region: c.Region,
		RetentionDays: c.RetentionDays, PrivacyOfficer: c.PrivacyOfficer,
	}}
	for i, cat := range c.Categories {
		risk := store.NormalizeRisk(cat.Risk)
		if risk == "" {
			risk = cat.Risk
		}
		s.Categories = append(s.Categories, store.Category{Key: cat.Key, Risk: risk, Tier: cat.Tier, Position: i, Helpers: max(cat.Helpers, 1)})
	}
	s.Visits = store.VisitSettings{Rules: strings.Join(c.VisitRules, "\n"), Contact: strings.TrimSpace(c.VisitContact),
		GraceMinutes: c.VisitGraceMinutes, VettingValidDays: c.VettingValidDays}
	for i, r := range c.CrisisResources {
		s.Resources = append(s.Resources, store.CrisisResource{Label: r.Label, Contact: r.Contact, Position: i})
	}
	for _, sp := range c.Spaces {
		s.Bindings = append(s.Bindings, store.Binding{Platform: sp.Platform, Workspace: sp.Workspace,
			BoardChannel: sp.BoardChannel, ModeratorsChannel: sp.ModeratorsChannel, AlertChannel: sp.AlertChannel,
			RefusesShared: sp.ReceiveShared != nil && !*sp.ReceiveShared})
	}
	return s
}
