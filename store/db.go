// Package store keeps tend's state in SQLite or PostgreSQL through sqlx: plain SQL next to
// its use, embedded migrations, and encryption of every private field.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // PostgreSQL driver
	_ "modernc.org/sqlite" // SQLite driver, no cgo
)

// Engine names the database behind a DSN.
type Engine string

// Engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

func init() {
	// Queries are written with '?' and rebound per engine.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// DB is the shared database handle with the keyring for private fields.
type DB struct {
	X      *sqlx.DB
	Engine Engine
	Keys   *Keyring
	now    func() time.Time
	// keysX is a one-connection pool for reading the data keys while sealing: a sealing
	// transaction holds a connection of X, and when every one of them does, a read
	// through X would wait forever.
	keysX *sqlx.DB
}

// EngineOf picks the engine from a DSN: postgres:// or postgresql:// URLs and key=value
// strings with host= are PostgreSQL; anything else (sqlite:path, file:path, a path) SQLite.
func EngineOf(dsn string) Engine {
	l := strings.ToLower(dsn)
	if strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") ||
		strings.Contains(l, "host=") || strings.Contains(l, "dbname=") {
		return Postgres
	}
	return SQLite
}

// sqliteDSN turns a path or sqlite:/file: DSN into modernc's form with WAL, a busy
// timeout, foreign keys on and immediate write transactions, so concurrent writers queue
// instead of failing on lock upgrades.
func sqliteDSN(dsn string) string {
	p := strings.TrimPrefix(dsn, "sqlite://")
	p = strings.TrimPrefix(p, "sqlite:")
	p = strings.TrimPrefix(p, "file:")
	path, query, _ := strings.Cut(p, "?")
	q, _ := url.ParseQuery(query)
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// createPrivate creates a new SQLite file readable only by its owner: it holds names and
// sealed private details. SQLite gives its -wal and -shm files the same mode.
func createPrivate(dsn string) error {
	if inMemory(dsn) {
		return nil
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:"), "file:"), "?")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return f.Close()
}

// withBinaryParameters asks lib/pq to send parameters in binary, which lets it run a
// parameterised statement in one round trip instead of two. An explicit setting wins.
func withBinaryParameters(dsn string) string {
	if strings.Contains(dsn, "binary_parameters") {
		return dsn
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if strings.Contains(dsn, "?") {
			return dsn + "&binary_parameters=yes"
		}
		return dsn + "?binary_parameters=yes"
	}
	return dsn + " binary_parameters=yes"
}

func inMemory(dsn string) bool {
	return strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") ||
		strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")) == ""
}

// Open connects to the database named by dsn. It does not migrate.
func Open(ctx context.Context, dsn string, keys *Keyring) (*DB, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("store: empty database DSN")
	}
	eng := EngineOf(dsn)
	var (
		x   *sqlx.DB
		err error
	)
	switch eng {
	case Postgres:
		x, err = sqlx.Open("postgres", withBinaryParameters(dsn))
		if err == nil {
			x.SetMaxOpenConns(40)
			x.SetMaxIdleConns(20)
		}
	default:
		if err := createPrivate(dsn); err != nil {
			return nil, err
		}
		x, err = sqlx.Open("sqlite", sqliteDSN(dsn))
		if err == nil {
			// SQLite has one writer; a small pool keeps readers going without lock storms.
			// An in-memory database exists per connection, so it gets exactly one.
			conns := 4
			if inMemory(dsn) {
				conns = 1
			}
			x.SetMaxOpenConns(conns)
			x.SetMaxIdleConns(conns)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", eng, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := x.PingContext(pctx); err != nil {
		_ = x.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", eng, err)
	}
	db := &DB{X: x, Engine: eng, now: time.Now}
	if keys != nil {
		if err := db.bindKeys(ctx, dsn, keys); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return db, nil
}

// bindKeys gives the database its own keyring, with the configured master keys and the
// data keys the database holds (none before the schema has them).
func (db *DB) bindKeys(ctx context.Context, dsn string, keys *Keyring) error {
	if db.Engine == Postgres || !inMemory(dsn) {
		driver, src := "sqlite", sqliteDSN(dsn)
		if db.Engine == Postgres {
			driver, src = "postgres", withBinaryParameters(dsn)
		}
		kx, err := sqlx.Open(driver, src)
		if err != nil {
			return fmt.Errorf("store: open %s for keys: %w", db.Engine, err)
		}
		kx.SetMaxOpenConns(1)
		kx.SetMaxIdleConns(1)
		kx.SetConnMaxIdleTime(time.Minute)
		db.keysX = kx
	}
	var q sqlx.QueryerContext
	if db.keysX != nil {
		q = db.keysX
	}
	db.Keys = keys.bind(q, db.Engine)
	return db.ReloadKeys(ctx)
}

// SetClock replaces the clock used for timestamps (tests and the console use it).
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// Now is the store's current time.
func (db *DB) Now() time.Time { return db.now() }

// Close closes the pools.
func (db *DB) Close() error {
	err := db.X.Close()
	if db.keysX != nil {
		err = errors.Join(err, db.keysX.Close())
	}
	return err
}

// Tx is one transaction; every flow step runs in exactly one.
type Tx struct {
	x  *sqlx.Tx
	db *DB
	sp int
	// cache holds rows that do not change within one transaction (a community, its
	// bindings, a member), so a flow step reads each once.
	cache map[string]any
	// writes counts rows written, so a step can tell it changed nothing.
	writes int64
}

// Writes is how many rows this transaction has written so far.
func (tx *Tx) Writes() int64 { return tx.writes }

// Joined returns the transaction ctx carries, if it belongs to this database.
func (db *DB) Joined(ctx context.Context) (*Tx, bool) {
	tx, ok := TxFrom(ctx)
	return tx, ok && tx.db == db
}

// cached returns the value under key, loading it once per transaction.
func cached[T any](tx *Tx, key string, load func() (T, error)) (T, error) {
	if v, ok := tx.cache[key]; ok {
		return v.(T), nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	if tx.cache == nil {
		tx.cache = map[string]any{}
	}
	tx.cache[key] = v
	return v, nil
}

// TxFrom returns the transaction a context from WithTx carries.
func TxFrom(ctx context.Context) (*Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*Tx)
	return tx, ok
}

type txKey struct{}

// WithTx returns a context that carries tx: InTx calls under it join tx through a
// savepoint instead of opening a transaction of their own, so an event's inbox row, its
// flow's changes and its outbox rows commit together.
func WithTx(ctx context.Context, tx *Tx) context.Context { return context.WithValue(ctx, txKey{}, tx) }

// InTx runs fn in a transaction, committing when it returns nil. Under a context from
// WithTx it runs in a savepoint of that transaction: an error rolls back fn's writes
// only. A top-level serialization or deadlock failure on PostgreSQL is retried.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if outer, ok := ctx.Value(txKey{}).(*Tx); ok && outer.db == db {
		return outer.savepoint(ctx, fn)
	}
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		err = db.inTxOnce(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func (db *DB) inTxOnce(ctx context.Context, fn func(tx *Tx) error) error {
	x, err := db.X.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&Tx{x: x, db: db}); err != nil {
		_ = x.Rollback()
		return err
	}
	if err := x.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

func (tx *Tx) savepoint(ctx context.Context, fn func(tx *Tx) error) error {
	tx.sp++
	name := fmt.Sprintf("tend_sp_%d", tx.sp)
	if _, err := tx.x.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	if err := fn(tx); err != nil {
		if _, rerr := tx.x.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, fmt.Errorf("store: rollback to savepoint: %w", rerr))
		}
		_, _ = tx.x.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
		return err
	}
	if _, err := tx.x.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}

func retryable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "40001") || strings.Contains(s, "40P01") ||
		strings.Contains(s, "could not serialize") || strings.Contains(s, "deadlock detected")
}

// SQL is the underlying database/sql transaction, for libraries that write in the same
// transaction (the job queue).
func (tx *Tx) SQL() *sql.Tx { return tx.x.Tx }

// Now is the transaction's notion of the current time, in Unix seconds.
func (tx *Tx) Now() int64 { return tx.db.now().Unix() }

// Keys exposes the keyring for encrypting private fields inside the transaction.
func (tx *Tx) Keys() *Keyring { return tx.db.Keys }

func (tx *Tx) get(ctx context.Context, dest any, q string, args ...any) error {
	err := tx.x.GetContext(ctx, dest, tx.x.Rebind(q), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func (tx *Tx) sel(ctx context.Context, dest any, q string, args ...any) error {
	return tx.x.SelectContext(ctx, dest, tx.x.Rebind(q), args...)
}

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := tx.x.ExecContext(ctx, tx.x.Rebind(q), args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	tx.writes += n
	return n, err
}

// insert runs an INSERT ... RETURNING id.
func (tx *Tx) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	if err := tx.x.GetContext(ctx, &id, tx.x.Rebind(q+" RETURNING id"), args...); err != nil {
		return 0, err
	}
	tx.writes++
	return id, nil
}
