package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// testKey is a key for these tests only, as it would sit in TEND_ENCRYPTION_KEY.
var testKey = strings.Repeat("ab", 32)

// openSeeded opens dsn with testKey, migrated, with a community, one requester and n
// requests holding private details.
func openSeeded(t *testing.T, dsn string, n int) (*store.DB, int64, int64) {
	t.Helper()
	raw, err := store.ParseKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := store.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var comm, asker int64
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if comm, err = tx.ApplyCommunity(ctx, store.CommunitySetup{
			Community:  store.Community{Slug: "keys", Name: "Keys", Locale: "en", Timezone: "UTC", RetentionDays: 30},
			Categories: []store.Category{{Key: "ride", Risk: "ride", Tier: "volunteer"}},
		}); err != nil {
			return err
		}
		m, _, err := tx.CreateMember(ctx, comm, "discord", "asker", "asker", "en", "v1", store.Evidence{Surface: "dm"})
		asker = m.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := ask(db, comm, asker, i); err != nil {
			t.Fatal(err)
		}
	}
	return db, comm, asker
}

// ask records one request with private details.
func ask(db *store.DB, comm, asker int64, i int) error {
	ctx := context.Background()
	return db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateRequest(ctx, store.NewRequest{CommunityID: comm, RequesterID: asker, Category: "ride",
			Summary: "ride", Area: "Mile End", StartsAt: 1_800_000_000, EndsAt: 1_800_003_600, Slots: 1,
			Private: store.Private{Address: fmt.Sprintf("%d Rue Rachel Est", i), Phone: "514-555-0199"}})
		return err
	})
}

func TestKeysCommand(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		dsn := storetest.DSN(t, eng)
		db, _, _ := openSeeded(t, dsn, 3)
		master := db.Keys.MasterID()
		ge := env("TEND_DATABASE_URL", dsn, "TEND_ENCRYPTION_KEY", testKey, "TEND_DATA_DIR", t.TempDir())
		fr := env("TEND_DATABASE_URL", dsn, "TEND_ENCRYPTION_KEY", testKey, "TEND_DATA_DIR", t.TempDir(), "LANG", "fr_CA.UTF-8")

		code, out, errOut := tend(t, ge, "keys", "status")
		if code != 0 || !strings.Contains(out, master+"  master key") || !strings.Contains(out, "seals new values") ||
			!strings.Contains(out, master+"  requests.private  3") {
			t.Fatalf("status before rotating: %d\n%s%s", code, out, errOut)
		}

		// A rotation that stopped right after making its key, long enough ago that no
		// grace period is left to wait.
		cctx, cancel := context.WithCancel(context.Background())
		first, _ := db.RotateKeys(cctx, store.RotateOptions{Grace: time.Minute, Progress: func(e store.RotateEvent) {
			if e.Kind == store.RotateStarted {
				cancel()
			}
		}})
		cancel()
		if _, err := db.X.Exec(`UPDATE key_rotations SET started_at = started_at - 600`); err != nil {
			t.Fatal(err)
		}
		code, out, _ = tend(t, fr, "keys", "status")
		if code != 0 || !strings.Contains(out, "clé de données") || !strings.Contains(out, "n'est pas terminée") {
			t.Fatalf("status of an unfinished rotation, in French: %d\n%s", code, out)
		}

		code, out, errOut = tend(t, ge, "keys", "rotate")
		if code != 0 || !strings.Contains(out, "Resuming the unfinished rotation to key "+first.Current) ||
			!strings.Contains(out, "requests.private: 3 re-encrypted") || !strings.Contains(out, "Done: 3 values re-encrypted") {
			t.Fatalf("rotate: %d\n%s%s", code, out, errOut)
		}
		code, out, _ = tend(t, ge, "keys", "status")
		if code != 0 || !strings.Contains(out, first.Current+"  data key") || !strings.Contains(out, "wraps 1 data key") || !strings.Contains(out, first.Current+"  requests.private  3") ||
			strings.Contains(out, "not finished") {
			t.Fatalf("status after rotating: %d\n%s", code, out)
		}

		// A value under a key nobody has is reported, and a rotation says what it could
		// not move.
		if _, err := db.X.Exec(db.X.Rebind(`UPDATE requests SET private_key_id = 'deadbeef' WHERE id = (SELECT MIN(id) FROM requests)`)); err != nil {
			t.Fatal(err)
		}
		code, out, _ = tend(t, ge, "keys", "status")
		if code != 0 || !strings.Contains(out, "deadbeef  unknown key") || !strings.Contains(out, "Key deadbeef is known neither") {
			t.Fatalf("status with an unknown key: %d\n%s", code, out)
		}
		code, out, errOut = tend(t, ge, "keys", "rotate", "--master-only")
		if code != 1 || !strings.Contains(errOut, "1 value in requests.private under key deadbeef could not be re-encrypted") ||
			!strings.Contains(errOut, "previous_key_files") {
			t.Fatalf("rotate with an unknown key: %d\n%s%s", code, out, errOut)
		}

		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"keys"}, "Usage: tend keys rotate|status"},
			{[]string{"keys", "sideways"}, "Usage: tend keys rotate|status"},
			{[]string{"keys", "rotate", "--grace", "2s"}, "--grace must be longer than 5s"},
			{[]string{"keys", "rotate", "--batch", "0"}, "--batch must be 1 or more"},
		} {
			if code, _, errOut := tend(t, ge, tc.args...); code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: %d\n%s", tc.args, code, errOut)
			}
		}
	})
}

