package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrBackupPostgres means the database is PostgreSQL, which its own tools back up.
var ErrBackupPostgres = errors.New("store: tend backs up SQLite only; use pg_dump for PostgreSQL")

// ErrBackupExists means the backup file is already there; it is never overwritten.
var ErrBackupExists = errors.New("store: the backup file already exists")

// Backup writes a consistent copy of the SQLite database to path while it stays in use:
// VACUUM INTO reads one snapshot, so writers carry on and the copy holds whole
// transactions only. The file is created readable by its owner alone, and never over an
// existing one. A failed copy leaves no file behind.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.Engine == Postgres {
		return ErrBackupPostgres
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store: backup folder: %w", err)
	}
	// VACUUM INTO accepts an empty file: creating it first refuses an existing one
	// atomically and fixes its mode before a byte of data is written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	}
	if err != nil {
		return fmt.Errorf("store: create backup: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("store: create backup: %w", err)
	}
	if _, err := db.X.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("store: back up to %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("store: backup mode: %w", err)
	}
	return nil
}
