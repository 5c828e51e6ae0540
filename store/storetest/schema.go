package storetest

import (
	"bytes"
	"fmt"
	"sort"
	"testing"

	"github.com/tend-community/tend/store"
)

// Tables lists the database's tables (the test's own schema on PostgreSQL), sorted.
func Tables(t testing.TB, db *store.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Engine == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	var ts []string
	if err := db.X.Select(&ts, q); err != nil {
		t.Fatalf("storetest: list tables: %v", err)
	}
	sort.Strings(ts)
	return ts
}

// Columns lists every "table.column" of the database, sorted.
func Columns(t testing.TB, db *store.DB) []string {
	t.Helper()
	q := `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	if db.Engine == store.Postgres {
		q = `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = current_schema()`
	}
	var cs []string
	if err := db.X.Select(&cs, q); err != nil {
		t.Fatalf("storetest: list columns: %v", err)
	}
	sort.Strings(cs)
	return cs
}

// ForeignKeys lists the "table.column"s with a foreign key to the given table, sorted.
func ForeignKeys(t testing.TB, db *store.DB, to string) []string {
	t.Helper()
	q := `SELECT m.name || '.' || p."from" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) p
		WHERE m.type = 'table' AND p."table" = ?`
	if db.Engine == store.Postgres {
		q = `SELECT DISTINCT kcu.table_name || '.' || kcu.column_name
			FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
			JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
			WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND ccu.table_name = ?`
	}
	var cs []string
	if err := db.X.Select(&cs, db.X.Rebind(q), to); err != nil {
		t.Fatalf("storetest: foreign keys to %s: %v", to, err)
	}
	sort.Strings(cs)
	return cs
}

// Dump is every row of every table as bytes: each value as the driver returns it (raw
// bytes for text and blobs), so a test can search the whole database for a string or
// for a sealed value's ciphertext.
func Dump(t testing.TB, db *store.DB) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, table := range Tables(t, db) {
		rows, err := db.X.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatalf("storetest: dump %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			t.Fatalf("storetest: dump %s: %v", table, err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				t.Fatalf("storetest: dump %s: %v", table, err)
			}
			out.WriteString(table + ":")
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					out.Write(x)
				case string:
					out.WriteString(x)
				default:
					fmt.Fprint(&out, x)
				}
				out.WriteByte('|')
			}
			out.WriteByte('\n')
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			t.Fatalf("storetest: dump %s: %v", table, err)
		}
	}
	return out.Bytes()
}
