package flows

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
)

// Checks of a community's settings, shared by setup and /tend settings in chat and by
// `tend community` on the command line, so that both accept and refuse exactly the
// same values with the same messages. A refusal names its field and changes nothing.

// Fields of the settings forms; the command line's flags map onto them.
const (
	FieldName      = "name"
	FieldLocale    = "locale"
	FieldTimezone  = "timezone"
	FieldRegion    = "region"
	FieldRetention = "retention_days"
	FieldOfficer   = "privacy_officer"
	FieldKey       = "key"
	FieldLabelEN   = "label_en"
	FieldLabelFR   = "label_fr"
	FieldRisk      = "risk"
	FieldTier      = "tier"
	FieldHelpers   = "helpers"
	FieldLabel     = "label"
	FieldContact   = "contact"
	FieldUser      = "user"
	FieldCode      = "code"
)

// Limits on settings.
const (
	MaxCommunityName = 80
	MaxOfficer       = 200
	MaxCategoryLabel = 40
	MaxResourceLabel = 120
	MaxResourceLine  = 80
	MaxRetentionDays = 3650
	// DefaultRetention is the retention a new community gets when none is given.
	DefaultRetention = 30
)

// Regions tend knows crisis lines for, and the choice meaning none of them.
var (
	Regions    = []string{"CA", "CA-QC", "US"}
	RegionNone = "none"
	// Tiers a helper may need, lowest first.
	Tiers = []string{"member", "volunteer", "vetted"}
)

