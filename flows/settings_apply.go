package flows

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// The changes to a community's settings, each validated, written and audited in the
// caller's transaction. Chat (setup, /tend settings) and the command line (tend
// community) call these same functions, so both make the very same rows. Permission is
// the caller's to check: a moderator in chat, the operator on the command line. A
// refusal comes back as field errors or a message, before anything is written.

// PlatformCLI is the platform of changes made on the command line; its actor is "cli".
const PlatformCLI = "cli"

// FieldSlug and the binding fields are the command line's only.
const (
	FieldSlug      = "slug"
	FieldPlatform  = "platform"
	FieldWorkspace = "workspace"
	FieldBoard     = "board"
)

var slugRE = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// CLIActor is the command line acting on a community's settings.
func CLIActor(community int64) Actor {
	return Actor{CommunityID: community, Platform: PlatformCLI, UserID: PlatformCLI, Moderator: true, Surface: PlatformCLI}
}

// settingsAudit writes a settings change to the audit log. Someone without a member id
// (the command line, or an administrator who has not joined) is named by account.
func settingsAudit(ctx context.Context, tx *store.Tx, by Actor, action, subject, detail string) error {
	if by.MemberID == 0 {
		who := "by=cli"
		if by.Platform != PlatformCLI {
			who = "by=" + by.Platform + ":" + by.UserID
		}
		detail = strings.TrimSpace(detail + " " + who)
	}
	return tx.Audit(ctx, by.CommunityID, by.MemberID, action, subject, detail)
}

// NewCommunity creates a community from its general settings with the default
// categories. slug "" derives one from the name; a slug given must be free.
func NewCommunity(ctx context.Context, tx *store.Tx, by Actor, slug string, in map[string]string) (store.Community, []ui.FieldError, error) {
	c, errs := CheckGeneral(in)
	slug = strings.TrimSpace(slug)
	if slug != "" {
		if !slugRE.MatchString(slug) {
			errs = append(errs, ui.FieldError{Field: FieldSlug, Msg: ui.T("settings.error.slug", "Value", ui.UserText(slug))})
		} else if _, err := tx.CommunityID(ctx, slug); err == nil {
			errs = append(errs, ui.FieldError{Field: FieldSlug, Msg: ui.T("settings.error.slug_taken", "Value", ui.UserText(slug))})
		} else if !isNotFound(err) {
			return c, nil, err
		}
	}
	if len(errs) > 0 {
		return c, errs, nil
	}
	if slug == "" {
		var err error
		if slug, err = tx.UniqueSlug(ctx, Slugify(c.Name)); err != nil {
			return c, nil, err
		}
	}
	c.Slug = slug
	id, err := tx.CreateCommunity(ctx, c, DefaultCategories())
	if err != nil {
		return c, nil, err
	}
	c.ID = id
	by.CommunityID = id
	return c, nil, settingsAudit(ctx, tx, by, "settings.community.create", fmt.Sprintf("community:%d", id),
		fmt.Sprintf("slug=%s locale=%s region=%s retention_days=%d", c.Slug, c.Locale, c.Region, c.RetentionDays))
}

// BindSpace binds a space to by's community. The board channel is needed; the
// moderators' and alert channels may come later (/tend setup moderators).
func BindSpace(ctx context.Context, tx *store.Tx, by Actor, b store.Binding) ([]ui.FieldError, error) {
	var c checker
	b.Platform, b.Workspace = strings.TrimSpace(b.Platform), strings.TrimSpace(b.Workspace)
	if !platformRE.MatchString(b.Platform) {
		c.fail(FieldPlatform, "settings.error.platform", "Value", ui.UserText(b.Platform))
	}
	for _, f := range []struct{ field, v, what string }{
		{FieldWorkspace, b.Workspace, "settings.field.workspace"}, {FieldBoard, b.BoardChannel, "settings.field.board"},
	} {
		if strings.TrimSpace(f.v) == "" {
			c.fail(f.field, "settings.error.required", "Field", ui.T(f.what))
		}
	}
	if len(c.errs) == 0 {
		if _, err := tx.BindingFor(ctx, b.Platform, b.Workspace); err == nil {
			c.fail(FieldWorkspace, "settings.error.bound")
		} else if !isNotFound(err) {
			return nil, err
		}
	}
	if len(c.errs) > 0 {
		return c.errs, nil
	}
	b.CommunityID = by.CommunityID
	if err := tx.Bind(ctx, b); err != nil {
		return nil, err
	}
	return nil, settingsAudit(ctx, tx, by, "settings.space.bind", "space:"+b.Platform+"/"+b.Workspace, "")
}

