package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// auditCLI is a cli reading the database at dsn, in lang.
func auditCLI(t *testing.T, dsn, lang string) (*cli, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	return &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, cat: cat, lang: lang,
		getenv: env("TEND_DATABASE_URL", dsn, "TEND_DATA_DIR", t.TempDir())}, &out, &errb
}

func TestAuditCommand(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, eng store.Engine) {
		dsn := storetest.DSN(t, eng)
		db, err := store.Open(context.Background(), dsn, storetest.Keys(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Alice shares her details with bob when she accepts him: one disclosure. Two days
		// later carol flags bob.
		h := bottest.New(t, db, "en")
		h.Join("alice")
		h.Volunteer("bob", "ride", "any", "any")
		h.Volunteer("carol", "ride", "any", "any")
		h.Join("maya")
		h.Vet("bob")
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		gate := bottest.To(h.Press("bob", claim), "@alice")
		h.Press("alice", h.MustButton(gate, flows.ActAcceptShare))
		h.Now = bottest.Start.Add(48 * time.Hour)
		h.Command("carol", "flag", "member", "bob", "spam")
		bob := strconv.Itoa(storetest.Count(t, db, `SELECT member_id FROM identities WHERE platform_user_id = 'bob'`))

		cases := []struct {
			name     string
			args     []string
			lang     string
			code     int
			want     []string
			not      []string
			audited  bool
			csvLines int
		}{
			{"all", []string{"--community", "test"}, "en", 0,
				[]string{"TIME", "disclosure", "Bob (#" + bob + ")", "saw Address, Phone, Notes", "basis=consent request=1", "case.opened", "rows; this look"}, nil, true, 0},
			{"member by id", []string{"--community", "test", "--member", bob}, "en", 0,
				[]string{"saw Address", "claim.offered", "volunteer.vetted"}, []string{"(Maya)", "Alice (#1)"}, true, 0},
			{"member by identity, until", []string{"--community", "test", "--member", "fake:carol", "--until", "2026-11-23"}, "en", 0,
				[]string{"member.joined", "volunteer.joined"}, []string{"saw", "case.opened"}, true, 0},
			{"since", []string{"--community", "test", "--since", "2026-11-24"}, "en", 0,
				[]string{"case.opened"}, []string{"disclosure", "claim.offered"}, true, 0},
			{"nothing", []string{"--community", "test", "--since", "2030-01-01"}, "en", 0,
				[]string{"Nothing in the audit trail matches."}, nil, true, 0},
			{"french", []string{"--community", "test", "--member", bob}, "fr", 0,
				[]string{"MOMENT", "divulgation", "a vu Adresse"}, nil, true, 0},
			{"no community flag", nil, "en", 2, []string{"--community SLUG"}, nil, false, 0},
			{"unknown community", []string{"--community", "nope"}, "en", 1, []string{`no community "nope"`}, nil, false, 0},
			{"unknown member", []string{"--community", "test", "--member", "fake:zoe"}, "en", 1, []string{"no member fake:zoe"}, nil, false, 0},
			{"bad date", []string{"--community", "test", "--since", "23/11/2026"}, "en", 1, []string{"YYYY-MM-DD"}, nil, false, 0},
		}
		looks := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c, out, errb := auditCLI(t, dsn, tc.lang)
				code := c.audit(context.Background(), tc.args)
				all := out.String() + errb.String()
				if code != tc.code {
					t.Fatalf("exit %d, want %d:\n%s", code, tc.code, all)
				}
				for _, w := range tc.want {
					if !strings.Contains(all, w) {
						t.Errorf("output lacks %q:\n%s", w, all)
					}
				}
				for _, w := range tc.not {
					if strings.Contains(all, w) {
						t.Errorf("output shows %q:\n%s", w, all)
					}
				}
				if strings.Contains(all, "12 Rue Rachel") || strings.Contains(all, "514-555") {
					t.Fatalf("private details in the audit output:\n%s", all)
				}
				if tc.audited {
					looks++
				}
				if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'audit.viewed' AND actor_member_id IS NULL AND detail LIKE 'via=cli%'`); n != looks {
					t.Errorf("audit.viewed rows = %d, want %d", n, looks)
				}
			})
		}

		// CSV: a header and one record per row, newest first, the disclosure among them.
		c, out, errb := auditCLI(t, dsn, "en")
		if code := c.audit(context.Background(), []string{"--community", "test", "--member", bob, "--csv"}); code != 0 {
			t.Fatalf("csv: %d\n%s", code, errb.String())
		}
		recs, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") || len(recs) < 3 {
			t.Fatalf("csv:\n%s", out.String())
		}
		var kinds []string
		for i, r := range recs[1:] {
			kinds = append(kinds, r[1])
			if i > 0 && r[0] > recs[i][0] {
				t.Errorf("row %d is newer than the one before it", i+1)
			}
		}
		if !strings.Contains(strings.Join(kinds, ","), "disclosure") {
			t.Errorf("no disclosure in the csv:\n%s", out.String())
		}
	})
}

func TestSpreadsheetSafe(t *testing.T) {
	for in, want := range map[string]string{"=cmd()": "'=cmd()", "@x": "'@x", "Alice": "Alice", "": "", "a\x1b[2Jb": "a[2Jb"} {
		if got := spreadsheetSafe(printable(in)); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
