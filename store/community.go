package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Community is the unit of tenancy.
type Community struct {
	ID             int64  `db:"id"`
	Slug           string `db:"slug"`
	Name           string `db:"name"`
	Locale         string `db:"locale"`
	Timezone       string `db:"timezone"`
	Region         string `db:"region"`
	RetentionDays  int    `db:"retention_days"`
	PrivacyOfficer string `db:"privacy_officer"`
	CreatedAt      int64  `db:"created_at"`
	// SettingsEditedAt is when the community was last created or changed from chat or the
	// command line; from then on the config file no longer overwrites its settings.
	SettingsEditedAt sql.NullInt64 `db:"settings_edited_at"`
}

// Category is a kind of help with its risk and the tier a helper needs.
type Category struct {
	CommunityID int64  `db:"community_id"`
	Key         string `db:"key"`
	Risk        string `db:"risk"`
	Tier        string `db:"tier"`
	Position    int    `db:"position"`
	// Helpers is how many volunteers one request needs (1, or 2 for some home visits).
	Helpers int `db:"helpers"`
	// LabelEN and LabelFR are the community's own names for the category; empty means
	// the catalogue's name for the key.
	LabelEN string `db:"label_en"`
	LabelFR string `db:"label_fr"`
}

// CrisisResource is a line a person in crisis is shown (a crisis line, a number).
type CrisisResource struct {
	ID          int64  `db:"id"`
	CommunityID int64  `db:"community_id"`
	Label       string `db:"label"`
	Contact     string `db:"contact"`
	Position    int    `db:"position"`
}

// Binding ties a platform space to a community, with its board and moderators' channels.
type Binding struct {
	Platform          string `db:"platform"`
	Workspace         string `db:"workspace"`
	CommunityID       int64  `db:"community_id"`
	BoardChannel      string `db:"board_channel"`
	ModeratorsChannel string `db:"moderators_channel"`
	// AlertChannel is where urgent cases go when the moderators have not answered.
	AlertChannel string `db:"alert_channel"`
	// RefusesShared says the space takes no request shared from the community's other
	// spaces (its own requests still show there). The zero value receives them.
	RefusesShared bool `db:"refuses_shared"`
}

// RequestSpaces are the spaces of bs where a request asked in (platform, workspace)
// shows: that space, and when the requester shared it, every other space that receives
// shared requests. A request without an origin (asked before spaces were remembered)
// shows in every space, as it always did.
func RequestSpaces(bs []Binding, platform, workspace string, shared bool) []Binding {
	if platform == "" {
		return bs
	}
	var out []Binding
	for _, b := range bs {
		if (b.Platform == platform && b.Workspace == workspace) || (shared && !b.RefusesShared) {
			out = append(out, b)
		}
	}
	return out
}

// CommunitySetup is everything config says about a community.
type CommunitySetup struct {
	Community  Community
	Categories []Category
	Resources  []CrisisResource
	Bindings   []Binding
	Visits     VisitSettings
}

// ApplyCommunity creates the community named by its slug or brings its settings in line
// with setup, and returns its id. A community changed from chat or the command line keeps
// its settings (see ApplyConfig).
func (tx *Tx) ApplyCommunity(ctx context.Context, s CommunitySetup) (int64, error) {
	id, _, err := tx.ApplyConfig(ctx, s)
	return id, err
}

