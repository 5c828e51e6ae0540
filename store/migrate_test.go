package store_test

import (
	"strings"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func TestMigrationsEmbedded(t *testing.T) {
	for _, eng := range storetest.Engines() {
		ms, err := store.Migrations(eng)
		if err != nil {
			t.Fatalf("%s: %v", eng, err)
		}
		if len(ms) == 0 {
			t.Fatalf("%s: no migrations embedded", eng)
		}
		for i, m := range ms {
			if i > 0 && m.Version <= ms[i-1].Version {
				t.Errorf("%s: migrations out of order: %d after %d", eng, m.Version, ms[i-1].Version)
			}
			if strings.Contains(m.SQL, "{{") {
				t.Errorf("%s: migration %04d_%s keeps a placeholder", eng, m.Version, m.Name)
			}
		}
		if got, want := store.LatestVersion(), ms[len(ms)-1].Version; got != want {
			t.Errorf("%s: LatestVersion() = %d, want %d", eng, got, want)
		}
	}
}

func TestMigrate(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		db := storetest.OpenUnmigrated(t, eng)
		all, err := store.Migrations(eng)
		if err != nil {
			t.Fatal(err)
		}

		// Unmigrated: Status lists every migration as pending, CheckSchema points at the fix.
		st, err := db.Status(ctx)
		if err != nil {
			t.Fatalf("Status before migrating: %v", err)
		}
		if len(st) != len(all) {
			t.Fatalf("Status lists %d migrations, want %d", len(st), len(all))
		}
		for _, s := range st {
			if s.AppliedAt != 0 {
				t.Errorf("migration %d applied before Migrate (at %d)", s.Version, s.AppliedAt)
			}
		}
		err = db.CheckSchema(ctx)
		if err == nil || !strings.Contains(err.Error(), "tend migrate up") {
			t.Fatalf("CheckSchema on an unmigrated database = %v, want an error mentioning `tend migrate up`", err)
		}

		// First Migrate applies everything, the second nothing.
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if len(applied) != len(all) {
			t.Fatalf("first Migrate applied %v, want all %d migrations", applied, len(all))
		}
		for i, v := range applied {
			if v != all[i].Version {
				t.Errorf("applied[%d] = %d, want %d", i, v, all[i].Version)
			}
		}
		again, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(again) != 0 {
			t.Fatalf("second Migrate applied %v, want nothing", again)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM schema_migrations`); n != len(all) {
			t.Fatalf("schema_migrations has %d rows, want %d", n, len(all))
		}

		st, err = db.Status(ctx)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		for i, s := range st {
			if s.Version != all[i].Version || s.Name != all[i].Name {
				t.Errorf("Status[%d] = %04d_%s, want %04d_%s", i, s.Version, s.Name, all[i].Version, all[i].Name)
			}
			if s.AppliedAt == 0 {
				t.Errorf("Status: migration %04d_%s not applied", s.Version, s.Name)
			}
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema after Migrate: %v", err)
		}

		// A database migrated by a newer tend is refused by this one.
		newer := store.LatestVersion() + 1
		if _, err := db.X.ExecContext(ctx, db.X.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			newer, "from_the_future", 1); err != nil {
			t.Fatal(err)
		}
		err = db.CheckSchema(ctx)
		if err == nil {
			t.Fatalf("CheckSchema accepted a database at version %d (binary knows %d)", newer, store.LatestVersion())
		}
		if !strings.Contains(err.Error(), "upgrade tend") {
			t.Errorf("CheckSchema error %q does not tell the operator to upgrade tend", err)
		}
	})
}
