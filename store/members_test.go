package store_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func TestCreateMemberIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := community(t, db, "mile-end")
		ev := store.Evidence{Surface: "dm", EventID: "evt-1", Action: "accept"}

		var first, second store.Member
		var created1, created2 bool
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			first, created1, err = tx.CreateMember(ctx, c, "discord", "u-42", "Alice", "fr", "notice-v3", ev)
			return err
		})
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			second, created2, err = tx.CreateMember(ctx, c, "discord", "u-42", "Alice again", "en", "notice-v4", ev)
			return err
		})
		if !created1 || created2 {
			t.Errorf("created = %v then %v, want true then false", created1, created2)
		}
		if first.ID == 0 || second.ID != first.ID {
			t.Fatalf("same identity gave members %d and %d", first.ID, second.ID)
		}
		if second.DisplayName != "Alice" || second.NoticeVersion != "notice-v3" {
			t.Errorf("second accept rewrote the member: %+v", second)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM members WHERE community_id = ?`, c); n != 1 {
			t.Errorf("%d members, want 1", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE member_id = ?`, first.ID); n != 1 {
			t.Errorf("%d identities, want 1", n)
		}

		var cs []store.Consent
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			cs, err = tx.Consents(ctx, first.ID)
			return err
		})
		if len(cs) != 1 || cs[0].Purpose != store.PurposeStoreProfile {
			t.Fatalf("consents = %+v, want exactly one store_profile", cs)
		}
		if cs[0].ScopeRequestID.Valid || cs[0].ScopeMemberID.Valid || cs[0].WithdrawnAt.Valid {
			t.Errorf("store_profile consent is scoped or withdrawn: %+v", cs[0])
		}
		var got store.Evidence
		if err := json.Unmarshal([]byte(cs[0].Evidence), &got); err != nil {
			t.Fatalf("evidence %q: %v", cs[0].Evidence, err)
		}
		if want := (store.Evidence{NoticeVersion: "notice-v3", Surface: "dm", EventID: "evt-1", Action: "accept"}); got != want {
			t.Errorf("evidence = %+v, want %+v", got, want)
		}

		// The same platform user in another community is another member.
		other := community(t, db, "verdun")
		var m store.Member
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			m, _, err = tx.CreateMember(ctx, other, "discord", "u-42", "Alice", "fr", "notice-v3", ev)
			return err
		})
		if m.ID == first.ID {
			t.Error("one identity in two communities shares a member")
		}
	})
}

func TestActiveConsentScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := community(t, db, "mile-end")
		requester := member(t, db, c, "requester")
		bob := member(t, db, c, "bob")
		carol := member(t, db, c, "carol")
		req := request(t, db, c, requester.ID, 1, store.Private{Address: "12 Rue Rachel Est"})
		otherReq := request(t, db, c, requester.ID, 1, store.Private{})

		var shareID int64
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			shareID, err = tx.GrantConsent(ctx, requester.ID, store.PurposeShareDetails, req, bob.ID,
				store.Evidence{Surface: "button", EventID: "accept-bob", Action: "accept_and_share"})
			return err
		})
		// A withdrawn consent for carol on the same request.
		var withdrawnID int64
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			withdrawnID, err = tx.GrantConsent(ctx, requester.ID, store.PurposeShareDetails, req, carol.ID, store.Evidence{Surface: "button"})
			return err
		})
		if _, err := db.X.ExecContext(ctx, db.X.Rebind(`UPDATE consents SET withdrawn_at = ? WHERE id = ?`), 1_800_000_000, withdrawnID); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name     string
			member   int64
			purpose  string
			request  int64
			scopeMem int64
			want     int64 // consent id, 0 for not found
		}{
			{"exact scope", requester.ID, store.PurposeShareDetails, req, bob.ID, shareID},
			{"other helper", requester.ID, store.PurposeShareDetails, req, carol.ID, 0}, // withdrawn
			{"never asked helper", requester.ID, store.PurposeShareDetails, req, requester.ID, 0},
			{"other request", requester.ID, store.PurposeShareDetails, otherReq, bob.ID, 0},
			{"request only", requester.ID, store.PurposeShareDetails, req, 0, 0},
			{"helper only", requester.ID, store.PurposeShareDetails, 0, bob.ID, 0},
			{"unscoped", requester.ID, store.PurposeShareDetails, 0, 0, 0},
			{"other purpose", requester.ID, store.PurposeFollowUp, req, bob.ID, 0},
			{"other member", bob.ID, store.PurposeShareDetails, req, bob.ID, 0},
			{"store_profile unscoped", requester.ID, store.PurposeStoreProfile, 0, 0, -1},
			{"store_profile scoped", requester.ID, store.PurposeStoreProfile, req, bob.ID, 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var got store.Consent
				err := db.InTx(ctx, func(tx *store.Tx) error {
					var err error
					got, err = tx.ActiveConsent(ctx, tc.member, tc.purpose, tc.request, tc.scopeMem)
					return err
				})
				switch {
				case tc.want == 0:
					if !errors.Is(err, store.ErrNotFound) {
						t.Fatalf("ActiveConsent = %+v, %v; want ErrNotFound", got, err)
					}
				case err != nil:
					t.Fatalf("ActiveConsent: %v", err)
				case tc.want > 0 && got.ID != tc.want:
					t.Fatalf("ActiveConsent = consent %d, want %d", got.ID, tc.want)
				case got.Purpose != tc.purpose || got.MemberID != tc.member:
					t.Fatalf("ActiveConsent = %+v", got)
				}
			})
		}
	})
}
