package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// planted is one value in every sealed column, written by the code that seals each, and
// what each must read back as.
type planted struct {
	tag                               string
	request, claim, esc, partner, ref int64
	private                           store.Private
}

func plant(t testing.TB, db *store.DB, comm int64, tag string) planted {
	t.Helper()
	p := planted{tag: tag, private: store.Private{Address: tag + " Rue Rachel Est", Phone: "514-555-0199", Notes: "ring twice"}}
	asker := member(t, db, comm, "asker-"+tag)
	helper := member(t, db, comm, "helper-"+tag)
	p.request = request(t, db, comm, asker.ID, 1, p.private)
	inTx(t, db, func(tx *store.Tx) error {
		ss, err := tx.SlotsOfRequest(ctx, p.request)
		if err != nil {
			return err
		}
		if p.claim, err = tx.TakeSlot(ctx, ss[0].ID, helper.ID, store.Private{Phone: "438-" + tag}); err != nil {
			return err
		}
		if err := tx.SetCodeWord(ctx, p.claim, "heron-"+tag); err != nil {
			return err
		}
		if err := tx.SaveDialogue(ctx, store.Dialogue{Platform: "discord", Workspace: "guild", UserID: "u-" + tag, Form: "ask"}, []byte("answers "+tag)); err != nil {
			return err
		}
		if p.esc, err = tx.OpenEscalation(ctx, store.Escalation{CommunityID: comm, Source: "moderator", Severity: "urgent",
			MemberID: sql.NullInt64{Int64: asker.ID, Valid: true}, HeldForm: "ask"}, []byte("held "+tag)); err != nil {
			return err
		}
		if err := tx.AddCaseEvent(ctx, p.esc, helper.ID, "note", "note "+tag); err != nil {
			return err
		}
		if p.partner, err = tx.SavePartner(ctx, store.Partner{CommunityID: comm, Name: "Partner " + tag, Kind: "grief",
			RouteKind: store.RouteWebhook, WebhookURL: "https://example.org/" + tag}, "secret-"+tag); err != nil {
			return err
		}
		p.ref, err = tx.AddReferral(ctx, store.Referral{EscalationID: p.esc, PartnerID: p.partner, Basis: "emergency",
			ReferredBy: helper.ID, State: store.ReferralAsked}, "reason "+tag)
		return err
	})
	return p
}

// check reads every planted value back through the code that reads it.
func (p planted) check(t testing.TB, db *store.DB) {
	t.Helper()
	inTx(t, db, func(tx *store.Tx) error {
		r, err := tx.Request(ctx, p.request)
		if err != nil {
			return err
		}
		if got, err := tx.RequestPrivate(r); err != nil || got != p.private {
			return fmt.Errorf("request private %+v, %v", got, err)
		}
		c, err := tx.Claim(ctx, p.claim)
		if err != nil {
			return err
		}
		if got, err := tx.ClaimPrivate(c); err != nil || got.Phone != "438-"+p.tag {
			return fmt.Errorf("claim private %+v, %v", got, err)
		}
		if got, err := tx.CodeWord(c); err != nil || got != "heron-"+p.tag {
			return fmt.Errorf("code word %q, %v", got, err)
		}
		if _, got, err := tx.Dialogue(ctx, "discord", "guild", "u-"+p.tag); err != nil || string(got) != "answers "+p.tag {
			return fmt.Errorf("dialogue %q, %v", got, err)
		}
		evs, err := tx.CaseEvents(ctx, p.esc)
		if err != nil || len(evs) != 1 || evs[0].Note != "note "+p.tag {
			return fmt.Errorf("case events %+v, %v", evs, err)
		}
		if got, err := tx.PartnerSecret(ctx, p.partner); err != nil || string(got) != "secret-"+p.tag {
			return fmt.Errorf("partner secret %q, %v", got, err)
		}
		ref, err := tx.Referral(ctx, p.ref)
		if err != nil {
			return err
		}
		if got, err := tx.ReferralReason(ref); err != nil || got != "reason "+p.tag {
			return fmt.Errorf("referral reason %q, %v", got, err)
		}
		// Last: releasing the held form empties it.
		if _, got, ok, err := tx.Release(ctx, p.esc); err != nil || !ok || string(got) != "held "+p.tag {
			return fmt.Errorf("held form %q, %v, %v", got, ok, err)
		}
		return nil
	})
}

