package store_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// namesMember says whether a column's name marks it as holding a member id, with or
// without a foreign key.
func namesMember(col string) bool {
	table, c, _ := strings.Cut(col, ".")
	if strings.HasPrefix(table, "river_") {
		return false // the job queue's own tables
	}
	for _, suffix := range []string{"member_id", "_by", "requester_id", "volunteer_id", "reporter_id", "actor_id"} {
		if strings.HasSuffix(c, suffix) {
			return true
		}
	}
	return false
}

// TestMergeCoversEveryMemberColumn fails when the schema gains a column that names a
// member (a foreign key to members, or a name such as *_member_id or *_by) that a merge
// of two members does not move, and when the merge lists a column that is gone.
func TestMergeCoversEveryMemberColumn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		moved, kept := store.MergedColumns()
		handled := append(append([]string(nil), moved...), kept...)
		fks := storetest.ForeignKeys(t, db, "members")
		if len(fks) < 10 {
			t.Fatalf("found only %d foreign keys to members (%v); the schema query is not seeing them", len(fks), fks)
		}
		for _, c := range fks {
			if !slices.Contains(handled, c) {
				t.Errorf("%s references members(id) but MergeMember does not move it: add it to memberColumns in store/merge.go", c)
			}
		}
		cols := storetest.Columns(t, db)
		for _, c := range cols {
			if namesMember(c) && !slices.Contains(handled, c) {
				t.Errorf("%s looks like a member id but MergeMember does not move it: add it to memberColumns (or notMemberColumns) in store/merge.go", c)
			}
		}
		for _, c := range handled {
			if !slices.Contains(cols, c) {
				t.Errorf("store/merge.go lists %s, which is not in the schema", c)
			}
		}
	})
}

