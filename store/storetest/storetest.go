// Package storetest runs a test suite against both stores tend supports: a fresh SQLite
// file and, when TEND_TEST_POSTGRES_DSN is set, a fresh PostgreSQL schema. Every suite in
// the project (store, flows, bot, adapters) uses it so that one table of cases covers both
// engines.
//
//	func TestSomething(t *testing.T) {
//		storetest.Each(t, func(t *testing.T, db *store.DB) {
//			// db is migrated, isolated and closed (and dropped) when t ends.
//		})
//	}
//
// PostgreSQL: when TEND_TEST_POSTGRES_DSN is unset the postgres subtests are skipped, a
// local convenience. When it is set they never skip: a database that cannot be reached
// fails the test. Each test gets its own schema (t_<random hex>), reached through the
// DSN's search_path run-time parameter and dropped with CASCADE when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq" // PostgreSQL driver for creating and dropping test schemas

	"github.com/tend-community/tend/store"
)

// PostgresEnv names the environment variable holding the PostgreSQL DSN for tests.
const PostgresEnv = "TEND_TEST_POSTGRES_DSN"

// KeyHex is the fixed, public, test-only encryption key (32 bytes as 64 hex digits).
// Never use it outside tests.
const KeyHex = "746573742d6f6e6c792d6b65792d666f722d74656e642d73746f72652d746573"

// Key returns the fixed test key's 32 bytes.
func Key() []byte {
	b, err := hex.DecodeString(KeyHex)
	if err != nil || len(b) != 32 {
		panic("storetest: bad KeyHex")
	}
	return b
}

// Keys returns a keyring whose only (and current) key is the fixed test key, so sealed
// values are reproducible across runs and engines.
func Keys(t testing.TB) *store.Keyring {
	t.Helper()
	kr, err := store.NewKeyring(Key())
	if err != nil {
		t.Fatalf("storetest: test keyring: %v", err)
	}
	return kr
}

// PostgresDSN returns the PostgreSQL DSN for tests and whether it is set.
func PostgresDSN() (string, bool) {
	dsn := strings.TrimSpace(os.Getenv(PostgresEnv))
	return dsn, dsn != ""
}

// Engines lists the engines suites run on, in order.
func Engines() []store.Engine { return []store.Engine{store.SQLite, store.Postgres} }

// EachEngine runs fn once per engine as subtests named "sqlite" and "postgres". The
// postgres subtest is skipped when TEND_TEST_POSTGRES_DSN is unset. fn opens what it needs
// with Open, OpenUnmigrated or DSN.
func EachEngine(t *testing.T, fn func(t *testing.T, engine store.Engine)) {
	t.Helper()
	for _, eng := range Engines() {
		t.Run(string(eng), func(t *testing.T) {
			if eng == store.Postgres {
				skipWithoutPostgres(t)
			}
			fn(t, eng)
		})
	}
}

// Each runs fn once per engine as subtests named "sqlite" and "postgres", each with a
// fresh, migrated database using the test keyring. The database is closed, and the
// PostgreSQL schema dropped, when the subtest ends.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	EachEngine(t, func(t *testing.T, eng store.Engine) {
		fn(t, Open(t, eng))
	})
}

// Open returns a fresh, migrated database on engine with the test keyring, closed when
// t ends. For PostgreSQL without TEND_TEST_POSTGRES_DSN it skips t.
func Open(t testing.TB, engine store.Engine) *store.DB {
	t.Helper()
	db := OpenUnmigrated(t, engine)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("storetest: migrate %s: %v", engine, err)
	}
	return db
}

// OpenUnmigrated is Open without the migrations: an empty database (or schema).
func OpenUnmigrated(t testing.TB, engine store.Engine) *store.DB {
	t.Helper()
	dsn := DSN(t, engine)
	db, err := store.Open(context.Background(), dsn, Keys(t))
	if err != nil {
		if engine == store.Postgres {
			t.Fatalf("storetest: cannot open PostgreSQL at %s (from %s): %s", hostOf(dsn), PostgresEnv, redact(err, dsn))
		}
		t.Fatalf("storetest: open SQLite %s: %v", dsn, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("storetest: close %s: %v", engine, err)
		}
	})
	if engine == store.Postgres {
		// Guard the isolation itself: if search_path were ignored, tests would share
		// the public schema and see each other's rows.
		want := schemaOf(dsn)
		var got string
		if err := db.X.GetContext(context.Background(), &got, `SELECT current_schema()`); err != nil {
			t.Fatalf("storetest: current_schema on %s: %s", hostOf(dsn), redact(err, dsn))
		}
		if got != want {
			t.Fatalf("storetest: connected with search_path=%s but current_schema() is %q", want, got)
		}
	}
	return db
}

