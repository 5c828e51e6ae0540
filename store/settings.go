package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Settings changed from chat or the command line. Every change marks the community as
// edited (settings_edited_at), so the config file no longer overwrites it at start.
// Callers validate first (flows); these functions only write.

// ErrSpaceBound is returned when a space is already bound to a community.
var ErrSpaceBound = errors.New("store: the space is already bound")

// Moderator is a moderator named from chat or the command line, by platform account.
type Moderator struct {
	CommunityID int64  `db:"community_id"`
	Platform    string `db:"platform"`
	UserID      string `db:"platform_user_id"`
	CreatedAt   int64  `db:"created_at"`
}

// CreateCommunity creates a community with its categories and the default visit
// settings, marked as edited, and returns its id. The slug must be free (UniqueSlug).
func (tx *Tx) CreateCommunity(ctx context.Context, c Community, cats []Category) (int64, error) {
	tx.cache = nil
	now := tx.Now()
	id, err := tx.insert(ctx, `INSERT INTO communities (slug, name, locale, timezone, region, retention_days, privacy_officer, created_at, settings_edited_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Slug, c.Name, c.Locale, c.Timezone, c.Region, c.RetentionDays, c.PrivacyOfficer, now, now)
	if err != nil {
		return 0, fmt.Errorf("store: create community %s: %w", c.Slug, err)
	}
	for i, cat := range cats {
		if _, err := tx.exec(ctx, `INSERT INTO categories (community_id, key, risk, tier, position, helpers, label_en, label_fr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, cat.Key, cat.Risk, cat.Tier, i, max(cat.Helpers, 1), cat.LabelEN, cat.LabelFR); err != nil {
			return 0, fmt.Errorf("store: category %s: %w", cat.Key, err)
		}
	}
	if err := tx.applyVisitSettings(ctx, id, VisitSettings{}); err != nil {
		return 0, err
	}
	return id, nil
}

// UniqueSlug returns base, or base with a number added, that no community uses yet.
func (tx *Tx) UniqueSlug(ctx context.Context, base string) (string, error) {
	for i := 1; i < 1000; i++ {
		slug := base
		if i > 1 {
			suffix := fmt.Sprintf("-%d", i)
			slug = base[:min(len(base), 40-len(suffix))] + suffix
		}
		var n int
		if err := tx.get(ctx, &n, `SELECT COUNT(*) FROM communities WHERE slug = ?`, slug); err != nil {
			return "", wrap(err, "slug")
		}
		if n == 0 {
			return slug, nil
		}
	}
	return "", fmt.Errorf("store: no free slug for %q", base)
}

// markEdited records that the community's settings were changed outside the config.
func (tx *Tx) markEdited(ctx context.Context, community int64) error {
	tx.cache = nil
	_, err := tx.exec(ctx, `UPDATE communities SET settings_edited_at = ? WHERE id = ?`, tx.Now(), community)
	return wrap(err, "mark settings edited")
}

// UpdateCommunity writes a community's general settings (name, locale, time zone, region,
// retention, privacy officer).
func (tx *Tx) UpdateCommunity(ctx context.Context, c Community) error {
	tx.cache = nil
	_, err := tx.exec(ctx, `UPDATE communities SET name = ?, locale = ?, timezone = ?, region = ?, retention_days = ?, privacy_officer = ?, settings_edited_at = ? WHERE id = ?`,
		c.Name, c.Locale, c.Timezone, c.Region, c.RetentionDays, c.PrivacyOfficer, tx.Now(), c.ID)
	return wrap(err, "update community")
}

