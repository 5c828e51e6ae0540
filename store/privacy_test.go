package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestPrivateAtRest writes private details through every sealed path and then reads the
// raw SQLite files (database, -wal, -shm): the details must not be there in clear. The
// public summary must be, which shows the scan reads the real data.
func TestPrivateAtRest(t *testing.T) {
	const (
		address = "12 Rue Rachel Est"
		phone   = "514-555-0199"
		summary = "ride to the Jewish General"
	)
	dsn := storetest.DSN(t, store.SQLite)
	path := storetest.SQLitePath(dsn)
	db, err := store.Open(ctx, dsn, storetest.Keys(t))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			db.Close()
		}
	}()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	c := community(t, db, "mile-end")
	alice := member(t, db, c, "alice")
	bob := member(t, db, c, "bob")
	private := store.Private{Address: address, Phone: phone, Notes: "buzzer 3"}
	request(t, db, c, alice.ID, 1, private) // summary is the helper's public text
	inTx(t, db, func(tx *store.Tx) error {
		_, slotID, err := tx.CreateOffer(ctx, store.Offer{CommunityID: c, VolunteerID: bob.ID, Category: "ride",
			Summary: "spare seat Tuesday", Area: "Mile End", StartsAt: 1_800_000_000, EndsAt: 1_800_003_600}, 2)
		if err != nil {
			return err
		}
		if _, err := tx.TakeSlot(ctx, slotID, alice.ID, private); err != nil {
			return err
		}
		return tx.SaveDialogue(ctx, store.Dialogue{Platform: "discord", Workspace: "g1", UserID: "alice", Form: "ask", Step: 2},
			[]byte(`{"address":"`+address+`","phone":"`+phone+`"}`))
	})

	scan := func(when string, wantWAL bool) {
		t.Helper()
		files, err := filepath.Glob(path + "*")
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		var names []string
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, filepath.Base(f))
			all = append(all, b...)
			for _, secret := range []string{address, phone} {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s: %s contains %q in clear", when, filepath.Base(f), secret)
				}
			}
		}
		if wantWAL && !contains(names, filepath.Base(path)+"-wal") {
			t.Errorf("%s: no -wal file among %v; the scan would miss the write-ahead log", when, names)
		}
		if !bytes.Contains(all, []byte(summary)) {
			t.Errorf("%s: the public summary is not in %v either; the scan is not reading the data", when, names)
		}
	}
	scan("while open", true) // committed pages are still in the write-ahead log
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	scan("after close", false) // closing checkpoints the log into the database file
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
