package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func keyInfo(t testing.TB, st store.KeysStatus, id string) store.KeyInfo {
	t.Helper()
	for _, k := range st.Keys {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("status lacks key %s: %+v", id, st.Keys)
	return store.KeyInfo{}
}

func uses(k store.KeyInfo) map[string]int {
	m := map[string]int{}
	for _, u := range k.Values {
		m[u.Column] = u.Count
	}
	return m
}

// TestKeyStatus counts values per key and column before and after a rotation, and
// reports a key id it does not know instead of failing; a rotation leaves such values
// where they are and says so.
func TestKeyStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		db.SetKeyRefresh(20 * time.Millisecond)
		c := community(t, db, "status")
		plant(t, db, c, "a")
		plant(t, db, c, "b")
		// A request without private details holds nothing.
		request(t, db, c, member(t, db, c, "quiet").ID, 1, store.Private{})

		st, err := db.KeyStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Columns) != len(store.SealedColumns()) || st.Rotation != nil {
			t.Errorf("columns %v, rotation %+v", st.Columns, st.Rotation)
		}
		m := keyInfo(t, st, db.Keys.MasterID())
		want := map[string]int{"requests.private": 2, "claims.private": 2, "claims.code": 2, "dialogues.answers": 2,
			"escalations.held": 2, "escalation_events.note": 2, "partners.webhook_secret": 2, "referrals.reason": 2}
		if m.Kind != store.KindMaster || !m.Sealing || m.Total != 16 || !equalCounts(uses(m), want) {
			t.Errorf("master before rotation: %+v", m)
		}

		res, err := db.RotateKeys(ctx, fast(nil))
		if err != nil {
			t.Fatal(err)
		}
		// One value under a key nobody knows, as a restore mixed with another database's
		// rows would leave.
		if _, err := db.X.ExecContext(ctx, db.X.Rebind(`UPDATE claims SET code_key_id = 'deadbeef' WHERE id = (SELECT MIN(id) FROM claims)`)); err != nil {
			t.Fatal(err)
		}
		st, err = db.KeyStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m := keyInfo(t, st, db.Keys.MasterID()); m.Sealing || m.Total != 0 || m.Wraps != 1 {
			t.Errorf("master after rotation: %+v", m)
		}
		d := keyInfo(t, st, res.Current)
		want["claims.code"] = 1
		if d.Kind != store.KindData || d.State != store.KeyCurrent || !d.Sealing || d.Total != 15 || !equalCounts(uses(d), want) ||
			d.WrappedBy != db.Keys.MasterID() || d.Problem != "" {
			t.Errorf("data key: %+v", d)
		}
		u := keyInfo(t, st, "deadbeef")
		if u.Kind != store.KindUnknown || u.Total != 1 || uses(u)["claims.code"] != 1 {
			t.Errorf("unknown key: %+v", u)
		}

		// The next rotation moves what it can and names what it cannot.
		res2, err := db.RotateKeys(ctx, fast(nil))
		if !errors.Is(err, store.ErrRotationStuck) || len(res2.Stuck) != 1 || res2.Stuck[0].KeyID != "deadbeef" ||
			res2.Stuck[0].Column != "claims.code" || res2.Stuck[0].Count != 1 || res2.Finished {
			t.Fatalf("rotation with an unknown key: %+v, %v", res2, err)
		}
		if len(res2.Retired) != 1 || res2.Retired[0] != res.Current {
			t.Errorf("retired %v: the older data key holds nothing and should go", res2.Retired)
		}
		st, err = db.KeyStatus(ctx)
		if err != nil || st.Rotation == nil || keyInfo(t, st, res2.Current).Total != 15 {
			t.Errorf("status after a stuck rotation: %+v, %v", st, err)
		}
	})
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestMasterKeyRotation replaces the master key: the new one in the key file, the old
// one among the previous keys; a rotation re-wraps the data keys and re-encrypts what
// the old master sealed directly; then a keyring without the old master opens
// everything.
func TestMasterKeyRotation(t *testing.T) {
	oldMaster, newMaster := key(11), key(12)
	for _, masterOnly := range []bool{true, false} {
		name := "with a new data key"
		if masterOnly {
			name = "master only"
		}
		t.Run(name, func(t *testing.T) {
			storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
				dsn := storetest.DSN(t, eng)
				db := open(t, dsn, oldMaster)
				c := community(t, db, "master")
				ps := []planted{plant(t, db, c, "a")}
				first, err := db.RotateKeys(ctx, fast(nil))
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, plant(t, db, c, "b"))
				// A value the old master sealed directly, as a process that never saw the
				// rotation would write it.
				bound := db.Keys
				db.Keys = keyring(t, oldMaster)
				ps = append(ps, plant(t, db, c, "c"))
				db.Keys = bound
				_ = db.Close()

				db = open(t, dsn, newMaster, oldMaster)
				opts := fast(nil)
				opts.MasterOnly = masterOnly
				res, err := db.RotateKeys(ctx, opts)
				if err != nil || !res.Finished || res.Rewrapped != 1 {
					t.Fatalf("rotation: %+v, %v", res, err)
				}
				if masterOnly != (res.Current == first.Current) {
					t.Errorf("current key %s after %s (first data key %s)", res.Current, name, first.Current)
				}
				ks, err := db.DataKeys(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range ks {
					if k.State != store.KeyRetired && k.WrappedBy != store.KeyID(newMaster) {
						t.Errorf("data key %s (%s) is still wrapped by %s", k.ID, k.State, k.WrappedBy)
					}
				}
				st, err := db.KeyStatus(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if old := keyInfo(t, st, store.KeyID(oldMaster)); old.Kind != store.KindPreviousMaster || old.Total != 0 || old.Wraps != 0 {
					t.Errorf("the old master still holds something: %+v", old)
				}
				_ = db.Close()

				db = open(t, dsn, newMaster)
				if byKey := sealedValues(t, db); len(byKey) != 1 || byKey[res.Current] != 3*8 {
					t.Errorf("values per key without the old master: %v", byKey)
				}
				for _, p := range ps {
					p.check(t, db)
				}
			})
		})
	}
}

