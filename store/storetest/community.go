package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tend-community/tend/store"
)

// CommunityRows renders every row that makes a community (the community, its
// categories, crisis resources, space bindings, named moderators and visit settings),
// ids and times left out, so that a community set up one way (chat, on any platform) and
// one set up another (the command line) compare equal when, and only when, they are the
// same. A community edited outside the config file shows as "edited".
func CommunityRows(t testing.TB, db *store.DB, slug string) string {
	t.Helper()
	var id int64
	if err := db.X.Get(&id, db.X.Rebind(`SELECT id FROM communities WHERE slug = ?`), slug); err != nil {
		t.Fatalf("storetest: community %s: %v", slug, err)
	}
	var b strings.Builder
	for _, q := range []string{
		`SELECT slug, name, locale, timezone, region, retention_days, privacy_officer, CASE WHEN settings_edited_at IS NULL THEN 'config' ELSE 'edited' END FROM communities WHERE id = ?`,
		`SELECT key, risk, tier, position, helpers, label_en, label_fr FROM categories WHERE community_id = ? ORDER BY position`,
		`SELECT label, contact, position FROM crisis_resources WHERE community_id = ? ORDER BY position`,
		`SELECT platform, workspace, board_channel, moderators_channel, alert_channel FROM space_bindings WHERE community_id = ? ORDER BY platform, workspace`,
		`SELECT platform, platform_user_id FROM community_moderators WHERE community_id = ? ORDER BY platform, platform_user_id`,
		`SELECT rules, contact, grace_minutes, vetting_valid_days FROM visit_settings WHERE community_id = ?`,
	} {
		rows, err := db.X.Queryx(db.X.Rebind(q), id)
		if err != nil {
			t.Fatalf("storetest: %v", err)
		}
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				t.Fatalf("storetest: %v", err)
			}
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					vals[i] = string(bs)
				}
			}
			fmt.Fprintln(&b, vals...)
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("storetest: %v", err)
		}
		b.WriteString("--\n")
	}
	return b.String()
}
