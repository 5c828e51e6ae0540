package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// configSetup is a community as a config file gives it.
func configSetup() store.CommunitySetup {
	return store.CommunitySetup{
		Community:  store.Community{Slug: "rosemont", Name: "Rosemont", Locale: "en", Timezone: "America/Toronto", Region: "CA", RetentionDays: 30},
		Categories: []store.Category{{Key: "ride", Risk: "ride", Tier: "vetted"}, {Key: "meal", Risk: "doorstep", Tier: "volunteer"}},
		Resources:  []store.CrisisResource{{Label: "Tel-Aide", Contact: "514-935-1101"}},
		Bindings:   []store.Binding{{Platform: "slack", Workspace: "T1", BoardChannel: "C1", ModeratorsChannel: "C2"}},
	}
}

func TestConfigKeepsChatEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		apply := func(s store.CommunitySetup) (int64, []string) {
			t.Helper()
			var (
				id      int64
				differs []string
			)
			inTx(t, db, func(tx *store.Tx) error {
				var err error
				id, differs, err = tx.ApplyConfig(ctx, s)
				return err
			})
			return id, differs
		}
		load := func(id int64) (store.Community, []store.Category, []store.CrisisResource, []store.Binding) {
			t.Helper()
			var (
				c    store.Community
				cats []store.Category
				rs   []store.CrisisResource
				bs   []store.Binding
			)
			inTx(t, db, func(tx *store.Tx) error {
				var err error
				if c, err = tx.Community(ctx, id); err != nil {
					return err
				}
				if cats, err = tx.Categories(ctx, id); err != nil {
					return err
				}
				if rs, err = tx.CrisisResources(ctx, id); err != nil {
					return err
				}
				bs, err = tx.Bindings(ctx, id)
				return err
			})
			return c, cats, rs, bs
		}

		// Never edited: config applies at every start, as before.
		s := configSetup()
		id, differs := apply(s)
		s.Community.Name = "Rosemont Neighbours"
		if _, differs = apply(s); differs != nil {
			t.Fatalf("a community only shaped by config reported differences: %v", differs)
		}
		if c, _, _, _ := load(id); c.Name != "Rosemont Neighbours" || c.SettingsEditedAt.Valid {
			t.Fatalf("config did not apply to a community never edited: %+v", c)
		}

		// Edited from chat: the next start keeps the edits, binds only what is missing and
		// says what differs.
		inTx(t, db, func(tx *store.Tx) error {
			c, err := tx.Community(ctx, id)
			if err != nil {
				return err
			}
			c.Timezone = "Europe/Paris"
			if err := tx.UpdateCommunity(ctx, c); err != nil {
				return err
			}
			if err := tx.AddCategory(ctx, store.Category{CommunityID: id, Key: "pet_care", Risk: "doorstep", Tier: "volunteer", LabelEN: "Pet care"}); err != nil {
				return err
			}
			_, err = tx.SetChannel(ctx, "slack", "T1", store.ChannelModerators, "C9")
			return err
		})
		c0, cats0, rs0, bs0 := load(id)
		s.Bindings = append(s.Bindings, store.Binding{Platform: "discord", Workspace: "G1", BoardChannel: "b", ModeratorsChannel: "m"})
		if _, differs = apply(s); !reflect.DeepEqual(differs, []string{"general", "categories", "spaces"}) {
			t.Fatalf("differs = %v", differs)
		}
		c1, cats1, rs1, bs1 := load(id)
		if c1.Timezone != "Europe/Paris" || !reflect.DeepEqual(c0, c1) || !reflect.DeepEqual(cats0, cats1) || !reflect.DeepEqual(rs0, rs1) {
			t.Fatalf("config overwrote chat edits:\n%+v\n%+v\n%v\n%v", c0, c1, cats0, cats1)
		}
		if len(bs1) != len(bs0)+1 || bs1[0].Platform != "discord" || bs1[1].ModeratorsChannel != "C9" {
			t.Fatalf("bindings after restart: %+v", bs1)
		}
		// Once the config is brought in line, nothing is reported.
		inTx(t, db, func(tx *store.Tx) error {
			_, err := tx.SetChannel(ctx, "slack", "T1", store.ChannelModerators, "C2")
			return err
		})
		s.Community = c1
		s.Categories = cats1
		if _, differs = apply(s); differs != nil {
			t.Fatalf("differs after aligning = %v", differs)
		}
	})
}

func TestJoinCodeStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		c := community(t, db, "mile-end")
		var code string
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			code, _, err = tx.NewJoinCode(ctx, c, 0)
			return err
		})
		redeem := func(typed, ws string) bool {
			t.Helper()
			var ok bool
			inTx(t, db, func(tx *store.Tx) error {
				var err error
				var got int64
				got, ok, err = tx.RedeemJoinCode(ctx, typed, "slack", ws)
				if ok && got != c {
					t.Errorf("code redeemed for community %d, want %d", got, c)
				}
				return err
			})
			return ok
		}
		if redeem(code[:5]+"2222-2222-2222", "T1") || redeem("", "T1") || redeem("not a code at all", "T1") {
			t.Fatal("a wrong code was accepted")
		}
		if !redeem(code, "T1") || redeem(code, "T2") {
			t.Fatal("a code is not single use")
		}
		var used string
		if err := db.X.Get(&used, `SELECT used_workspace FROM join_codes`); err != nil || used != "T1" {
			t.Fatalf("used by %q, %v", used, err)
		}
		// Pruned a week after it expired.
		now = now.Add(store.JoinCodeTTL + 8*24*time.Hour)
		inTx(t, db, func(tx *store.Tx) error {
			_, _, err := tx.NewJoinCode(ctx, c, 0)
			return err
		})
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM join_codes`); n != 1 {
			t.Fatalf("old codes kept: %d", n)
		}
	})
}