// DSN returns a DSN for a fresh, empty, isolated database on engine, removed when t
// ends: a file in t.TempDir() for SQLite ("sqlite:<path>"), a new schema for PostgreSQL.
// For PostgreSQL without TEND_TEST_POSTGRES_DSN it skips t; if the server cannot be
// reached it fails t.
func DSN(t testing.TB, engine store.Engine) string {
	t.Helper()
	switch engine {
	case store.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "tend.db")
	case store.Postgres:
		return postgresSchemaDSN(t)
	default:
		t.Fatalf("storetest: unknown engine %q", engine)
		return ""
	}
}

// SQLitePath is the file behind a DSN returned by DSN(t, store.SQLite).
func SQLitePath(dsn string) string { return strings.TrimPrefix(dsn, "sqlite:") }

func skipWithoutPostgres(t testing.TB) {
	t.Helper()
	if _, ok := PostgresDSN(); !ok {
		t.Skipf("PostgreSQL tests skipped: %s is not set (e.g. %s='postgres://root@127.0.0.1:5432/test?sslmode=disable'); CI always sets it",
			PostgresEnv, PostgresEnv)
	}
}

// postgresSchemaDSN creates a schema t_<hex> and returns the base DSN with search_path
// set to it; the schema is dropped with CASCADE when t ends.
func postgresSchemaDSN(t testing.TB) string {
	t.Helper()
	skipWithoutPostgres(t)
	base, _ := PostgresDSN()
	schema := "t_" + randomHex(t, 8)
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("storetest: %s is not a usable PostgreSQL DSN (host %s): %v", PostgresEnv, hostOf(base), err)
	}

	ctx := context.Background()
	admin, err := sql.Open("postgres", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if admin != nil {
			_ = admin.Close()
		}
		t.Fatalf("storetest: cannot connect to PostgreSQL at %s (from %s): %s", hostOf(base), PostgresEnv, redact(err, base))
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("storetest: create schema %s on %s: %s", schema, hostOf(base), redact(err, base))
	}
	t.Cleanup(func() {
		// Runs after the store (opened later, so cleaned up earlier) is closed.
		db, err := sql.Open("postgres", base)
		if err != nil {
			t.Errorf("storetest: drop schema %s: %s", schema, redact(err, base))
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			t.Errorf("storetest: drop schema %s on %s: %s", schema, hostOf(base), redact(err, base))
		}
	})
	return dsn
}

// withSearchPath sets the search_path run-time parameter on a URL or key=value DSN.
// lib/pq sends parameters it does not know itself to the server at connection start.
func withSearchPath(dsn, schema string) (string, error) {
	l := strings.ToLower(dsn)
	if strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	// key=value form: a later key overrides an earlier one.
	return dsn + " search_path=" + schema, nil
}

// schemaOf reads back the search_path set by withSearchPath.
func schemaOf(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if s := u.Query().Get("search_path"); s != "" {
			return s
		}
	}
	if i := strings.LastIndex(dsn, "search_path="); i >= 0 {
		return strings.Fields(dsn[i+len("search_path="):])[0]
	}
	return ""
}

// hostOf names a DSN's host and port, never its user or password.
func hostOf(dsn string) string {
	l := strings.ToLower(dsn)
	if strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "(unparsable DSN)"
		}
		if u.Host == "" {
			return "(default host)"
		}
		return u.Host
	}
	var host, port string
	for _, f := range strings.Fields(dsn) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "host":
			host = strings.Trim(v, "'")
		case "port":
			port = strings.Trim(v, "'")
		}
	}
	if host == "" {
		host = "(default host)"
	}
	if port != "" {
		return net.JoinHostPort(host, port)
	}
	return host
}

// redact renders err without the DSN's password, should a driver echo it.
func redact(err error, dsn string) string {
	s := err.Error()
	if pw := passwordOf(dsn); pw != "" {
		s = strings.ReplaceAll(s, pw, "****")
	}
	return s
}

func passwordOf(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		return pw
	}
	for _, f := range strings.Fields(dsn) {
		if k, v, ok := strings.Cut(f, "="); ok && k == "password" {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: random: %v", err)
	}
	return hex.EncodeToString(b)
}

// Count runs a query returning one number (written with '?') on the raw handle.
func Count(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.X.Get(&n, db.X.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