// TestRotationInMemory rotates an in-memory database, whose one connection never lets
// the keyring read on its own.
func TestRotationInMemory(t *testing.T) {
	db, err := store.Open(ctx, "sqlite::memory:", storetest.Keys(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := community(t, db, "mem")
	p := plant(t, db, c, "m")
	res, err := db.RotateKeys(ctx, fast(nil))
	if err != nil || !res.Finished {
		t.Fatalf("%+v, %v", res, err)
	}
	if byKey := sealedValues(t, db); len(byKey) != 1 || byKey[res.Current] != 8 {
		t.Errorf("values per key %v", byKey)
	}
	p.check(t, db)
	if _, kid, _ := db.Keys.Seal([]byte("x"), "probe"); kid != res.Current {
		t.Errorf("seals with %s, want %s", kid, res.Current)
	}
}

// TestBackup copies a SQLite database to a new file readable by its owner only, never
// over an existing file; PostgreSQL is left to pg_dump.
func TestBackup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := community(t, db, "backup")
		p := plant(t, db, c, "k")
		to := filepath.Join(t.TempDir(), "backups", "copy.db")
		err := db.Backup(ctx, to)
		if db.Engine == store.Postgres {
			if !errors.Is(err, store.ErrBackupPostgres) {
				t.Fatalf("PostgreSQL backup: %v", err)
			}
			if _, err := os.Stat(to); !os.IsNotExist(err) {
				t.Errorf("a PostgreSQL backup left a file: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(to)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup file: %v, %v", fi, err)
		}
		if err := db.Backup(ctx, to); !errors.Is(err, store.ErrBackupExists) {
			t.Errorf("second backup to the same file: %v", err)
		}
		if fi2, _ := os.Stat(to); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
			t.Error("the refused backup changed the file")
		}
		cp, err := store.Open(ctx, "sqlite:"+to, storetest.Keys(t))
		if err != nil {
			t.Fatal(err)
		}
		defer cp.Close()
		if err := cp.CheckSchema(ctx); err != nil {
			t.Fatal(err)
		}
		p.check(t, cp)
	})
}
