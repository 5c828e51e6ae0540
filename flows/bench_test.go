package flows_test

import (
	"context"
	"testing"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// BenchmarkClaimFlow is the claim flow alone (flows.Service.Claim: its transaction, the
// conditional slot update, the claim and audit rows, the cards it returns), on SQLite,
// each press on a fresh request. It reports; it asserts only that every press claimed.
func BenchmarkClaimFlow(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	h := bottest.New(b, db, "en")
	h.Join("alice")
	h.Volunteer("bob", "meal", "any", "any")
	ctx := context.Background()
	var alice, bob store.Member
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if alice, err = tx.MemberByIdentity(ctx, h.Community, bottest.Platform, "alice"); err != nil {
			return err
		}
		if bob, err = tx.MemberByIdentity(ctx, h.Community, bottest.Platform, "bob"); err != nil {
			return err
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	slots := h.OpenRequests(alice.ID, b.N)
	f := h.App.Flows()
	actor := flows.Actor{CommunityID: h.Community, MemberID: bob.ID, Platform: bottest.Platform, UserID: "bob", Name: "Bob",
		Locale: "en", EventID: "bench", Surface: bottest.Platform}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := f.Claim(ctx, actor, slots[i])
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Outs) < 3 {
			b.Fatalf("press %d claimed nothing: %+v", i, res.Outs)
		}
	}
	b.StopTimer()
	var n int
	if err := db.X.Get(&n, `SELECT COUNT(*) FROM claims`); err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("claims = %d, want %d", n, b.N)
	}
}
