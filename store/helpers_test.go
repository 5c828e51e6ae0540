package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tend-community/tend/store"
)

// The store's tests live in package store_test because storetest imports store.

var ctx = context.Background()

// inTx runs fn in one transaction and fails the test on error.
func inTx(t testing.TB, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.InTx(ctx, fn); err != nil {
		t.Fatalf("transaction: %v", err)
	}
}

// community creates a community with one binding and returns its id.
func community(t testing.TB, db *store.DB, slug string) int64 {
	t.Helper()
	var id int64
	inTx(t, db, func(tx *store.Tx) error {
		var err error
		id, err = tx.ApplyCommunity(ctx, store.CommunitySetup{
			Community: store.Community{Slug: slug, Name: slug, Locale: "en", Timezone: "America/Toronto", Region: "CA-QC", RetentionDays: 30},
			Categories: []store.Category{
				{Key: "ride", Risk: "medium", Tier: "volunteer"},
				{Key: "meal", Risk: "low", Tier: "volunteer"},
			},
			Bindings: []store.Binding{{Platform: "discord", Workspace: "guild-" + slug, BoardChannel: "board", ModeratorsChannel: "mods"}},
		})
		return err
	})
	return id
}

// member creates a member with a discord identity named user.
func member(t testing.TB, db *store.DB, comm int64, user string) store.Member {
	t.Helper()
	var m store.Member
	inTx(t, db, func(tx *store.Tx) error {
		var err error
		m, _, err = tx.CreateMember(ctx, comm, "discord", user, user, "en", "v1", store.Evidence{Surface: "dm", EventID: "ev-" + user, Action: "accept"})
		return err
	})
	return m
}

// members creates n members in one transaction.
func members(t testing.TB, db *store.DB, comm int64, prefix string, n int) []int64 {
	t.Helper()
	ids := make([]int64, 0, n)
	inTx(t, db, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			u := fmt.Sprintf("%s-%04d", prefix, i)
			m, _, err := tx.CreateMember(ctx, comm, "discord", u, u, "en", "v1", store.Evidence{Surface: "dm"})
			if err != nil {
				return err
			}
			ids = append(ids, m.ID)
		}
		return nil
	})
	return ids
}

// request creates a request with the given number of slots and private part.
func request(t testing.TB, db *store.DB, comm, requester int64, slots int, p store.Private) int64 {
	t.Helper()
	var id int64
	inTx(t, db, func(tx *store.Tx) error {
		var err error
		id, err = tx.CreateRequest(ctx, store.NewRequest{
			CommunityID: comm, RequesterID: requester, Category: "ride",
			Summary: "ride to the Jewish General", Area: "Mile End",
			StartsAt: 1_800_000_000, EndsAt: 1_800_003_600, MayShare: true,
			Slots: slots, Private: p,
		})
		return err
	})
	return id
}

// slotsOf lists a request's slots.
func slotsOf(t testing.TB, db *store.DB, req int64) []store.Slot {
	t.Helper()
	var ss []store.Slot
	inTx(t, db, func(tx *store.Tx) error {
		var err error
		ss, err = tx.SlotsOfRequest(ctx, req)
		return err
	})
	return ss
}

// slot loads a slot.
func slot(t testing.TB, db *store.DB, id int64) store.Slot {
	t.Helper()
	var s store.Slot
	inTx(t, db, func(tx *store.Tx) error {
		var err error
		s, err = tx.Slot(ctx, id)
		return err
	})
	return s
}

// take claims a place on a slot in its own transaction, returning the claim id or the
// transaction's error unchanged.
func take(db *store.DB, slot, member int64, p store.Private) (int64, error) {
	var id int64
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = tx.TakeSlot(ctx, slot, member, p)
		return err
	})
	return id, err
}