// open opens dsn with the given master keys, migrated, closed when t ends.
func open(t testing.TB, dsn string, master []byte, older ...[]byte) *store.DB {
	t.Helper()
	kr, err := store.NewKeyring(master, older...)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn, kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db.SetKeyRefresh(20 * time.Millisecond)
	return db
}

// fast are rotation options for tests: small batches, a short grace period.
func fast(progress func(store.RotateEvent)) store.RotateOptions {
	return store.RotateOptions{Batch: 7, Grace: 100 * time.Millisecond, Progress: progress}
}

func dataKey(t testing.TB, db *store.DB, id string) store.DataKey {
	t.Helper()
	ks, err := db.DataKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("no data key %s", id)
	return store.DataKey{}
}

// TestRotationWhileClaiming is the test: a rotation runs while 100 people ask
// and claim at once through another connection pool (another process's view of the
// keys). Afterwards every sealed value opens, none is under an older key, and the older
// data key is retired with its material erased.
func TestRotationWhileClaiming(t *testing.T) {
	const n = 100
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		dsn := storetest.DSN(t, eng)
		bot := open(t, dsn, storetest.Key())
		ops := open(t, dsn, storetest.Key())
		c := community(t, bot, "rot")
		var before []planted
		for i := 0; i < 3; i++ {
			before = append(before, plant(t, bot, c, fmt.Sprintf("a%d", i)))
		}
		// A first rotation moves everything off the master key onto data key one.
		first, err := ops.RotateKeys(ctx, fast(nil))
		if err != nil || !first.Finished || !first.Started {
			t.Fatalf("first rotation: %+v, %v", first, err)
		}
		before = append(before, plant(t, bot, c, "b0"))
		requester := member(t, bot, c, "requester")
		helpers := members(t, bot, c, "helper", n)

		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				errs[i] = askAndClaim(bot, c, requester.ID, helpers[i], before[i%len(before)], i)
			}(i)
		}
		var second store.RotateResult
		var rotErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			second, rotErr = ops.RotateKeys(ctx, fast(nil))
		}()
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("person %d: %v", i, err)
			}
		}
		if rotErr != nil || !second.Finished || second.Current == first.Current {
			t.Fatalf("second rotation: %+v, %v", second, rotErr)
		}
		t.Logf("second rotation: %d passes, %d values moved", second.Passes, second.Moved)
		if k := storetest.Count(t, bot, `SELECT COUNT(*) FROM claims`); k != n+len(before) {
			t.Errorf("%d claims, want %d", k, n+len(before))
		}

		// A process that starts now knows only the master key and the database.
		fresh := open(t, dsn, storetest.Key())
		byKey := sealedValues(t, fresh)
		if len(byKey) != 1 || byKey[second.Current] < 3*n {
			t.Errorf("values per key %v; want all under %s", byKey, second.Current)
		}
		old := dataKey(t, fresh, first.Current)
		if old.State != store.KeyRetired || old.Wrapped != nil || !old.RetiredAt.Valid {
			t.Errorf("old data key: state %s, %d bytes of material, retired at %v", old.State, len(old.Wrapped), old.RetiredAt)
		}
		if second.Retired == nil || second.Retired[0] != first.Current {
			t.Errorf("retired %v, want %s", second.Retired, first.Current)
		}
		for _, p := range before {
			p.check(t, fresh)
		}
		// The running process follows without a restart.
		if _, kid, err := bot.Keys.Seal([]byte("x"), "probe"); err != nil || kid != second.Current {
			t.Errorf("the bot seals with %s (%v), want %s", kid, err, second.Current)
		}
		if k := storetest.Count(t, fresh, `SELECT COUNT(*) FROM audit_log WHERE action = 'keys.rotated'`); k != 2 {
			t.Errorf("%d audit rows for two rotations, want 2", k)
		}
		if k := storetest.Count(t, fresh, `SELECT COUNT(*) FROM audit_log WHERE action = 'keys.rotated' AND subject = ? AND detail LIKE ?`,
			"key:"+second.Current, "retired="+first.Current+"%"); k != 1 {
			t.Errorf("the second rotation's audit row does not name the retired key")
		}
	})
}

