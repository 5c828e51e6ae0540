package store_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func TestCreateRequestSealsPrivate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := community(t, db, "mile-end")
		alice := member(t, db, c, "alice")

		tests := []struct {
			name    string
			private store.Private
			slots   int
		}{
			{"address and phone", store.Private{Address: "12 Rue Rachel Est", Phone: "514-555-0199", Notes: "wheelchair, ring twice"}, 1},
			{"nothing private", store.Private{}, 1},
			{"meal train", store.Private{Address: "4500 Av. du Parc"}, 5},
			{"zero slots means one", store.Private{Phone: "438-555-0100"}, 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id := request(t, db, c, alice.ID, tc.slots, tc.private)

				var raw struct {
					CT  []byte  `db:"private_ct"`
					KID *string `db:"private_key_id"`
				}
				if err := db.X.GetContext(ctx, &raw, db.X.Rebind(`SELECT private_ct, private_key_id FROM requests WHERE id = ?`), id); err != nil {
					t.Fatal(err)
				}
				if tc.private.Empty() {
					if len(raw.CT) != 0 || raw.KID != nil {
						t.Errorf("empty private part stored as %d bytes, key %v", len(raw.CT), raw.KID)
					}
				} else {
					if len(raw.CT) == 0 || raw.KID == nil || *raw.KID != db.Keys.CurrentID() {
						t.Fatalf("private part stored as %d bytes with key %v, want sealed with %s", len(raw.CT), raw.KID, db.Keys.CurrentID())
					}
					for _, s := range []string{tc.private.Address, tc.private.Phone, tc.private.Notes} {
						if s != "" && bytes.Contains(raw.CT, []byte(s)) {
							t.Errorf("private_ct contains %q in clear", s)
						}
					}
				}

				var got store.Private
				var r store.Request
				inTx(t, db, func(tx *store.Tx) error {
					var err error
					if r, err = tx.Request(ctx, id); err != nil {
						return err
					}
					got, err = tx.RequestPrivate(r)
					return err
				})
				if got != tc.private {
					t.Errorf("RequestPrivate = %+v, want %+v", got, tc.private)
				}
				if r.Status != "open" || r.Summary != "ride to the Jewish General" {
					t.Errorf("request = %+v", r)
				}

				want := tc.slots
				if want < 1 {
					want = 1
				}
				ss := slotsOf(t, db, id)
				if len(ss) != want {
					t.Fatalf("%d slots, want %d", len(ss), want)
				}
				for _, s := range ss {
					if s.Capacity != 1 || s.Taken != 0 || !s.RequestID.Valid || s.RequestID.Int64 != id || s.OfferID.Valid {
						t.Errorf("slot = %+v", s)
					}
				}
			})
		}

		// A sealed part moved to another row does not open there.
		a := request(t, db, c, alice.ID, 1, store.Private{Address: "12 Rue Rachel Est"})
		b := request(t, db, c, alice.ID, 1, store.Private{})
		if _, err := db.X.ExecContext(ctx, db.X.Rebind(`UPDATE requests SET private_ct = (SELECT private_ct FROM requests WHERE id = ?), private_key_id = (SELECT private_key_id FROM requests WHERE id = ?) WHERE id = ?`), a, a, b); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			r, err := tx.Request(ctx, b)
			if err != nil {
				return err
			}
			_, err = tx.RequestPrivate(r)
			return err
		})
		if err == nil {
			t.Error("a private part copied to another request opened there")
		}
	})
}

func TestTakeSlotAndMoveClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := community(t, db, "mile-end")
		alice := member(t, db, c, "alice")
		bob := member(t, db, c, "bob")
		carol := member(t, db, c, "carol")
		req := request(t, db, c, alice.ID, 1, store.Private{Address: "12 Rue Rachel Est"})
		s := slotsOf(t, db, req)[0]

		claim, err := take(db, s.ID, bob.ID, store.Private{})
		if err != nil {
			t.Fatalf("bob takes the free slot: %v", err)
		}
		if got := slot(t, db, s.ID).Taken; got != 1 {
			t.Fatalf("taken = %d after one claim, want 1", got)
		}

		steps := []struct {
			name   string
			member int64
			want   error
		}{
			{"second member", carol.ID, store.ErrSlotFull},
			{"same member again", bob.ID, store.ErrAlreadyClaimed},
		}
		for _, st := range steps {
			if _, err := take(db, s.ID, st.member, store.Private{}); !errors.Is(err, st.want) {
				t.Errorf("%s: TakeSlot = %v, want %v", st.name, err, st.want)
			}
		}
		if got := slot(t, db, s.ID).Taken; got != 1 {
			t.Fatalf("taken = %d after refused claims, want 1", got)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE slot_id = ?`, s.ID); n != 1 {
			t.Fatalf("%d claim rows, want 1", n)
		}

		move := func(to string, from ...string) bool {
			t.Helper()
			var moved bool
			inTx(t, db, func(tx *store.Tx) error {
				var err error
				moved, err = tx.MoveClaim(ctx, claim, to, from...)
				return err
			})
			return moved
		}
		if !move(store.ClaimDeclined, store.ClaimOffered) {
			t.Fatal("MoveClaim offered -> declined did not move")
		}
		if got := slot(t, db, s.ID).Taken; got != 0 {
			t.Fatalf("taken = %d after declining, want 0", got)
		}
		if move(store.ClaimDeclined, store.ClaimOffered) {
			t.Fatal("a second MoveClaim from offered moved a declined claim")
		}
		if got := slot(t, db, s.ID).Taken; got != 0 {
			t.Fatalf("taken = %d after the repeated decline, want 0", got)
		}
		inTx(t, db, func(tx *store.Tx) error {
			cl, err := tx.Claim(ctx, claim)
			if err != nil {
				return err
			}
			if cl.State != store.ClaimDeclined {
				t.Errorf("claim state = %s, want declined", cl.State)
			}
			return nil
		})

		// The place is free again: carol takes it, and bob, declined, may ask again
		// only once it is free.
		carolClaim, err := take(db, s.ID, carol.ID, store.Private{})
		if err != nil {
			t.Fatalf("carol takes the released slot: %v", err)
		}
		if _, err := take(db, s.ID, bob.ID, store.Private{}); !errors.Is(err, store.ErrSlotFull) {
			t.Errorf("bob after carol: %v, want ErrSlotFull", err)
		}

		// Live to live keeps the place; live to done keeps it too.
		inTx(t, db, func(tx *store.Tx) error {
			if ok, err := tx.MoveClaim(ctx, carolClaim, store.ClaimAccepted, store.ClaimOffered); err != nil || !ok {
				t.Errorf("accept: %v, %v", ok, err)
			}
			if ok, err := tx.MoveClaim(ctx, carolClaim, store.ClaimDone, store.ClaimAccepted); err != nil || !ok {
				t.Errorf("done: %v, %v", ok, err)
			}
			return nil
		})
		if got := slot(t, db, s.ID).Taken; got != 1 {
			t.Errorf("taken = %d after accept and done, want 1", got)
		}
		inTx(t, db, func(tx *store.Tx) error {
			if _, err := tx.MoveClaim(ctx, 1<<40, store.ClaimDeclined); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("MoveClaim of a missing claim: %v, want ErrNotFound", err)
			}
			return nil
		})
	})
}

func TestOfferSlotCapacity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := community(t, db, "mile-end")
		vol := member(t, db, c, "volunteer")
		joiners := members(t, db, c, "joiner", 5)

		var offer, slotID int64
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			offer, slotID, err = tx.CreateOffer(ctx, store.Offer{CommunityID: c, VolunteerID: vol.ID, Category: "grief circle",
				Summary: "grief circle Thursday 7pm", Area: "Mile End", StartsAt: 1_800_000_000, EndsAt: 1_800_007_200}, 3)
			return err
		})
		s := slot(t, db, slotID)
		if s.Capacity != 3 || s.Taken != 0 || !s.OfferID.Valid || s.OfferID.Int64 != offer || s.RequestID.Valid {
			t.Fatalf("offer slot = %+v", s)
		}

		shared := store.Private{Phone: "514-555-0199", Notes: "uses a cane"}
		want := []error{nil, nil, nil, store.ErrSlotFull, store.ErrSlotFull}
		var claims []int64
		for i, m := range joiners {
			id, err := take(db, slotID, m, shared)
			if !errors.Is(err, want[i]) {
				t.Fatalf("joiner %d: TakeSlot = %v, want %v", i, err, want[i])
			}
			if err == nil {
				claims = append(claims, id)
			}
		}
		if got := slot(t, db, slotID).Taken; got != 3 {
			t.Fatalf("taken = %d, want 3", got)
		}
		inTx(t, db, func(tx *store.Tx) error {
			live, err := tx.LiveClaimsOnSlot(ctx, slotID)
			if err != nil {
				return err
			}
			if len(live) != 3 {
				t.Errorf("%d live claims, want 3", len(live))
			}
			for _, cl := range live {
				if bytes.Contains(cl.PrivateCT, []byte(shared.Phone)) {
					t.Errorf("claim %d stores the phone in clear", cl.ID)
				}
				p, err := tx.ClaimPrivate(cl)
				if err != nil || p != shared {
					t.Errorf("ClaimPrivate(%d) = %+v, %v; want %+v", cl.ID, p, err, shared)
				}
			}
			// Someone withdraws: a place opens for the next joiner.
			ok, err := tx.MoveClaim(ctx, claims[0], store.ClaimWithdrawn, store.LiveStates...)
			if err != nil || !ok {
				t.Errorf("withdraw: %v, %v", ok, err)
			}
			return nil
		})
		if _, err := take(db, slotID, joiners[3], store.Private{}); err != nil {
			t.Errorf("joiner after a withdrawal: %v", err)
		}
		if _, err := take(db, slotID, joiners[4], store.Private{}); !errors.Is(err, store.ErrSlotFull) {
			t.Errorf("joiner beyond capacity: %v, want ErrSlotFull", err)
		}
		if got := slot(t, db, slotID).Taken; got != 3 {
			t.Errorf("taken = %d, want 3", got)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE slot_id = ? AND state IN ('offered', 'accepted', 'done')`, slotID); n != 3 {
			t.Errorf("%d live claim rows, want 3", n)
		}
	})
}