var (
	categoryKeyRE = regexp.MustCompile(`^[a-z_]{1,30}$`)
	regionCodeRE  = regexp.MustCompile(`^[A-Z]+(-[A-Z0-9]+)*$`)
	platformRE    = regexp.MustCompile(`^[a-z0-9_.-]{1,30}$`)
	accountRE     = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,80}$`)
)

// builtInCategories have names in the catalogue; any other category needs a label.
var builtInCategories = []string{"ride", "meal", "groceries", "visit", "call", "errand", "grief_circle"}

// DefaultCategories are a new community's kinds of help, which its organisers can change:
// rides and home visits (two helpers) need vetted volunteers.
func DefaultCategories() []store.Category {
	return []store.Category{
		{Key: "ride", Risk: store.RiskRide, Tier: "vetted", Helpers: 1},
		{Key: "meal", Risk: store.RiskDoorstep, Tier: "volunteer", Helpers: 1},
		{Key: "groceries", Risk: store.RiskDoorstep, Tier: "volunteer", Helpers: 1},
		{Key: "visit", Risk: store.RiskHome, Tier: "vetted", Helpers: 2},
		{Key: "call", Risk: store.RiskCall, Tier: "volunteer", Helpers: 1},
		{Key: "errand", Risk: store.RiskDoorstep, Tier: "volunteer", Helpers: 1},
		{Key: "grief_circle", Risk: store.RiskRide, Tier: "volunteer", Helpers: 1},
	}
}

// CategoryText is a category's name for the reader: the community's own label in the
// reader's language when it gave one, else the catalogue's name for the key.
func CategoryText(key, labelEN, labelFR string) ui.Text {
	if labelEN == "" && labelFR == "" {
		return CategoryLabel(key)
	}
	by := map[string]string{}
	if labelEN != "" {
		by["en"] = labelEN
	}
	if labelFR != "" {
		by["fr"] = labelFR
	}
	return ui.Text{ByLang: by, Fallback: key}
}

// categoryName is CategoryText for a stored category.
func categoryName(c store.Category) ui.Text { return CategoryText(c.Key, c.LabelEN, c.LabelFR) }

// checker collects field errors for settings.
type checker struct{ errs []ui.FieldError }

func (c *checker) fail(field, id string, kv ...any) {
	for _, e := range c.errs {
		if e.Field == field {
			return
		}
	}
	c.errs = append(c.errs, ui.FieldError{Field: field, Msg: ui.T(id, kv...)})
}

// line is a trimmed one-line value of at most max characters; required says it may not
// be empty. what is the field's name in the messages.
func (c *checker) line(in map[string]string, field, what string, required bool, max int) string {
	s := strings.TrimSpace(in[field])
	switch {
	case s == "" && required:
		c.fail(field, "settings.error.required", "Field", ui.T(what))
	case utf8.RuneCountInString(s) > max:
		c.fail(field, "settings.error.too_long", "Field", ui.T(what), "Count", max)
	case strings.ContainsAny(s, "\n\r"):
		c.fail(field, "settings.error.one_line", "Field", ui.T(what))
	}
	return s
}

// CheckGeneral reads a community's general settings (name, locale, time zone, region,
// retention, privacy officer). Empty locale is English, empty retention the default,
// empty region none.
func CheckGeneral(in map[string]string) (store.Community, []ui.FieldError) {
	var c checker
	out := store.Community{}
	out.Name = c.line(in, FieldName, "settings.field.name", true, MaxCommunityName)
	switch l := strings.TrimSpace(in[FieldLocale]); {
	case l == "":
		out.Locale = "en"
	case languageOf(l) != "":
		out.Locale = languageOf(l)
	default:
		c.fail(FieldLocale, "settings.error.locale", "Value", ui.UserText(l), "Languages", strings.Join(catalog.Languages, ", "))
	}
	tzIn := strings.TrimSpace(in[FieldTimezone])
	switch tz := NormalizeTimezone(tzIn); {
	case tzIn == "":
		c.fail(FieldTimezone, "settings.error.required", "Field", ui.T("settings.field.timezone"))
	case tz == "":
		c.fail(FieldTimezone, "settings.error.timezone", "Value", ui.UserText(tzIn))
	default:
		out.Timezone = tz
	}
	region, ok := NormalizeRegion(in[FieldRegion])
	if !ok {
		c.fail(FieldRegion, "settings.error.region", "Value", ui.UserText(strings.TrimSpace(in[FieldRegion])))
	}
	out.Region = region
	out.RetentionDays = DefaultRetention
	if r := strings.TrimSpace(in[FieldRetention]); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > MaxRetentionDays {
			c.fail(FieldRetention, "settings.error.retention", "Value", ui.UserText(r), "Max", MaxRetentionDays)
		}
		out.RetentionDays = n
	}
	out.PrivacyOfficer = c.line(in, FieldOfficer, "settings.field.privacy_officer", false, MaxOfficer)
	return out, c.errs
}

// languageOf reads a language as typed: a code (fr, fr-CA) or its name in English or
// French.
func languageOf(s string) string {
	switch fold(s) {
	case "english", "anglais":
		return "en"
	case "french", "francais":
		return "fr"
	}
	return catalog.Supported(s)
}

// NormalizeRegion reads a region: one tend knows crisis lines for (CA, CA-QC, US), none
// ("", none, aucune), or another code written as CA-QC is, whose crisis resources the
// community then adds itself. ok is false for anything else.
func NormalizeRegion(s string) (string, bool) {
	r := strings.ToUpper(strings.TrimSpace(s))
	switch fold(r) {
	case "", RegionNone, "aucune", "aucun", "other", "autre":
		return "", true
	}
	return r, regionCodeRE.MatchString(r)
}

// cityZones are the time zones of cities people are likely to type, folded.
var cityZones = map[string]string{
	"montreal": "America/Toronto", "quebec": "America/Toronto", "ottawa": "America/Toronto", "toronto": "America/Toronto",
	"gatineau": "America/Toronto", "sherbrooke": "America/Toronto", "trois-rivieres": "America/Toronto",
	"vancouver": "America/Vancouver", "victoria": "America/Vancouver", "calgary": "America/Edmonton", "edmonton": "America/Edmonton",
	"winnipeg": "America/Winnipeg", "regina": "America/Regina", "saskatoon": "America/Regina", "halifax": "America/Halifax",
	"moncton": "America/Moncton", "st johns": "America/St_Johns", "st. john's": "America/St_Johns", "st john's": "America/St_Johns",
	"new york": "America/New_York", "boston": "America/New_York", "washington": "America/New_York", "chicago": "America/Chicago",
	"denver": "America/Denver", "phoenix": "America/Phoenix", "los angeles": "America/Los_Angeles", "san francisco": "America/Los_Angeles",
	"seattle": "America/Los_Angeles", "paris": "Europe/Paris", "bruxelles": "Europe/Brussels", "brussels": "Europe/Brussels",
	"geneve": "Europe/Zurich", "geneva": "Europe/Zurich", "london": "Europe/London", "londres": "Europe/London", "utc": "UTC",
}

// NormalizeTimezone returns the IANA name of a time zone as typed: an IANA name in any
// case ("america/toronto"), or a common city ("Montréal", "New York"). "" when it is none
// of these. "Local" is refused: the server's zone means nothing to a community.
func NormalizeTimezone(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "local") || len(s) > 64 {
		return ""
	}
	if zoneExists(s) {
		return s
	}
	if z, ok := cityZones[fold(s)]; ok {
		return z
	}
	// The same name with its parts capitalised: america/new_york is America/New_York.
	parts := strings.Split(strings.ReplaceAll(strings.TrimSpace(s), " ", "_"), "/")
	for i, p := range parts {
		words := strings.Split(strings.ToLower(p), "_")
		for j, w := range words {
			if w != "" {
				words[j] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		parts[i] = strings.Join(words, "_")
	}
	name := strings.Join(parts, "/")
	if zoneExists(name) {
		return name
	}
	if len(parts) == 1 {
		for _, area := range []string{"America/", "Europe/"} {
			if zoneExists(area + name) {
				return area + name
			}
		}
	}
	return ""
}

func zoneExists(name string) bool {
	if name == "Local" || strings.ContainsAny(name, "\\") || strings.Contains(name, "..") {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// Slugify makes a community's slug from its name: lower case letters, digits and dashes,
// at most 40 characters; "community" when nothing is left.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range fold(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	if s == "" {
		return "community"
	}
	return s
}

// CategoryKey reads a category key as typed: "Pet care" and "pet-care" are pet_care.
func CategoryKey(s string) string {
	k := fold(s)
	k = strings.NewReplacer(" ", "_", "-", "_").Replace(k)
	return k
}

// CheckCategory reads a category's settings. With isNew the key is read too, and a key
// without a catalogue name needs a label in at least one language (the other language
// then shows the same label).
func CheckCategory(in map[string]string, isNew bool) (store.Category, []ui.FieldError) {
	var c checker
	var out store.Category
	if isNew {
		raw := strings.TrimSpace(in[FieldKey])
		out.Key = CategoryKey(raw)
		switch {
		case raw == "":
			c.fail(FieldKey, "settings.error.required", "Field", ui.T("settings.field.key"))
		case !categoryKeyRE.MatchString(out.Key):
			c.fail(FieldKey, "settings.error.key", "Value", ui.UserText(raw))
		}
	}
	out.LabelEN = c.line(in, FieldLabelEN, "settings.field.label_en", false, MaxCategoryLabel)
	out.LabelFR = c.line(in, FieldLabelFR, "settings.field.label_fr", false, MaxCategoryLabel)
	if isNew && out.LabelEN == "" && out.LabelFR == "" && out.Key != "" && !hasString(builtInCategories, out.Key) {
		c.fail(FieldLabelEN, "settings.error.label_needed")
	}
	risk := strings.TrimSpace(in[FieldRisk])
	out.Risk = store.NormalizeRisk(risk)
	if out.Risk == "" {
		if risk == "" {
			c.fail(FieldRisk, "settings.error.required", "Field", ui.T("settings.field.risk"))
		} else {
			c.fail(FieldRisk, "settings.error.risk", "Value", ui.UserText(risk), "Levels", strings.Join(store.RiskLevels, ", "))
		}
	}
	out.Tier = strings.ToLower(strings.TrimSpace(in[FieldTier]))
	if !hasString(Tiers, out.Tier) {
		if out.Tier == "" {
			c.fail(FieldTier, "settings.error.required", "Field", ui.T("settings.field.tier"))
		} else {
			c.fail(FieldTier, "settings.error.tier", "Value", ui.UserText(out.Tier), "Tiers", strings.Join(Tiers, ", "))
		}
	}
	out.Helpers = 1
	if h := strings.TrimSpace(in[FieldHelpers]); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 1 || n > 2 {
			c.fail(FieldHelpers, "settings.error.helpers", "Value", ui.UserText(h))
		}
		out.Helpers = n
	}
	return out, c.errs
}

// CheckResource reads a crisis resource: what it is and how to reach it.
func CheckResource(in map[string]string) (store.CrisisResource, []ui.FieldError) {
	var c checker
	r := store.CrisisResource{
		Label:   c.line(in, FieldLabel, "settings.field.resource_label", true, MaxResourceLabel),
		Contact: c.line(in, FieldContact, "settings.field.resource_contact", true, MaxResourceLine),
	}
	return r, c.errs
}

// CheckAccount reads a platform account named as a moderator: a mention as platforms
// write it (<@U1>) or an id, on platform.
func CheckAccount(platform, typed string) (string, []ui.FieldError) {
	var c checker
	id, _ := userRef(typed)
	switch {
	case strings.TrimSpace(typed) == "":
		c.fail(FieldUser, "settings.error.required", "Field", ui.T("settings.field.user"))
	case !platformRE.MatchString(platform):
		c.fail(FieldUser, "settings.error.platform", "Value", ui.UserText(platform))
	case !accountRE.MatchString(id):
		c.fail(FieldUser, "settings.error.account", "Value", ui.UserText(strings.TrimSpace(typed)))
	}
	return id, c.errs
}

func hasString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
