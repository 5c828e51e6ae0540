package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// The durable job queue (River) keeps its tables next to tend's, in the same database and,
// on PostgreSQL, in the same schema: River's queries name no schema, so they follow the
// connection's search_path exactly as tend's do.

// JobDriver returns River's database/sql driver for this database's engine. Both drivers
// use *sql.Tx as their transaction type, so jobs can be inserted in a store transaction
// through Tx.SQL.
func (db *DB) JobDriver() riverdriver.Driver[*sql.Tx] {
	if db.Engine == Postgres {
		return riverdatabasesql.New(db.X.DB)
	}
	return riversqlite.New(db.X.DB)
}

// MigrateJobs brings River's own tables (river_job, river_leader, river_queue, ...) up to
// the version this binary's River needs. It is idempotent. On PostgreSQL a session
// advisory lock keyed by the current schema keeps two replicas that start together from
// migrating at once; SQLite serialises writers itself.
func (db *DB) MigrateJobs(ctx context.Context) error {
	migrator, err := rivermigrate.New(db.JobDriver(), &rivermigrate.Config{
		// River's default logger writes to stdout; its migration notes are not ours.
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return fmt.Errorf("store: job queue migrations: %w", err)
	}
	if db.Engine == Postgres {
		conn, err := db.X.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: job queue migrations: %w", err)
		}
		defer conn.Close()
		var schema string
		if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("store: job queue migrations: current schema: %w", err)
		}
		key := advisoryKey("tend:river-migrate:" + schema)
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
			return fmt.Errorf("store: job queue migrations: lock: %w", err)
		}
		defer func() {
			// A fresh context: the lock must be released even when ctx was cancelled.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
		}()
	}
	for attempt := 1; ; attempt++ {
		_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		// River reads the applied versions before it migrates, outside the migration's
		// transaction. On SQLite another process (tend migrate up next to serve) may apply
		// the same version in between; that transaction then fails whole, and the next
		// pass sees the version as applied.
		if err == nil || db.Engine != SQLite || attempt == 8 || !racedMigration(err) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("store: job queue migrations: %w", err)
	}
	return nil
}

// checkJobSchema reports whether River's tables are present and fully migrated.
func (db *DB) checkJobSchema(ctx context.Context) error {
	migrator, err := rivermigrate.New(db.JobDriver(), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("store: job queue schema: %w", err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: job queue schema: %w", err)
	}
	if !res.OK {
		return errors.New("store: the database is missing the job queue's tables (river_job); run `tend migrate up`")
	}
	var n int
	if err := db.X.GetContext(ctx, &n, `SELECT COUNT(*) FROM river_job WHERE 1 = 0`); err != nil {
		return errors.New("store: the database is missing the job queue's tables (river_job); run `tend migrate up`")
	}
	return nil
}

func advisoryKey(s string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return int64(h.Sum64())
}

// racedMigration recognises the ways a River migration step fails on SQLite when another
// process applied the same step in between: the object it creates already exists, or
// the one it drops is already gone.
func racedMigration(err error) bool {
	s := err.Error()
	return strings.Contains(s, "already exists") || strings.Contains(s, "no such index") ||
		strings.Contains(s, "no such table") || strings.Contains(s, "duplicate column") ||
		strings.Contains(s, "UNIQUE constraint failed")
}