// EditGeneral changes by's community's general settings and returns which changed
// (none: nothing is written).
func EditGeneral(ctx context.Context, tx *store.Tx, by Actor, in map[string]string) ([]string, []ui.FieldError, error) {
	cur, err := tx.Community(ctx, by.CommunityID)
	if err != nil {
		return nil, nil, err
	}
	next, errs := CheckGeneral(in)
	if len(errs) > 0 {
		return nil, errs, nil
	}
	var changed []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{FieldName, cur.Name == next.Name}, {FieldLocale, cur.Locale == next.Locale}, {FieldTimezone, cur.Timezone == next.Timezone},
		{FieldRegion, cur.Region == next.Region}, {FieldRetention, cur.RetentionDays == next.RetentionDays},
		{FieldOfficer, cur.PrivacyOfficer == next.PrivacyOfficer},
	} {
		if !f.same {
			changed = append(changed, f.name)
		}
	}
	if len(changed) == 0 {
		return nil, nil, nil
	}
	next.ID, next.Slug = cur.ID, cur.Slug
	if err := tx.UpdateCommunity(ctx, next); err != nil {
		return nil, nil, err
	}
	return changed, nil, settingsAudit(ctx, tx, by, "settings.general", fmt.Sprintf("community:%d", cur.ID), "fields="+strings.Join(changed, ","))
}

// GeneralValues are a community's general settings as the form and the flags write them.
func GeneralValues(c store.Community) map[string]string {
	region := c.Region
	if region == "" {
		region = RegionNone
	}
	return map[string]string{FieldName: c.Name, FieldLocale: c.Locale, FieldTimezone: c.Timezone, FieldRegion: region,
		FieldRetention: fmt.Sprint(c.RetentionDays), FieldOfficer: c.PrivacyOfficer}
}

// AddCategory adds a category to by's community.
func AddCategory(ctx context.Context, tx *store.Tx, by Actor, in map[string]string) (store.Category, []ui.FieldError, error) {
	cat, errs := CheckCategory(in, true)
	if len(errs) == 0 {
		if _, err := tx.Category(ctx, by.CommunityID, cat.Key); err == nil {
			errs = append(errs, ui.FieldError{Field: FieldKey, Msg: ui.T("settings.error.key_taken", "Value", ui.UserText(cat.Key))})
		} else if !isNotFound(err) {
			return cat, nil, err
		}
	}
	if len(errs) > 0 {
		return cat, errs, nil
	}
	cat.CommunityID = by.CommunityID
	if err := tx.AddCategory(ctx, cat); err != nil {
		return cat, nil, err
	}
	return cat, nil, settingsAudit(ctx, tx, by, "settings.category.add", "category:"+cat.Key, categoryDetail(cat))
}

func categoryDetail(c store.Category) string {
	return fmt.Sprintf("risk=%s tier=%s helpers=%d", c.Risk, c.Tier, max(c.Helpers, 1))
}

// CategoryValues are a category's settings as the form and the flags write them.
func CategoryValues(c store.Category) map[string]string {
	return map[string]string{FieldKey: c.Key, FieldLabelEN: c.LabelEN, FieldLabelFR: c.LabelFR, FieldRisk: c.Risk,
		FieldTier: c.Tier, FieldHelpers: fmt.Sprint(max(c.Helpers, 1))}
}

// EditCategory changes a category's risk, tier, helpers and labels.
func EditCategory(ctx context.Context, tx *store.Tx, by Actor, key string, in map[string]string) ([]ui.FieldError, error) {
	if _, err := tx.Category(ctx, by.CommunityID, key); isNotFound(err) {
		return []ui.FieldError{{Field: FieldKey, Msg: ui.T("settings.error.no_category", "Value", ui.UserText(key))}}, nil
	} else if err != nil {
		return nil, err
	}
	cat, errs := CheckCategory(in, false)
	if len(errs) > 0 {
		return errs, nil
	}
	cat.CommunityID, cat.Key = by.CommunityID, key
	if err := tx.UpdateCategory(ctx, cat); err != nil {
		return nil, err
	}
	return nil, settingsAudit(ctx, tx, by, "settings.category.edit", "category:"+key, categoryDetail(cat))
}

// RemoveCategory removes a category that nothing live uses. refusal says why not.
func RemoveCategory(ctx context.Context, tx *store.Tx, by Actor, key string) (ui.Text, error) {
	if _, err := tx.Category(ctx, by.CommunityID, key); isNotFound(err) {
		return ui.T("settings.error.no_category", "Value", ui.UserText(key)), nil
	} else if err != nil {
		return ui.Text{}, err
	}
	live, err := tx.LiveInCategory(ctx, by.CommunityID, key)
	if err != nil {
		return ui.Text{}, err
	}
	if live > 0 {
		return ui.T("settings.category.in_use", "Count", live), nil
	}
	cats, err := tx.Categories(ctx, by.CommunityID)
	if err != nil {
		return ui.Text{}, err
	}
	if len(cats) <= 1 {
		return ui.T("settings.category.last"), nil
	}
	if _, err := tx.RemoveCategory(ctx, by.CommunityID, key); err != nil {
		return ui.Text{}, err
	}
	return ui.Text{}, settingsAudit(ctx, tx, by, "settings.category.remove", "category:"+key, "")
}

// AddResource adds a crisis resource to by's community.
func AddResource(ctx context.Context, tx *store.Tx, by Actor, in map[string]string) ([]ui.FieldError, error) {
	r, errs := CheckResource(in)
	if len(errs) > 0 {
		return errs, nil
	}
	r.CommunityID = by.CommunityID
	id, err := tx.AddCrisisResource(ctx, r)
	if err != nil {
		return nil, err
	}
	return nil, settingsAudit(ctx, tx, by, "settings.resource.add", fmt.Sprintf("resource:%d", id), "")
}

