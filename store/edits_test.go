package store_test

import (
	"errors"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func TestEditRequestMovesItsSlots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		comm := community(t, db, "edits")
		alice := member(t, db, comm, "alice")
		id := request(t, db, comm, alice.ID, 2, store.Private{Address: "12 Rue Rachel"})
		ss := slotsOf(t, db, id)
		// A day slot of a meal train, inside the window, keeps its place from the start.
		if _, err := db.X.Exec(db.X.Rebind(`UPDATE slots SET starts_at = ?, ends_at = ? WHERE id = ?`), 1_800_000_600, 1_800_001_200, ss[1].ID); err != nil {
			t.Fatal(err)
		}
		e := store.RequestEdit{Summary: "ride home", Area: "Villeray", ShowName: true, StartsAt: 1_800_086_400, EndsAt: 1_800_094_000}
		inTx(t, db, func(tx *store.Tx) error { return tx.EditRequest(ctx, id, e) })
		var r store.Request
		inTx(t, db, func(tx *store.Tx) error {
			var err error
			r, err = tx.Request(ctx, id)
			return err
		})
		if r.Summary != e.Summary || r.Area != e.Area || !r.ShowName || r.StartsAt != e.StartsAt || r.EndsAt != e.EndsAt {
			t.Fatalf("request after the edit: %+v", r)
		}
		if s := slot(t, db, ss[0].ID); s.StartsAt != e.StartsAt || s.EndsAt != e.EndsAt {
			t.Fatalf("the whole-window slot: %d–%d", s.StartsAt, s.EndsAt)
		}
		if s := slot(t, db, ss[1].ID); s.StartsAt != 1_800_087_000 || s.EndsAt != 1_800_087_600 {
			t.Fatalf("the day slot: %d–%d", s.StartsAt, s.EndsAt)
		}
	})
}

func TestRescheduleAsks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		comm := community(t, db, "asks")
		alice, bob := member(t, db, comm, "alice"), member(t, db, comm, "bob")
		id := request(t, db, comm, alice.ID, 1, store.Private{})
		claim, err := take(db, slotsOf(t, db, id)[0].ID, bob.ID, store.Private{})
		if err != nil {
			t.Fatal(err)
		}
		var first, second int64
		inTx(t, db, func(tx *store.Tx) error {
			if first, err = tx.AskReschedule(ctx, claim, id, 10, 20, 1, 2); err != nil {
				return err
			}
			second, err = tx.AskReschedule(ctx, claim, id, 30, 40, 10, 20)
			return err
		})
		inTx(t, db, func(tx *store.Tx) error {
			a, err := tx.RescheduleAsk(ctx, first)
			if err != nil || a.State != store.RescheduleSuperseded || !a.AnsweredAt.Valid {
				t.Errorf("first ask: %+v, %v", a, err)
			}
			p, err := tx.PendingReschedule(ctx, claim)
			if err != nil || p.ID != second || p.StartsAt != 30 || p.PrevEndsAt != 20 {
				t.Errorf("pending: %+v, %v", p, err)
			}
			for i, want := range []bool{true, false} {
				if ok, err := tx.AnswerReschedule(ctx, second, store.RescheduleDeclined); err != nil || ok != want {
					t.Errorf("answer %d: %v, %v", i+1, ok, err)
				}
			}
			if ok, err := tx.AnswerReschedule(ctx, first, store.RescheduleConfirmed); err != nil || ok {
				t.Errorf("a superseded ask was answered: %v, %v", ok, err)
			}
			if _, err := tx.PendingReschedule(ctx, claim); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("still pending after the answer: %v", err)
			}
			return nil
		})
	})
}
