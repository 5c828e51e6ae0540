package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tend-community/tend/store"
)

func TestKey(t *testing.T) {
	if len(Key()) != 32 {
		t.Fatalf("test key is %d bytes", len(Key()))
	}
	a, b := Keys(t), Keys(t)
	if a.CurrentID() != b.CurrentID() || a.CurrentID() != store.KeyID(Key()) {
		t.Fatal("test keyring is not deterministic")
	}
	ct, kid, err := a.Seal([]byte("x"), "c")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := b.Open(ct, kid, "c"); err != nil || string(p) != "x" {
		t.Fatalf("a value sealed by one test keyring does not open with another: %v", err)
	}
}

func TestDSNHelpers(t *testing.T) {
	tests := []struct {
		dsn, withPath, host, password string
	}{
		{
			"postgres://root@127.0.0.1:5432/test?sslmode=disable",
			"postgres://root@127.0.0.1:5432/test?search_path=t_ab&sslmode=disable",
			"127.0.0.1:5432", "",
		},
		{
			"postgresql://tend:s3cret@db.example.org/tend?search_path=public",
			"postgresql://tend:s3cret@db.example.org/tend?search_path=t_ab",
			"db.example.org", "s3cret",
		},
		{
			"host=/run/postgresql port=5433 user=tend password='pw' dbname=tend",
			"host=/run/postgresql port=5433 user=tend password='pw' dbname=tend search_path=t_ab",
			"/run/postgresql:5433", "pw",
		},
	}
	for _, tc := range tests {
		got, err := withSearchPath(tc.dsn, "t_ab")
		if err != nil || got != tc.withPath {
			t.Errorf("withSearchPath(%q) = %q, %v; want %q", tc.dsn, got, err, tc.withPath)
		}
		if s := schemaOf(got); s != "t_ab" {
			t.Errorf("schemaOf(%q) = %q", got, s)
		}
		if h := hostOf(tc.dsn); h != tc.host {
			t.Errorf("hostOf(%q) = %q, want %q", tc.dsn, h, tc.host)
		}
		if tc.password != "" {
			msg := redact(errors.New("failed for "+tc.password), tc.dsn)
			if strings.Contains(msg, tc.password) {
				t.Errorf("redact left the password in %q", msg)
			}
		}
	}
}

// TestEach checks the isolation the other suites rely on: each test gets an empty,
// migrated database of the engine it names.
func TestEach(t *testing.T) {
	var seen []string
	Each(t, func(t *testing.T, db *store.DB) {
		seen = append(seen, string(db.Engine))
		if err := db.CheckSchema(context.Background()); err != nil {
			t.Fatalf("CheckSchema: %v", err)
		}
		var n int
		if err := db.X.Get(&n, `SELECT COUNT(*) FROM communities`); err != nil || n != 0 {
			t.Fatalf("a fresh database holds %d communities (%v)", n, err)
		}
		if _, err := db.X.Exec(`INSERT INTO communities (slug, name, created_at) VALUES ('x', 'x', 1)`); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(t.Name(), "/"+string(db.Engine)) {
			t.Errorf("subtest %s runs on %s", t.Name(), db.Engine)
		}
	})
	if len(seen) == 0 || seen[0] != string(store.SQLite) {
		t.Fatalf("engines run: %v", seen)
	}
	if _, ok := PostgresDSN(); ok && len(seen) != 2 {
		t.Fatalf("%s is set but engines run: %v", PostgresEnv, seen)
	}
}

// TestSchemasAreIsolated opens two PostgreSQL databases side by side and checks that
// rows written in one are invisible in the other, and that the schema is dropped after.
func TestSchemasAreIsolated(t *testing.T) {
	base, ok := PostgresDSN()
	if !ok {
		t.Skipf("%s is not set", PostgresEnv)
	}
	var schema string
	t.Run("pair", func(t *testing.T) {
		a, b := Open(t, store.Postgres), Open(t, store.Postgres)
		if _, err := a.X.Exec(`INSERT INTO communities (slug, name, created_at) VALUES ('x', 'x', 1)`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := b.X.Get(&n, `SELECT COUNT(*) FROM communities`); err != nil || n != 0 {
			t.Fatalf("second schema sees %d communities (%v)", n, err)
		}
		if err := a.X.Get(&schema, `SELECT current_schema()`); err != nil || !strings.HasPrefix(schema, "t_") {
			t.Fatalf("current_schema = %q, %v", schema, err)
		}
	})
	db, err := store.Open(context.Background(), base, Keys(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.X.Get(&n, `SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1`, schema); err != nil || n != 0 {
		t.Fatalf("schema %s still exists after the test (%d, %v)", schema, n, err)
	}
}
