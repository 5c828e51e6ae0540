package store_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func TestApplyCommunity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		apply := func(s store.CommunitySetup) int64 {
			t.Helper()
			var id int64
			inTx(t, db, func(tx *store.Tx) error {
				var err error
				id, err = tx.ApplyCommunity(ctx, s)
				return err
			})
			return id
		}
		type state struct {
			community  store.Community
			categories []string
			resources  []string
			bindings   []store.Binding
		}
		load := func(id int64) state {
			t.Helper()
			var s state
			inTx(t, db, func(tx *store.Tx) error {
				var err error
				if s.community, err = tx.Community(ctx, id); err != nil {
					return err
				}
				cats, err := tx.Categories(ctx, id)
				if err != nil {
					return err
				}
				for _, c := range cats {
					s.categories = append(s.categories, c.Key+"/"+c.Tier)
				}
				rs, err := tx.CrisisResources(ctx, id)
				if err != nil {
					return err
				}
				for _, r := range rs {
					s.resources = append(s.resources, r.Label)
				}
				s.bindings, err = tx.Bindings(ctx, id)
				return err
			})
			return s
		}
		bindingFor := func(platform, workspace string) (store.Binding, error) {
			var b store.Binding
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				b, err = tx.BindingFor(ctx, platform, workspace)
				return err
			})
			return b, err
		}

		// Create.
		first := apply(store.CommunitySetup{
			Community: store.Community{Slug: "mile-end", Name: "Mile End Mutual Aid", Locale: "fr", Timezone: "America/Toronto", Region: "CA-QC", RetentionDays: 30},
			Categories: []store.Category{
				{Key: "ride", Risk: "medium", Tier: "vetted"},
				{Key: "meal", Risk: "low", Tier: "volunteer"},
			},
			Resources: []store.CrisisResource{{Label: "Suicide Action Montréal", Contact: "1-866-277-3553"}},
			Bindings:  []store.Binding{{Platform: "discord", Workspace: "g1", BoardChannel: "board-1", ModeratorsChannel: "mods-1"}},
		})
		got := load(first)
		if got.community.Slug != "mile-end" || got.community.Name != "Mile End Mutual Aid" || got.community.Locale != "fr" {
			t.Errorf("created community = %+v", got.community)
		}
		if want := []string{"ride/vetted", "meal/volunteer"}; !reflect.DeepEqual(got.categories, want) {
			t.Errorf("categories = %v, want %v", got.categories, want)
		}
		b, err := bindingFor("discord", "g1")
		if err != nil || b.CommunityID != first || b.BoardChannel != "board-1" || b.ModeratorsChannel != "mods-1" {
			t.Fatalf("BindingFor(discord, g1) = %+v, %v", b, err)
		}

		// Update: same slug, same id; categories and resources replaced; binding updated
		// in place; a second platform bound.
		again := apply(store.CommunitySetup{
			Community: store.Community{Slug: "mile-end", Name: "Mile End Entraide", Locale: "en", Timezone: "America/Toronto", Region: "CA-QC", RetentionDays: 14},
			Categories: []store.Category{
				{Key: "groceries", Risk: "low", Tier: "member"},
				{Key: "ride", Risk: "medium", Tier: "volunteer"},
			},
			Resources: []store.CrisisResource{{Label: "988", Contact: "988"}, {Label: "Info-Social", Contact: "811"}},
			Bindings: []store.Binding{
				{Platform: "discord", Workspace: "g1", BoardChannel: "board-2", ModeratorsChannel: "mods-2"},
				{Platform: "mattermost", Workspace: "hospice", BoardChannel: "town-square", ModeratorsChannel: "staff"},
			},
		})
		if again != first {
			t.Fatalf("re-applying the same slug made community %d, want %d", again, first)
		}
		got = load(first)
		if got.community.Name != "Mile End Entraide" || got.community.Locale != "en" || got.community.RetentionDays != 14 {
			t.Errorf("updated community = %+v", got.community)
		}
		if want := []string{"groceries/member", "ride/volunteer"}; !reflect.DeepEqual(got.categories, want) {
			t.Errorf("categories after update = %v, want %v (replaced, in order)", got.categories, want)
		}
		if want := []string{"988", "Info-Social"}; !reflect.DeepEqual(got.resources, want) {
			t.Errorf("crisis resources after update = %v, want %v", got.resources, want)
		}
		inTx(t, db, func(tx *store.Tx) error {
			if _, err := tx.Category(ctx, first, "meal"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("removed category meal: %v, want ErrNotFound", err)
			}
			return nil
		})
		if b, err := bindingFor("discord", "g1"); err != nil || b.CommunityID != first || b.BoardChannel != "board-2" || b.ModeratorsChannel != "mods-2" {
			t.Errorf("updated binding = %+v, %v", b, err)
		}
		if len(got.bindings) != 2 {
			t.Errorf("bindings = %+v, want discord and mattermost", got.bindings)
		}

		// Move: another community takes over the discord guild.
		second := apply(store.CommunitySetup{
			Community: store.Community{Slug: "verdun", Name: "Verdun", Locale: "fr", Timezone: "America/Toronto", Region: "CA-QC", RetentionDays: 30},
			Bindings:  []store.Binding{{Platform: "discord", Workspace: "g1", BoardChannel: "verdun-board", ModeratorsChannel: "verdun-mods"}},
		})
		if second == first {
			t.Fatal("a new slug reused the first community's id")
		}
		if b, err := bindingFor("discord", "g1"); err != nil || b.CommunityID != second || b.BoardChannel != "verdun-board" {
			t.Errorf("moved binding = %+v, %v; want community %d", b, err, second)
		}
		if bs := load(first).bindings; len(bs) != 1 || bs[0].Platform != "mattermost" {
			t.Errorf("first community's bindings after the move = %+v, want only mattermost", bs)
		}
		if b, err := bindingFor("mattermost", "hospice"); err != nil || b.CommunityID != first {
			t.Errorf("BindingFor(mattermost, hospice) = %+v, %v", b, err)
		}

		if _, err := bindingFor("slack", "nowhere"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("BindingFor an unbound space: %v, want ErrNotFound", err)
		}
	})
}
