package store_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestTakeSlotRace is the claim race: a thousand people press "I can help" on the same
// one-place slot at the same moment. The database, not the application, must let exactly
// one through, and everyone else must get a clean ErrSlotFull: no lock errors, no
// over-claim, no second claim row. It runs with the production pool settings of each
// engine.
func TestTakeSlotRace(t *testing.T) {
	const n = 1000
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := community(t, db, "race")
		requester := member(t, db, c, "requester")
		helpers := members(t, db, c, "helper", n)
		req := request(t, db, c, requester.ID, 1, store.Private{Address: "12 Rue Rachel Est"})
		slotID := slotsOf(t, db, req)[0].ID

		errs := make([]error, n)
		var ready, done sync.WaitGroup
		start := make(chan struct{})
		ready.Add(n)
		done.Add(n)
		for i := 0; i < n; i++ {
			go func(i int) {
				defer done.Done()
				ready.Done()
				<-start
				errs[i] = db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.TakeSlot(ctx, slotID, helpers[i], store.Private{})
					return err
				})
			}(i)
		}
		ready.Wait()
		close(start)
		done.Wait()

		var won, full int
		other := map[string]int{}
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrSlotFull):
				full++
			default:
				other[err.Error()]++
			}
		}
		for msg, k := range other {
			t.Errorf("%d goroutines failed with: %s", k, msg)
		}
		if won != 1 || full != n-1 {
			t.Errorf("%d succeeded and %d got ErrSlotFull; want 1 and %d", won, full, n-1)
		}
		if got := slot(t, db, slotID).Taken; got != 1 {
			t.Errorf("slot.taken = %d, want 1", got)
		}
		if k := storetest.Count(t, db, `SELECT COUNT(*) FROM claims WHERE slot_id = ?`, slotID); k != 1 {
			t.Errorf("%d claim rows on the slot, want 1", k)
		}
	})
}