// ApplyConfig applies a community from the config file. A community never changed from
// chat or the command line is created or brought in line with setup, as at every start.
// One that was (settings_edited_at set) keeps what its organisers chose: only the spaces
// it is missing are bound, and differs names the parts of setup that differ from what it
// has ("general", "categories", "crisis_resources", "visits", "spaces"), so the caller
// can say once that the config's values are only starting values now.
func (tx *Tx) ApplyConfig(ctx context.Context, s CommunitySetup) (id int64, differs []string, err error) {
	tx.cache = nil
	c := s.Community
	var cur Community
	err = tx.get(ctx, &cur, `SELECT * FROM communities WHERE slug = ?`, c.Slug)
	switch {
	case err == ErrNotFound:
		id, err = tx.insert(ctx, `INSERT INTO communities (slug, name, locale, timezone, region, retention_days, privacy_officer, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Slug, c.Name, c.Locale, c.Timezone, c.Region, c.RetentionDays, c.PrivacyOfficer, tx.Now())
		if err != nil {
			return 0, nil, fmt.Errorf("store: create community %s: %w", c.Slug, err)
		}
	case err != nil:
		return 0, nil, fmt.Errorf("store: find community %s: %w", c.Slug, err)
	case cur.SettingsEditedAt.Valid:
		differs, err = tx.keepEdited(ctx, cur, s)
		return cur.ID, differs, err
	default:
		id = cur.ID
		if _, err := tx.exec(ctx, `UPDATE communities SET name = ?, locale = ?, timezone = ?, region = ?, retention_days = ?, privacy_officer = ? WHERE id = ?`,
			c.Name, c.Locale, c.Timezone, c.Region, c.RetentionDays, c.PrivacyOfficer, id); err != nil {
			return 0, nil, fmt.Errorf("store: update community %s: %w", c.Slug, err)
		}
	}
	if _, err := tx.exec(ctx, `DELETE FROM categories WHERE community_id = ?`, id); err != nil {
		return 0, nil, fmt.Errorf("store: reset categories: %w", err)
	}
	for i, cat := range s.Categories {
		if _, err := tx.exec(ctx, `INSERT INTO categories (community_id, key, risk, tier, position, helpers, label_en, label_fr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, cat.Key, cat.Risk, cat.Tier, i, max(cat.Helpers, 1), cat.LabelEN, cat.LabelFR); err != nil {
			return 0, nil, fmt.Errorf("store: category %s: %w", cat.Key, err)
		}
	}
	if err := tx.applyVisitSettings(ctx, id, s.Visits); err != nil {
		return 0, nil, err
	}
	if _, err := tx.exec(ctx, `DELETE FROM crisis_resources WHERE community_id = ?`, id); err != nil {
		return 0, nil, fmt.Errorf("store: reset crisis resources: %w", err)
	}
	for i, r := range s.Resources {
		if _, err := tx.exec(ctx, `INSERT INTO crisis_resources (community_id, label, contact, position) VALUES (?, ?, ?, ?)`,
			id, r.Label, r.Contact, i); err != nil {
			return 0, nil, fmt.Errorf("store: crisis resource: %w", err)
		}
	}
	for _, b := range s.Bindings {
		n, err := tx.exec(ctx, `UPDATE space_bindings SET community_id = ?, board_channel = ?, moderators_channel = ?, alert_channel = ?, refuses_shared = ? WHERE platform = ? AND workspace = ?`,
			id, b.BoardChannel, b.ModeratorsChannel, b.AlertChannel, b.RefusesShared, b.Platform, b.Workspace)
		if err == nil && n == 0 {
			err = tx.insertBinding(ctx, b, id)
		}
		if err != nil {
			return 0, nil, fmt.Errorf("store: bind %s/%s: %w", b.Platform, b.Workspace, err)
		}
	}
	return id, nil, nil
}

// Community loads a community by id.
func (tx *Tx) Community(ctx context.Context, id int64) (Community, error) {
	return cached(tx, fmt.Sprint("community:", id), func() (Community, error) {
		var c Community
		err := tx.get(ctx, &c, `SELECT * FROM communities WHERE id = ?`, id)
		return c, wrap(err, "community")
	})
}

// Categories lists a community's categories in their configured order.
func (tx *Tx) Categories(ctx context.Context, community int64) ([]Category, error) {
	var cs []Category
	err := tx.sel(ctx, &cs, `SELECT * FROM categories WHERE community_id = ? ORDER BY position`, community)
	return cs, wrap(err, "categories")
}

// Category loads one category; ErrNotFound when the community has no such category.
func (tx *Tx) Category(ctx context.Context, community int64, key string) (Category, error) {
	return cached(tx, fmt.Sprint("category:", community, ":", key), func() (Category, error) {
		var c Category
		err := tx.get(ctx, &c, `SELECT * FROM categories WHERE community_id = ? AND key = ?`, community, key)
		return c, wrap(err, "category")
	})
}

// CrisisResources lists a community's crisis resources.
func (tx *Tx) CrisisResources(ctx context.Context, community int64) ([]CrisisResource, error) {
	var rs []CrisisResource
	err := tx.sel(ctx, &rs, `SELECT * FROM crisis_resources WHERE community_id = ? ORDER BY position`, community)
	return rs, wrap(err, "crisis resources")
}

// BindingFor finds the community bound to a platform space.
func (tx *Tx) BindingFor(ctx context.Context, platform, workspace string) (Binding, error) {
	return cached(tx, "binding:"+platform+"/"+workspace, func() (Binding, error) {
		var b Binding
		err := tx.get(ctx, &b, `SELECT * FROM space_bindings WHERE platform = ? AND workspace = ?`, platform, workspace)
		return b, wrap(err, "space binding")
	})
}

// Bindings lists every space a community is bound to.
func (tx *Tx) Bindings(ctx context.Context, community int64) ([]Binding, error) {
	return cached(tx, fmt.Sprint("bindings:", community), func() ([]Binding, error) {
		var bs []Binding
		err := tx.sel(ctx, &bs, `SELECT * FROM space_bindings WHERE community_id = ? ORDER BY platform, workspace`, community)
		return bs, wrap(err, "space bindings")
	})
}

// wrap adds context to an error, keeping ErrNotFound recognisable.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	if err == ErrNotFound {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// Scene is who acted and where, as one query finds it: the space's binding, its
// community, the member behind the platform account (ID 0 when not a member), and
// whether that account is one of the community's recorded moderators.
type Scene struct {
	Binding   Binding
	Community Community
	Member    Member
	// Left says the account had left its space (identities.left_at): this event is its
	// return.
	Left bool
	// Moderator says the account is one of the community's recorded moderators.
	Moderator bool
}

// ResolveScene loads the binding of a platform space, its community and the member of a
// platform account in one round trip, and keeps them for the rest of the transaction.
func (tx *Tx) ResolveScene(ctx context.Context, platform, workspace, userID string) (Scene, error) {
	var row struct {
		Binding
		CID        int64          `db:"c_id"`
		CSlug      string         `db:"c_slug"`
		CName      string         `db:"c_name"`
		CLocale    string         `db:"c_locale"`
		CTimezone  string         `db:"c_timezone"`
		CRegion    string         `db:"c_region"`
		CRetention int            `db:"c_retention_days"`
		COfficer   string         `db:"c_privacy_officer"`
		CCreated   int64          `db:"c_created_at"`
		CEdited    sql.NullInt64  `db:"c_settings_edited_at"`
		ModSince   sql.NullInt64  `db:"mod_since"`
		MID        sql.NullInt64  `db:"m_id"`
		MName      sql.NullString `db:"m_display_name"`
		MLocale    sql.NullString `db:"m_locale"`
		MNotice    sql.NullString `db:"m_notice_version"`
		MAccepted  sql.NullInt64  `db:"m_accepted_at"`
		MCreated   sql.NullInt64  `db:"m_created_at"`
		ILeft      sql.NullInt64  `db:"i_left_at"`
	}
	err := tx.get(ctx, &row, `SELECT b.platform, b.workspace, b.community_id, b.board_channel, b.moderators_channel, b.alert_channel, b.refuses_shared,
		c.id AS c_id, c.slug AS c_slug, c.name AS c_name, c.locale AS c_locale, c.timezone AS c_timezone, c.region AS c_region,
		c.retention_days AS c_retention_days, c.privacy_officer AS c_privacy_officer, c.created_at AS c_created_at,
		c.settings_edited_at AS c_settings_edited_at, cm.created_at AS mod_since,
		m.id AS m_id, m.display_name AS m_display_name, m.locale AS m_locale, m.notice_version AS m_notice_version,
		m.accepted_at AS m_accepted_at, m.created_at AS m_created_at, i.left_at AS i_left_at
		FROM space_bindings b JOIN communities c ON c.id = b.community_id
		LEFT JOIN identities i ON i.community_id = b.community_id AND i.platform = b.platform AND i.platform_user_id = ?
		LEFT JOIN members m ON m.id = i.member_id
		LEFT JOIN community_moderators cm ON cm.community_id = b.community_id AND cm.platform = b.platform AND cm.platform_user_id = ?
		WHERE b.platform = ? AND b.workspace = ?`, userID, userID, platform, workspace)
	if err != nil {
		return Scene{}, wrap(err, "scene")
	}
	sc := Scene{Binding: row.Binding, Community: Community{ID: row.CID, Slug: row.CSlug, Name: row.CName, Locale: row.CLocale,
		Timezone: row.CTimezone, Region: row.CRegion, RetentionDays: row.CRetention, PrivacyOfficer: row.COfficer, CreatedAt: row.CCreated,
		SettingsEditedAt: row.CEdited}, Moderator: row.ModSince.Valid}
	if tx.cache == nil {
		tx.cache = map[string]any{}
	}
	tx.cache["binding:"+platform+"/"+workspace] = sc.Binding
	tx.cache[fmt.Sprint("community:", sc.Community.ID)] = sc.Community
	if row.MID.Valid {
		sc.Member = Member{ID: row.MID.Int64, CommunityID: sc.Community.ID, DisplayName: row.MName.String, Locale: row.MLocale.String,
			NoticeVersion: row.MNotice.String, AcceptedAt: row.MAccepted.Int64, CreatedAt: row.MCreated.Int64}
		tx.cache[fmt.Sprint("member:", sc.Member.ID)] = sc.Member
		sc.Left = row.ILeft.Valid
	}
	return sc, nil
}

// BoundPlatforms counts the spaces bound on each platform, whoever bound them (config,
// chat or the command line).
func (tx *Tx) BoundPlatforms(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Platform string `db:"platform"`
		N        int    `db:"n"`
	}
	if err := tx.sel(ctx, &rows, `SELECT platform, COUNT(*) AS n FROM space_bindings GROUP BY platform`); err != nil {
		return nil, wrap(err, "bound platforms")
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Platform] = r.N
	}
	return out, nil
}

// CommunityID finds a community's id by its slug.
func (tx *Tx) CommunityID(ctx context.Context, slug string) (int64, error) {
	var id int64
	err := tx.get(ctx, &id, `SELECT id FROM communities WHERE slug = ?`, slug)
	return id, wrap(err, "community "+slug)
}

// HomeWorkspace finds the workspace of a platform user when an event does not say (a
// direct message on a platform whose DMs belong to no workspace): the workspace of their
// open dialogue or form draft, else of their most recent identity in a bound space.
func (tx *Tx) HomeWorkspace(ctx context.Context, platform, user string) (string, error) {
	var ws string
	err := tx.get(ctx, &ws, `SELECT workspace FROM dialogues WHERE platform = ? AND user_id = ? ORDER BY updated_at DESC LIMIT 1`, platform, user)
	if err != ErrNotFound {
		return ws, wrap(err, "home workspace")
	}
	err = tx.get(ctx, &ws, `SELECT b.workspace FROM identities i
		JOIN space_bindings b ON b.community_id = i.community_id AND b.platform = i.platform
		WHERE i.platform = ? AND i.platform_user_id = ? ORDER BY i.created_at DESC, b.workspace LIMIT 1`, platform, user)
	return ws, wrap(err, "home workspace")
}
