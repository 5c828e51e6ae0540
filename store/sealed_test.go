package store_test

import (
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

var (
	sqlComment  = regexp.MustCompile(`--[^\n]*`)
	createTable = regexp.MustCompile(`(?i)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*\(`)
	addColumn   = regexp.MustCompile(`(?i)ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?(\w+)`)
)

// keyIDColumns lists the table.column of every *_key_id column a migration declares.
func keyIDColumns(sqlText string) []string {
	s := sqlComment.ReplaceAllString(sqlText, "")
	var out []string
	for _, m := range createTable.FindAllStringSubmatchIndex(s, -1) {
		table := s[m[2]:m[3]]
		// The body runs to the parenthesis that closes the one the match ends with.
		depth, start := 1, m[1]
		end := start
		for end < len(s) && depth > 0 {
			switch s[end] {
			case '(':
				depth++
			case ')':
				depth--
			}
			end++
		}
		body := s[start : end-1]
		// Split on commas outside parentheses: one column or constraint each.
		depth, from := 0, 0
		var items []string
		for i, r := range body {
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			case ',':
				if depth == 0 {
					items = append(items, body[from:i])
					from = i + 1
				}
			}
		}
		items = append(items, body[from:])
		for _, it := range items {
			if f := strings.Fields(it); len(f) > 0 && strings.HasSuffix(strings.ToLower(f[0]), "_key_id") {
				out = append(out, table+"."+f[0])
			}
		}
	}
	for _, m := range addColumn.FindAllStringSubmatch(s, -1) {
		if strings.HasSuffix(strings.ToLower(m[2]), "_key_id") {
			out = append(out, m[1]+"."+m[2])
		}
	}
	return out
}

// TestSealedRegistry fails when a migration declares a *_key_id column that the sealed
// column registry does not cover: rotation would leave its values under the old key.
func TestSealedRegistry(t *testing.T) {
	// The parser itself, so the check below cannot pass by finding nothing.
	probe := "CREATE TABLE notes (\n id {{ID}},\n body_ct {{BLOB}}, -- a, b\n body_key_id TEXT,\n CHECK (length(x) > 0)\n);\n" +
		"ALTER TABLE notes ADD COLUMN extra_key_id TEXT;\nALTER TABLE notes ADD COLUMN key_idx TEXT;"
	if got := fmt.Sprint(keyIDColumns(probe)); got != "[notes.body_key_id notes.extra_key_id]" {
		t.Fatalf("parser found %s", got)
	}

	registered := map[string]bool{}
	for _, c := range store.SealedColumns() {
		if registered[c.Table+"."+c.KeyID] {
			t.Errorf("%s.%s is registered twice", c.Table, c.KeyID)
		}
		registered[c.Table+"."+c.KeyID] = true
		if c.Context == nil || len(c.Key) == 0 || c.CT == "" {
			t.Errorf("%s: incomplete registry entry", c.Name())
		}
	}
	ms, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range ms {
		for _, col := range keyIDColumns(m.SQL) {
			found++
			if !registered[col] {
				t.Errorf("migration %04d_%s declares %s, which store's sealedColumns does not list", m.Version, m.Name, col)
			}
		}
	}
	if found < len(registered) {
		t.Errorf("the migrations declare %d *_key_id columns, fewer than the %d registered", found, len(registered))
	}
}

// TestSealedColumnsExist checks the other way round: every registered column, key and
// context column is in the migrated schema.
func TestSealedColumnsExist(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, c := range store.SealedColumns() {
			cols := append(append(append([]string{}, c.Key...), c.Uses...), c.CT, c.KeyID)
			rows, err := db.X.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+c.Table+` LIMIT 1`)
			if err != nil {
				t.Errorf("%s: %v", c.Name(), err)
				continue
			}
			_ = rows.Close()
		}
	})
}

// sealedValues opens every value of every registered column with the context the
// registry gives, through db's keyring, and counts values per key id.
func sealedValues(t testing.TB, db *store.DB) map[string]int {
	t.Helper()
	byKey := map[string]int{}
	for _, c := range store.SealedColumns() {
		names := append(append([]string{}, c.Key...), c.Uses...)
		q := `SELECT ` + strings.Join(append(append([]string{}, names...), c.CT, c.KeyID), ", ") +
			` FROM ` + c.Table + ` WHERE ` + c.KeyID + ` IS NOT NULL`
		rows, err := db.X.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
		type value struct {
			row store.SealedRow
			ct  []byte
			kid string
		}
		var vals []value
		for rows.Next() {
			strs := make([]sql.NullString, len(names))
			var v value
			dest := []any{}
			for i := range strs {
				dest = append(dest, &strs[i])
			}
			if err := rows.Scan(append(dest, &v.ct, &v.kid)...); err != nil {
				t.Fatal(err)
			}
			v.row = store.SealedRow{}
			for i, n := range names {
				v.row[n] = strs[i].String
			}
			vals = append(vals, v)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			byKey[v.kid]++
			if _, err := db.Keys.Open(v.ct, v.kid, c.Context(v.row)); err != nil {
				t.Errorf("%s %v: %v", c.Name(), v.row, err)
			}
		}
	}
	return byKey
}