// TestMergeMovesHistory gives member "from" a row in every column a merge moves, merges
// it into "into", and checks that nothing names "from" any more, that the fuller
// volunteer profile was kept, that a slot both held is held once, and that a partner's
// id that happens to equal "from" is left alone.
func TestMergeMovesHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := community(t, db, "merge")
		into, from, other := member(t, db, c, "anna"), member(t, db, c, "anna-slack"), member(t, db, c, "carl")
		A, B, C := into.ID, from.ID, other.ID
		reqA := request(t, db, c, A, 1, store.Private{Address: "1 Rue A"})
		reqB := request(t, db, c, B, 1, store.Private{Address: "2 Rue B"})
		reqC := request(t, db, c, C, 1, store.Private{})
		// Both hold a place on carl's two-place request.
		if _, err := db.X.Exec(db.X.Rebind(`UPDATE slots SET capacity = 2 WHERE request_id = ?`), reqC); err != nil {
			t.Fatal(err)
		}
		slotC := slotsOf(t, db, reqC)[0].ID
		if _, err := take(db, slotC, A, store.Private{}); err != nil {
			t.Fatal(err)
		}
		if _, err := take(db, slotC, B, store.Private{}); err != nil {
			t.Fatal(err)
		}
		if _, err := take(db, slotsOf(t, db, reqA)[0].ID, B, store.Private{}); err != nil {
			t.Fatal(err)
		}
		var partnerConsent int64
		inTx(t, db, func(tx *store.Tx) error {
			must := func(_ any, err error) {
				if err != nil {
					t.Fatal(err)
				}
			}
			must(tx.GrantConsent(ctx, A, store.PurposeShareDetails, reqA, B, store.Evidence{Surface: "test"}))
			var err error
			partnerConsent, err = tx.GrantScopedConsent(ctx, C, store.PurposeShareWithPartner, store.Scope{Member: B}, store.Evidence{Surface: "test"})
			must(nil, err)
			must(tx.SaveVolunteerProfile(ctx, store.VolunteerProfile{MemberID: A, Categories: "meal", Areas: "any", Availability: "any"}))
			must(tx.SaveVolunteerProfile(ctx, store.VolunteerProfile{MemberID: B, Categories: "ride,meal", Areas: "Mile End,Outremont", Availability: "mon,tue"}))
			must(tx.AddVetting(ctx, store.Vetting{MemberID: B, Step: "interview", VerifiedBy: sql.NullInt64{Int64: C, Valid: true}, VerifiedAt: tx.Now()}))
			must(tx.AddVetting(ctx, store.Vetting{MemberID: C, Step: "interview", VerifiedBy: sql.NullInt64{Int64: B, Valid: true}, VerifiedAt: tx.Now()}))
			_, _, err = tx.CreateOffer(ctx, store.Offer{CommunityID: c, VolunteerID: B, Category: "ride", Summary: "seat", Area: "x", StartsAt: 1_800_000_000, EndsAt: 1_800_003_600}, 2)
			must(nil, err)
			must(tx.AddDisclosure(ctx, store.Disclosure{CommunityID: c, SubjectMemberID: B, ViewerMemberID: C, Fields: "address", Basis: "consent"}))
			must(tx.AddDisclosure(ctx, store.Disclosure{CommunityID: c, SubjectMemberID: C, ViewerMemberID: B, Fields: "address", Basis: "consent"}))
			id := func(n int64) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: true} }
			caseID, err := tx.OpenEscalation(ctx, store.Escalation{CommunityID: c, Source: "flag", Severity: "normal", MemberID: id(B),
				ReporterID: id(B), SubjectKind: "member", SubjectID: id(B)}, nil)
			must(nil, err)
			must(tx.Acknowledge(ctx, caseID, B))
			must(tx.SetCaseStatus(ctx, caseID, B, store.CaseResolved))
			must(nil, tx.AddCaseEvent(ctx, caseID, B, "note", ""))
			p, err := tx.SavePartner(ctx, store.Partner{CommunityID: c, Name: "CLSC", Kind: "social_work", RouteKind: store.RouteChannel,
				RoutePlatform: "discord", RouteWorkspace: "guild-merge", RouteChannel: "p"}, "")
			must(nil, err)
			must(tx.AddReferral(ctx, store.Referral{EscalationID: caseID, PartnerID: p, MemberID: id(B), Basis: "consent", ReferredBy: B, State: store.ReferralAsked}, ""))
			must(nil, tx.Suspend(ctx, B, C, 0))
			must(nil, tx.Suspend(ctx, C, B, tx.Now()+3600))
			must(tx.CreateBeneficiary(ctx, c, B, store.Person{Name: "Mum"}, "en", store.Evidence{Surface: "test"}))
			must(tx.IssueLinkCode(ctx, store.LinkCode{CommunityID: c, MemberID: B, Platform: "discord", PlatformUserID: "anna-slack", ExpiresAt: tx.Now() + 600}, "CODE-1"))
			must(tx.LinkAccount(ctx, c, B, "slack", "U-ANNA"))
			must(nil, tx.Audit(ctx, c, B, "test.action", "member:1", ""))
			must(tx.AddDeparture(ctx, store.Departure{CommunityID: c, MemberID: B, LeftAt: tx.Now()}))
			_, _, err = tx.NewJoinCode(ctx, c, B)
			must(nil, err)
			must(tx.Enqueue(ctx, store.OutboxRow{IdemKey: "k1", Platform: "discord", Workspace: "guild-merge", DestKind: "dm", UserID: "anna-slack",
				MemberID: id(B), Lang: "en", Card: "{}"}))
			return nil
		})

		moved, _ := store.MergedColumns()
		for _, col := range moved {
			table, column, _ := strings.Cut(col, ".")
			if n := storetest.Count(t, db, `SELECT COUNT(*) FROM `+table+` WHERE `+column+` = ?`, B); n == 0 {
				t.Errorf("the fixture has no row with %s = from; give it one so the merge of that column is tested", col)
			}
		}
		takenBefore := slot(t, db, slotC).Taken

		var kept string
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			kept, err = tx.MergeMember(ctx, B, A)
			return err
		})

		if kept != "from" {
			t.Errorf("profile kept = %q, want the fuller one, from", kept)
		}
		for _, col := range storetest.ForeignKeys(t, db, "members") {
			table, column, _ := strings.Cut(col, ".")
			if n := storetest.Count(t, db, `SELECT COUNT(*) FROM `+table+` WHERE `+column+` = ?`, B); n != 0 {
				t.Errorf("%s still names the merged member in %d rows", col, n)
			}
		}
		for _, q := range []string{
			`SELECT COUNT(*) FROM audit_log WHERE actor_member_id = ?`,
			`SELECT COUNT(*) FROM outbox WHERE member_id = ?`,
			`SELECT COUNT(*) FROM escalations WHERE subject_kind = 'member' AND subject_id = ?`,
			`SELECT COUNT(*) FROM consents WHERE purpose <> 'share_with_partner' AND scope_member_id = ?`,
			`SELECT COUNT(*) FROM members WHERE id = ?`,
		} {
			if n := storetest.Count(t, db, q, B); n != 0 {
				t.Errorf("%s: %d rows still name the merged member", q, n)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM consents WHERE id = ? AND scope_member_id = ?`, partnerConsent, B); n != 1 {
			t.Error("a partner's id in a share_with_partner consent was changed as if it were a member")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE member_id = ?`, A); n != 3 {
			t.Errorf("identities of the merged member = %d, want 3 (discord twice, slack)", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE requester_id = ? AND id IN (?, ?)`, A, reqA, reqB); n != 2 {
			t.Errorf("requests of the merged member = %d, want 2", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM volunteer_profiles WHERE member_id = ? AND categories = 'ride,meal'`, A); n != 1 {
			t.Error("the fuller volunteer profile was not kept")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE slot_id = ? AND member_id = ? AND state IN ('offered', 'accepted', 'done')`, slotC, A); n != 1 {
			t.Errorf("live claims of the merged member on one slot = %d, want 1", n)
		}
		if got := slot(t, db, slotC).Taken; got != takenBefore-1 {
			t.Errorf("slot taken = %d after merging two claims on it, want %d", got, takenBefore-1)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM suspensions WHERE member_id = ? AND until_at IS NULL`, A); n != 1 {
			t.Error("the merged member's suspension did not carry over")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM link_codes WHERE member_id = ? AND state IN ('pending', 'entered')`, A); n != 0 {
			t.Error("the merged member's pending link code survived the merge")
		}
	})
}