// TestBackupCommand backs up a SQLite database while people keep asking, then checks
// that the copy opens and passes tend doctor with the key, and only with it.
func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	dsn := "sqlite:" + filepath.Join(data, "tend.db")
	db, comm, asker := openSeeded(t, dsn, 5)
	db.SetKeyRefresh(10 * time.Millisecond)
	if _, err := db.RotateKeys(context.Background(), store.RotateOptions{Grace: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ge := env("TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", testKey)

	// Writers keep going for the whole backup.
	var wg sync.WaitGroup
	var stop atomic.Bool
	var asked atomic.Int64
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if err := ask(db, comm, asker, 1000*w+i); err != nil {
					errs <- err
					return
				}
				asked.Add(1)
			}
		}(w)
	}
	for asked.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	code, out, errOut := tend(t, ge, "backup")
	to := filepath.Join(dir, "copy.db")
	code2, out2, errOut2 := tend(t, ge, "backup", "--to", to)
	code3, _, errOut3 := tend(t, ge, "backup", "--to", to)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a writer failed during the backup: %v", err)
	}
	if code != 0 || !strings.Contains(out, filepath.Join(data, "backups", "tend-")) || !strings.Contains(out, "Keep the encryption key apart") {
		t.Fatalf("backup: %d\n%s%s", code, out, errOut)
	}
	if code2 != 0 || !strings.Contains(out2, to) {
		t.Fatalf("backup --to: %d\n%s%s", code2, out2, errOut2)
	}
	if code3 != 1 || !strings.Contains(errOut3, "already exists") {
		t.Fatalf("backup over an existing file: %d\n%s", code3, errOut3)
	}
	made, _ := filepath.Glob(filepath.Join(data, "backups", "tend-*.db"))
	if len(made) != 1 {
		t.Fatalf("backups folder holds %v", made)
	}
	for _, p := range []string{made[0], to} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", p, fi, err)
		}
	}

	// The copy as a restore would put it back: tend doctor passes with the key.
	restored := env("TEND_DATABASE_URL", "sqlite:"+to, "TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", testKey)
	code, out, errOut = tend(t, restored, "doctor")
	if code != 0 || !strings.Contains(out, "schema: current") || !strings.Contains(out, "data keys: 1 in use") {
		t.Fatalf("doctor on the copy: %d\n%s%s", code, out, errOut)
	}
	other := strings.Repeat("cd", 32)
	code, out, _ = tend(t, env("TEND_DATABASE_URL", "sqlite:"+to, "TEND_DATA_DIR", data, "TEND_ENCRYPTION_KEY", other), "doctor")
	if code != 1 || !strings.Contains(out, "PROBLEM  data key") {
		t.Fatalf("doctor on the copy with another key: %d\n%s", code, out)
	}
	// Every private value in the copy opens.
	cp, _, _ := openSeeded(t, "sqlite:"+to, 0)
	n := 0
	err := cp.InTx(context.Background(), func(tx *store.Tx) error {
		rs, err := cp.X.Queryx(`SELECT id FROM requests ORDER BY id`)
		if err != nil {
			return err
		}
		var ids []int64
		for rs.Next() {
			var id int64
			if err := rs.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		_ = rs.Close()
		for _, id := range ids {
			r, err := tx.Request(context.Background(), id)
			if err != nil {
				return err
			}
			if _, err := tx.RequestPrivate(r); err != nil {
				return fmt.Errorf("request %d: %w", id, err)
			}
			n++
		}
		return nil
	})
	if err != nil || n < 25 {
		t.Fatalf("%d requests read from the copy: %v", n, err)
	}
}

// TestBackupPostgres sends PostgreSQL to pg_dump, with a command line that carries no
// password, and does nothing else.
func TestBackupPostgres(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, dsn := range []string{
		"postgres://tend:hunter2pw@db.example.org:5433/tend?sslmode=require",
		"host=db.example.org port=5433 user=tend password=hunter2pw dbname=tend",
	} {
		code, out, errOut := tend(t, env("TEND_DATABASE_URL", dsn, "TEND_DATA_DIR", data), "backup")
		if code != 1 || out != "" || !strings.Contains(errOut, "pg_dump --format=custom --file=tend-") ||
			!strings.Contains(errOut, "--host=db.example.org --port=5433 --username=tend tend") || strings.Contains(errOut, "hunter2pw") {
			t.Errorf("%s: %d\n%s%s", dsn, code, out, errOut)
		}
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("backup on PostgreSQL touched the data folder: %v", err)
	}
}