// askAndClaim is one person's ask, claim and code word, and a read of an older value,
// each in its own transaction as the flows do.
func askAndClaim(db *store.DB, comm, requester, helper int64, old planted, i int) error {
	want := store.Private{Address: fmt.Sprintf("%d Av. du Parc", i), Phone: "514-555-0100"}
	var req int64
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		req, err = tx.CreateRequest(ctx, store.NewRequest{CommunityID: comm, RequesterID: requester, Category: "ride",
			Summary: "ride", Area: "Mile End", StartsAt: 1_800_000_000, EndsAt: 1_800_003_600, Slots: 1, Private: want})
		return err
	})
	if err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		ss, err := tx.SlotsOfRequest(ctx, req)
		if err != nil {
			return err
		}
		claim, err := tx.TakeSlot(ctx, ss[0].ID, helper, store.Private{Phone: fmt.Sprint("438-", i)})
		if err != nil {
			return err
		}
		return tx.SetCodeWord(ctx, claim, fmt.Sprint("word-", i))
	})
	if err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		for _, id := range []int64{req, old.request} {
			r, err := tx.Request(ctx, id)
			if err != nil {
				return err
			}
			got, err := tx.RequestPrivate(r)
			if err != nil {
				return fmt.Errorf("read request %d: %w", id, err)
			}
			if id == req && got != want || id == old.request && got != old.private {
				return fmt.Errorf("request %d reads %+v", id, got)
			}
		}
		return nil
	})
}

// TestRotationResumes stops a rotation part way, as a crash would, and runs it again
// from a new process: it resumes the same rotation instead of starting another.
func TestRotationResumes(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		dsn := storetest.DSN(t, eng)
		db := open(t, dsn, storetest.Key())
		c := community(t, db, "resume")
		var ps []planted
		for i := 0; i < 20; i++ {
			ps = append(ps, plant(t, db, c, fmt.Sprint("p", i)))
		}
		cctx, cancel := context.WithCancel(ctx)
		var events []store.RotateEvent
		opts := fast(func(e store.RotateEvent) {
			events = append(events, e)
			// Stop once the first column is done, before the next one starts.
			if e.Kind == store.RotateColumn {
				cancel()
			}
		})
		res, err := db.RotateKeys(cctx, opts)
		cancel()
		if !errors.Is(err, context.Canceled) || res.Finished {
			t.Fatalf("interrupted rotation: %+v, %v", res, err)
		}
		if len(events) < 2 || events[1].Column != "requests.private" || events[1].Count != 20 {
			t.Fatalf("events %+v", events)
		}
		st, err := db.KeyStatus(ctx)
		if err != nil || st.Rotation == nil || st.Rotation.NewKey != res.Current {
			t.Fatalf("status after the interruption: rotation %+v, %v", st.Rotation, err)
		}
		byKey := sealedValues(t, db)
		if byKey[res.Current] != 20 || byKey[db.Keys.MasterID()] == 0 {
			t.Fatalf("values per key after the interruption %v", byKey)
		}

		again := open(t, dsn, storetest.Key())
		res2, err := again.RotateKeys(ctx, fast(nil))
		if err != nil || !res2.Resumed || res2.Started || !res2.Finished || res2.Current != res.Current {
			t.Fatalf("resumed rotation: %+v, %v", res2, err)
		}
		if k := storetest.Count(t, again, `SELECT COUNT(*) FROM data_keys`); k != 1 {
			t.Errorf("%d data keys, want the one the rotation made", k)
		}
		if byKey := sealedValues(t, again); len(byKey) != 1 || byKey[res.Current] == 0 {
			t.Errorf("values per key after resuming %v", byKey)
		}
		for _, p := range ps {
			p.check(t, again)
		}
		// Done: the next run starts a new rotation.
		res3, err := again.RotateKeys(ctx, fast(nil))
		if err != nil || !res3.Started || res3.Current == res.Current || res3.Retired[0] != res.Current {
			t.Fatalf("next rotation: %+v, %v", res3, err)
		}
	})
}