// AddCategory adds a category after the community's others.
func (tx *Tx) AddCategory(ctx context.Context, c Category) error {
	var pos int
	if err := tx.get(ctx, &pos, `SELECT COALESCE(MAX(position) + 1, 0) FROM categories WHERE community_id = ?`, c.CommunityID); err != nil {
		return wrap(err, "category position")
	}
	if _, err := tx.exec(ctx, `INSERT INTO categories (community_id, key, risk, tier, position, helpers, label_en, label_fr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.CommunityID, c.Key, c.Risk, c.Tier, pos, max(c.Helpers, 1), c.LabelEN, c.LabelFR); err != nil {
		return fmt.Errorf("store: add category %s: %w", c.Key, err)
	}
	return tx.markEdited(ctx, c.CommunityID)
}

// UpdateCategory changes a category's risk, tier, helpers and labels.
func (tx *Tx) UpdateCategory(ctx context.Context, c Category) error {
	if _, err := tx.exec(ctx, `UPDATE categories SET risk = ?, tier = ?, helpers = ?, label_en = ?, label_fr = ? WHERE community_id = ? AND key = ?`,
		c.Risk, c.Tier, max(c.Helpers, 1), c.LabelEN, c.LabelFR, c.CommunityID, c.Key); err != nil {
		return fmt.Errorf("store: update category %s: %w", c.Key, err)
	}
	return tx.markEdited(ctx, c.CommunityID)
}

// RemoveCategory deletes a category, reporting whether it existed.
func (tx *Tx) RemoveCategory(ctx context.Context, community int64, key string) (bool, error) {
	n, err := tx.exec(ctx, `DELETE FROM categories WHERE community_id = ? AND key = ?`, community, key)
	if err != nil || n == 0 {
		return false, wrap(err, "remove category")
	}
	return true, tx.markEdited(ctx, community)
}

// LiveInCategory counts a community's requests and offers in a category that are still
// open or under way.
func (tx *Tx) LiveInCategory(ctx context.Context, community int64, key string) (int, error) {
	var n int
	err := tx.get(ctx, &n, `SELECT (SELECT COUNT(*) FROM requests WHERE community_id = ? AND category = ? AND status IN ('open', 'matched'))
		+ (SELECT COUNT(*) FROM offers WHERE community_id = ? AND category = ? AND status IN ('open', 'full'))`, community, key, community, key)
	return n, wrap(err, "live in category")
}

// AddCrisisResource adds a crisis resource after the community's others.
func (tx *Tx) AddCrisisResource(ctx context.Context, r CrisisResource) (int64, error) {
	var pos int
	if err := tx.get(ctx, &pos, `SELECT COALESCE(MAX(position) + 1, 0) FROM crisis_resources WHERE community_id = ?`, r.CommunityID); err != nil {
		return 0, wrap(err, "resource position")
	}
	id, err := tx.insert(ctx, `INSERT INTO crisis_resources (community_id, label, contact, position) VALUES (?, ?, ?, ?)`,
		r.CommunityID, r.Label, r.Contact, pos)
	if err != nil {
		return 0, wrap(err, "add crisis resource")
	}
	return id, tx.markEdited(ctx, r.CommunityID)
}

// RemoveCrisisResource deletes one of a community's crisis resources, reporting whether
// it existed.
func (tx *Tx) RemoveCrisisResource(ctx context.Context, community, id int64) (bool, error) {
	n, err := tx.exec(ctx, `DELETE FROM crisis_resources WHERE community_id = ? AND id = ?`, community, id)
	if err != nil || n == 0 {
		return false, wrap(err, "remove crisis resource")
	}
	return true, tx.markEdited(ctx, community)
}

// Bind binds a space to a community; ErrSpaceBound when the space already is.
func (tx *Tx) Bind(ctx context.Context, b Binding) error {
	tx.cache = nil
	var n int
	if err := tx.get(ctx, &n, `SELECT COUNT(*) FROM space_bindings WHERE platform = ? AND workspace = ?`, b.Platform, b.Workspace); err != nil {
		return wrap(err, "binding")
	}
	if n > 0 {
		return ErrSpaceBound
	}
	if err := tx.insertBinding(ctx, b, b.CommunityID); err != nil {
		return err
	}
	return tx.markEdited(ctx, b.CommunityID)
}

// insertBinding writes a new space binding of community.
func (tx *Tx) insertBinding(ctx context.Context, b Binding, community int64) error {
	if _, err := tx.exec(ctx, `INSERT INTO space_bindings (platform, workspace, community_id, board_channel, moderators_channel, alert_channel, refuses_shared) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		b.Platform, b.Workspace, community, b.BoardChannel, b.ModeratorsChannel, b.AlertChannel, b.RefusesShared); err != nil {
		return fmt.Errorf("store: bind %s/%s: %w", b.Platform, b.Workspace, err)
	}
	return nil
}

// SetReceivesShared says whether a bound space takes requests shared from the
// community's other spaces, reporting whether the space is bound.
func (tx *Tx) SetReceivesShared(ctx context.Context, platform, workspace string, receives bool) (bool, error) {
	b, err := tx.BindingFor(ctx, platform, workspace)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	tx.cache = nil
	if _, err := tx.exec(ctx, `UPDATE space_bindings SET refuses_shared = ? WHERE platform = ? AND workspace = ?`, !receives, platform, workspace); err != nil {
		return false, wrap(err, "set receives shared")
	}
	return true, tx.markEdited(ctx, b.CommunityID)
}

// Channels a space binding names.
const (
	ChannelBoard      = "board"
	ChannelModerators = "moderators"
	ChannelAlerts     = "alerts"
)

// SetChannel changes one channel of a bound space (ChannelBoard, ChannelModerators or
// ChannelAlerts), reporting whether the space is bound.
func (tx *Tx) SetChannel(ctx context.Context, platform, workspace, which, channel string) (bool, error) {
	col := map[string]string{ChannelBoard: "board_channel", ChannelModerators: "moderators_channel", ChannelAlerts: "alert_channel"}[which]
	if col == "" {
		return false, fmt.Errorf("store: no channel %q", which)
	}
	b, err := tx.BindingFor(ctx, platform, workspace)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	tx.cache = nil
	if _, err := tx.exec(ctx, `UPDATE space_bindings SET `+col+` = ? WHERE platform = ? AND workspace = ?`, channel, platform, workspace); err != nil {
		return false, wrap(err, "set channel")
	}
	return true, tx.markEdited(ctx, b.CommunityID)
}

