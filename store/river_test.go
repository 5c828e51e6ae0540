package store_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/riverqueue/river/rivermigrate"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// riverTableHere reports whether River's job table exists where tend's tables are: the
// current schema on PostgreSQL, the main database on SQLite.
func riverTableHere(t *testing.T, db *store.DB) bool {
	t.Helper()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'river_job'`
	if db.Engine == store.Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'river_job'`
	}
	return storetest.Count(t, db, q) == 1
}

func TestMigrateCreatesJobTables(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		db := storetest.OpenUnmigrated(t, eng)
		if riverTableHere(t, db) {
			t.Fatal("river_job exists before migrating")
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if !riverTableHere(t, db) {
			t.Fatal("Migrate did not create river_job in the test's own schema")
		}
		// Idempotent, directly and through Migrate.
		if err := db.MigrateJobs(ctx); err != nil {
			t.Fatalf("second MigrateJobs: %v", err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema after Migrate: %v", err)
		}

		// Without River's tables (River's own down migrations remove them all),
		// CheckSchema says what to do.
		m, err := rivermigrate.New(db.JobDriver(), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
			t.Fatalf("River down migrations: %v", err)
		}
		if riverTableHere(t, db) {
			t.Fatal("river_job still exists after River's down migrations")
		}
		err = db.CheckSchema(ctx)
		if err == nil || !strings.Contains(err.Error(), "tend migrate up") {
			t.Fatalf("CheckSchema without River's tables = %v, want an error mentioning `tend migrate up`", err)
		}
		if err := db.MigrateJobs(ctx); err != nil {
			t.Fatalf("MigrateJobs after the drop: %v", err)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema after migrating again: %v", err)
		}
	})
}

// Two replicas starting together both migrate without error and River's schema is
// applied once.
func TestMigrateJobsConcurrently(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		dsn := storetest.DSN(t, eng)
		var dbs []*store.DB
		for i := 0; i < 3; i++ {
			db, err := store.Open(ctx, dsn, storetest.Keys(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			dbs = append(dbs, db)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(dbs))
		for i, db := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.MigrateJobs(ctx)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: MigrateJobs: %v", i, err)
			}
		}
		if !riverTableHere(t, dbs[0]) {
			t.Fatal("river_job missing after concurrent migrations")
		}
		var versions []int
		if err := dbs[0].X.SelectContext(ctx, &versions, `SELECT version FROM river_migration ORDER BY version`); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(versions); i++ {
			if versions[i] == versions[i-1] {
				t.Fatalf("river_migration records version %d twice: %v", versions[i], versions)
			}
		}
	})
}
