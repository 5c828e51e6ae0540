package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one ordered schema step compiled into the binary.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// MigrationStatus is a migration and whether it has been applied.
type MigrationStatus struct {
	Migration
	AppliedAt int64
}

var dialect = map[Engine]*strings.Replacer{
	SQLite:   strings.NewReplacer("{{ID}}", "INTEGER PRIMARY KEY", "{{BLOB}}", "BLOB", "{{BOOL}}", "BOOLEAN"),
	Postgres: strings.NewReplacer("{{ID}}", "BIGSERIAL PRIMARY KEY", "{{BLOB}}", "BYTEA", "{{BOOL}}", "BOOLEAN"),
}

// Migrations lists the embedded migrations in order, written for engine.
func Migrations(engine Engine) ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %q is not named NNNN_name.sql", name)
		}
		body, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("store: read %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"),
			SQL: dialect[engine].Replace(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// LatestVersion is the schema version this binary expects.
func LatestVersion() int {
	ms, err := Migrations(SQLite)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL)`

// Migrate applies every migration not yet recorded, each in its own transaction together
// with the row that records it. It returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	if _, err := db.X.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	ms, err := Migrations(db.Engine)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range ms {
		done := false
		err := db.InTx(ctx, func(tx *Tx) error {
			var n int
			if err := tx.get(ctx, &n, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version); err != nil {
				return err
			}
			if n > 0 {
				done = true
				return nil
			}
			if db.Engine == Postgres {
				// Two replicas starting together must not both migrate.
				if _, err := tx.exec(ctx, `LOCK TABLE schema_migrations IN EXCLUSIVE MODE`); err != nil {
					return err
				}
				if err := tx.get(ctx, &n, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version); err != nil {
					return err
				}
				if n > 0 {
					done = true
					return nil
				}
			}
			if _, err := tx.x.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			_, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, tx.Now())
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("store: %w", err)
		}
		if !done {
			applied = append(applied, m.Version)
		}
	}
	// The durable job queue's own tables, migrated by River's migrator.
	if err := db.MigrateJobs(ctx); err != nil {
		return applied, err
	}
	// The schema may only now hold the data keys.
	return applied, db.ReloadKeys(ctx)
}

// Status lists every embedded migration with when it was applied (0 if not yet).
func (db *DB) Status(ctx context.Context) ([]MigrationStatus, error) {
	if _, err := db.X.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	ms, err := Migrations(db.Engine)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Version   int   `db:"version"`
		AppliedAt int64 `db:"applied_at"`
	}
	if err := db.X.SelectContext(ctx, &rows, `SELECT version, applied_at FROM schema_migrations`); err != nil {
		return nil, fmt.Errorf("store: read schema_migrations: %w", err)
	}
	at := map[int]int64{}
	for _, r := range rows {
		at[r.Version] = r.AppliedAt
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, m := range ms {
		out = append(out, MigrationStatus{Migration: m, AppliedAt: at[m.Version]})
	}
	return out, nil
}

// CheckSchema returns an error unless every embedded migration has been applied and the
// database knows no version newer than this binary.
func (db *DB) CheckSchema(ctx context.Context) error {
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		if s.AppliedAt == 0 {
			return fmt.Errorf("store: the database is missing migration %04d_%s; run `tend migrate up`", s.Version, s.Name)
		}
	}
	var max int
	if err := db.X.GetContext(ctx, &max, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if max > LatestVersion() {
		return fmt.Errorf("store: the database is at schema version %d but this tend knows only up to %d; upgrade tend", max, LatestVersion())
	}
	return db.checkJobSchema(ctx)
}
