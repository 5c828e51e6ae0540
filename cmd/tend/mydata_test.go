package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestExportAndForgetCommands: a moderator acting on a written request exports a
// member's data as JSON, then erases them; both are audited with the actor "cli".
func TestExportAndForgetCommands(t *testing.T) {
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
		h := bottest.New(t, db, "en")
		h.Join("alice")
		h.Volunteer("bob", "ride, meal", "any", "any")
		h.Vet("bob")
		claim := h.MustButton(bottest.To(h.Ask("alice", map[string]string{"category": "meal"}), "#board"), flows.ActClaim)
		if sent := h.Press("bob", claim); !bottest.Contains(bottest.To(sent, "@alice"), "Bob would like to help") {
			t.Fatalf("bob's claim:\n%s", bottest.Dump(sent))
		}
		h.Fake.Take()
		cat, err := catalog.New()
		if err != nil {
			t.Fatal(err)
		}
		mk := func() (*cli, *bytes.Buffer, *bytes.Buffer) {
			var out, errb bytes.Buffer
			return &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, cat: cat, lang: "en",
				getenv: env("TEND_DATABASE_URL", dsn, "TEND_DATA_DIR", t.TempDir(), "TEND_ENCRYPTION_KEY", storetest.KeyHex)}, &out, &errb
		}

		c, out, errb := mk()
		if code := c.export(context.Background(), []string{"--community", "test", "--member", "fake:alice"}); code != 0 {
			t.Fatalf("export: %d\n%s", code, errb.String())
		}
		var x flows.Export
		if err := json.Unmarshal(out.Bytes(), &x); err != nil {
			t.Fatalf("export is not JSON: %v\n%s", err, out.String())
		}
		if x.Profile.DisplayName != "Alice" || len(x.Requests) != 1 || x.Requests[0].Private.Address != "12 Rue Rachel Est, apt 3" || strings.Contains(out.String(), "Bob") {
			t.Fatalf("export:\n%s", out.String())
		}
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--community", "test"}, 2, "-member"},
			{[]string{"--community", "test", "--member", "fake:zoe"}, 1, "No member fake:zoe"},
			{[]string{"--community", "test", "--member", "zoe"}, 1, "No member zoe"},
		} {
			c, out, errb := mk()
			if code := c.export(context.Background(), tc.args); code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
				t.Fatalf("export %v: %d\n%s%s", tc.args, code, out.String(), errb.String())
			}
		}

		c, out, errb = mk()
		if code := c.forget(context.Background(), []string{"--community", "test", "--member", "fake:alice"}); code != 0 || !strings.Contains(out.String(), "is erased; 1 open request") {
			t.Fatalf("forget: %d\n%s%s", code, out.String(), errb.String())
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE platform_user_id = 'alice'`); n != 0 {
			t.Fatal("alice's identity is still there")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE user_id = 'bob' AND state = 'pending' AND card LIKE '%cancel.helper%'`); n != 1 {
			t.Fatal("bob is not told that the request is called off")
		}
		for _, action := range []string{"member.exported", "member.erased"} {
			if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND actor_member_id IS NULL AND detail LIKE '%by=cli%'`, action); n != 1 {
				t.Fatalf("%s is not audited as the command line", action)
			}
		}
		c, out, errb = mk()
		if code := c.forget(context.Background(), []string{"--community", "test", "--member", "fake:alice"}); code != 1 || !strings.Contains(errb.String(), "No member fake:alice") {
			t.Fatalf("forgetting twice: %d\n%s%s", code, out.String(), errb.String())
		}
	})
}