// RemoveResource removes one of by's community's crisis resources.
func RemoveResource(ctx context.Context, tx *store.Tx, by Actor, id int64) (ui.Text, error) {
	ok, err := tx.RemoveCrisisResource(ctx, by.CommunityID, id)
	if err != nil {
		return ui.Text{}, err
	}
	if !ok {
		return ui.T("settings.resource.unknown"), nil
	}
	return ui.Text{}, settingsAudit(ctx, tx, by, "settings.resource.remove", fmt.Sprintf("resource:%d", id), "")
}

// AddModerator names a moderator of by's community by platform account; added is false
// when they already were one (nothing is written).
func AddModerator(ctx context.Context, tx *store.Tx, by Actor, platform, typed string) (added bool, errs []ui.FieldError, err error) {
	user, errs := CheckAccount(strings.TrimSpace(platform), typed)
	if len(errs) > 0 {
		return false, errs, nil
	}
	added, err = tx.AddModerator(ctx, store.Moderator{CommunityID: by.CommunityID, Platform: strings.TrimSpace(platform), UserID: user})
	if err != nil || !added {
		return false, nil, err
	}
	return true, nil, settingsAudit(ctx, tx, by, "settings.moderator.add", "moderator:"+strings.TrimSpace(platform)+":"+user, "")
}

// RemoveModerator removes a named moderator; the last one stays, so that someone can
// always change the settings from chat.
func RemoveModerator(ctx context.Context, tx *store.Tx, by Actor, platform, user string) (ui.Text, error) {
	mods, err := tx.Moderators(ctx, by.CommunityID)
	if err != nil {
		return ui.Text{}, err
	}
	found := false
	for _, m := range mods {
		found = found || (m.Platform == platform && m.UserID == user)
	}
	switch {
	case !found:
		return ui.T("settings.moderator.unknown", "Name", ui.UserText(user)), nil
	case len(mods) == 1:
		return ui.T("settings.moderator.last"), nil
	}
	if _, err := tx.RemoveModerator(ctx, by.CommunityID, platform, user); err != nil {
		return ui.Text{}, err
	}
	return ui.Text{}, settingsAudit(ctx, tx, by, "settings.moderator.remove", "moderator:"+platform+":"+user, "")
}

// SetChannel makes channel one of the channels (store.ChannelBoard, ChannelModerators
// or ChannelAlerts) of the space by acts in; "" clears the alert channel. The board and
// the moderators' channel must differ: one is public, the other private.
func SetChannel(ctx context.Context, tx *store.Tx, by Actor, platform, workspace, which, channel string) (ui.Text, error) {
	b, err := tx.BindingFor(ctx, platform, workspace)
	if isNotFound(err) || (err == nil && b.CommunityID != by.CommunityID) {
		return ui.T("settings.channel.unbound"), nil
	}
	if err != nil {
		return ui.Text{}, err
	}
	switch {
	case channel == "" && which != store.ChannelAlerts:
		return ui.T("settings.channel.needed"), nil
	case which == store.ChannelModerators && channel == b.BoardChannel, which == store.ChannelBoard && channel == b.ModeratorsChannel:
		return ui.T("settings.channel.same"), nil
	}
	if _, err := tx.SetChannel(ctx, platform, workspace, which, channel); err != nil {
		return ui.Text{}, err
	}
	return ui.Text{}, settingsAudit(ctx, tx, by, fmt.Sprintf("settings.channel.%s", which), "space:"+platform+"/"+workspace, "")
}

// NewJoinCode makes a one-time code for another space to join by's community.
func NewJoinCode(ctx context.Context, tx *store.Tx, by Actor) (string, int64, error) {
	code, expires, err := tx.NewJoinCode(ctx, by.CommunityID, by.MemberID)
	if err != nil {
		return "", 0, err
	}
	// The audit names the code by its public first group only.
	return code, expires, settingsAudit(ctx, tx, by, "settings.code.create", "code:"+code[:4], "")
}

// SetReceivesShared says whether a space of by's community shows the requests its
// requesters chose to share from the community's other spaces. A space always shows its
// own requests.
func SetReceivesShared(ctx context.Context, tx *store.Tx, by Actor, platform, workspace string, receives bool) (ui.Text, error) {
	b, err := tx.BindingFor(ctx, platform, workspace)
	if isNotFound(err) || (err == nil && b.CommunityID != by.CommunityID) {
		return ui.T("settings.channel.unbound"), nil
	}
	if err != nil {
		return ui.Text{}, err
	}
	if b.RefusesShared == !receives {
		return ui.Text{}, nil
	}
	if _, err := tx.SetReceivesShared(ctx, platform, workspace, receives); err != nil {
		return ui.Text{}, err
	}
	return ui.Text{}, settingsAudit(ctx, tx, by, "settings.space.receive_shared", "space:"+platform+"/"+workspace, fmt.Sprintf("receive_shared=%t", receives))
}