// Moderators lists the moderators named for a community from chat or the command line.
func (tx *Tx) Moderators(ctx context.Context, community int64) ([]Moderator, error) {
	var ms []Moderator
	err := tx.sel(ctx, &ms, `SELECT * FROM community_moderators WHERE community_id = ? ORDER BY created_at, platform, platform_user_id`, community)
	return ms, wrap(err, "moderators")
}

// AddModerator names a moderator, reporting false when they already were one.
func (tx *Tx) AddModerator(ctx context.Context, m Moderator) (bool, error) {
	var n int
	if err := tx.get(ctx, &n, `SELECT COUNT(*) FROM community_moderators WHERE community_id = ? AND platform = ? AND platform_user_id = ?`,
		m.CommunityID, m.Platform, m.UserID); err != nil {
		return false, wrap(err, "moderator")
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.exec(ctx, `INSERT INTO community_moderators (community_id, platform, platform_user_id, created_at) VALUES (?, ?, ?, ?)`,
		m.CommunityID, m.Platform, m.UserID, tx.Now()); err != nil {
		return false, wrap(err, "add moderator")
	}
	return true, tx.markEdited(ctx, m.CommunityID)
}

// RemoveModerator removes a named moderator, reporting whether they were one.
func (tx *Tx) RemoveModerator(ctx context.Context, community int64, platform, user string) (bool, error) {
	n, err := tx.exec(ctx, `DELETE FROM community_moderators WHERE community_id = ? AND platform = ? AND platform_user_id = ?`, community, platform, user)
	if err != nil || n == 0 {
		return false, wrap(err, "remove moderator")
	}
	return true, tx.markEdited(ctx, community)
}

// ModeratorAccounts lists the accounts of a community's named moderators on one
// platform, for direct messages when a space has no moderators' channel yet.
func (tx *Tx) ModeratorAccounts(ctx context.Context, community int64, platform string) ([]string, error) {
	var ids []string
	err := tx.sel(ctx, &ids, `SELECT platform_user_id FROM community_moderators WHERE community_id = ? AND platform = ? ORDER BY created_at, platform_user_id`,
		community, platform)
	return ids, wrap(err, "moderator accounts")
}

// keepEdited applies a config community to one changed from chat or the command line:
// it binds the spaces missing (a space bound elsewhere stays where it is) and reports
// what the config says differently.
func (tx *Tx) keepEdited(ctx context.Context, cur Community, s CommunitySetup) ([]string, error) {
	var differs []string
	c := s.Community
	if c.Name != cur.Name || c.Locale != cur.Locale || c.Timezone != cur.Timezone || c.Region != cur.Region ||
		c.RetentionDays != cur.RetentionDays || c.PrivacyOfficer != cur.PrivacyOfficer {
		differs = append(differs, "general")
	}
	cats, err := tx.Categories(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	if !slices.EqualFunc(cats, s.Categories, func(a, b Category) bool {
		return a.Key == b.Key && a.Risk == b.Risk && a.Tier == b.Tier && a.Helpers == max(b.Helpers, 1) && a.LabelEN == b.LabelEN && a.LabelFR == b.LabelFR
	}) {
		differs = append(differs, "categories")
	}
	rs, err := tx.CrisisResources(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	if !slices.EqualFunc(rs, s.Resources, func(a, b CrisisResource) bool { return a.Label == b.Label && a.Contact == b.Contact }) {
		differs = append(differs, "crisis_resources")
	}
	v, err := tx.VisitSettings(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	want := s.Visits
	if want.GraceMinutes <= 0 {
		want.GraceMinutes = DefaultVisitGraceMinutes
	}
	if v.Rules != want.Rules || v.Contact != want.Contact || v.GraceMinutes != want.GraceMinutes || v.VettingValidDays != max(want.VettingValidDays, 0) {
		differs = append(differs, "visits")
	}
	spaces := false
	for _, b := range s.Bindings {
		have, err := tx.BindingFor(ctx, b.Platform, b.Workspace)
		switch {
		case isNotFound(err):
			if err := tx.insertBinding(ctx, b, cur.ID); err != nil {
				return nil, err
			}
			tx.cache = nil
		case err != nil:
			return nil, err
		case have.CommunityID != cur.ID || have.BoardChannel != b.BoardChannel || have.ModeratorsChannel != b.ModeratorsChannel || have.AlertChannel != b.AlertChannel ||
			have.RefusesShared != b.RefusesShared:
			spaces = true
		}
	}
	if spaces {
		differs = append(differs, "spaces")
	}
	return differs, nil
}
