package store_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func keyring(t *testing.T, current []byte, older ...[]byte) *store.Keyring {
	t.Helper()
	kr, err := store.NewKeyring(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSealOpen(t *testing.T) {
	kr := storetest.Keys(t)
	plain := []byte("12 Rue Rachel Est")
	ct, kid, err := kr.Seal(plain, "requests.private:1")
	if err != nil {
		t.Fatal(err)
	}
	if kid != kr.CurrentID() || kid != store.KeyID(storetest.Key()) {
		t.Errorf("sealed with key %q, want the current key %q", kid, kr.CurrentID())
	}
	if bytes.Contains(ct, plain) {
		t.Fatal("ciphertext contains the plaintext")
	}
	ct2, _, _ := kr.Seal(plain, "requests.private:1")
	if bytes.Equal(ct, ct2) {
		t.Error("two seals of the same value are identical: nonce reused")
	}

	tests := []struct {
		name    string
		ct      []byte
		kid     string
		context string
		wantErr string
	}{
		{"round trip", ct, kid, "requests.private:1", ""},
		{"other row", ct, kid, "requests.private:2", "open sealed value"},
		{"other column", ct, kid, "claims.private:1", "open sealed value"},
		{"tampered", append(append([]byte{}, ct[:len(ct)-1]...), ct[len(ct)-1]^1), kid, "requests.private:1", "open sealed value"},
		{"truncated", ct[:4], kid, "requests.private:1", "too short"},
		{"unknown key", ct, "deadbeef", "requests.private:1", "deadbeef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kr.Open(tc.ct, tc.kid, tc.context)
			if tc.wantErr == "" {
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("Open = %q, %v; want %q", got, err, plain)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Open = %q, %v; want an error containing %q", got, err, tc.wantErr)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := key(1), key(2)
	old := keyring(t, oldKey)
	ct, kid, err := old.Seal([]byte("514-555-0199"), "ctx")
	if err != nil {
		t.Fatal(err)
	}
	if kid != store.KeyID(oldKey) {
		t.Fatalf("sealed with %s, want %s", kid, store.KeyID(oldKey))
	}

	rotated := keyring(t, newKey, oldKey)
	if rotated.CurrentID() != store.KeyID(newKey) {
		t.Fatalf("rotated keyring's current key is %s, want the new key %s", rotated.CurrentID(), store.KeyID(newKey))
	}
	got, err := rotated.Open(ct, kid, "ctx")
	if err != nil || string(got) != "514-555-0199" {
		t.Fatalf("rotated keyring opens old value: %q, %v", got, err)
	}
	if _, kid2, _ := rotated.Seal([]byte("x"), "ctx"); kid2 != store.KeyID(newKey) {
		t.Errorf("rotated keyring seals with %s, want the new key", kid2)
	}

	dropped := keyring(t, newKey)
	_, err = dropped.Open(ct, kid, "ctx")
	if err == nil || !strings.Contains(err.Error(), kid) {
		t.Fatalf("keyring without the old key: %v, want an error naming key %s", err, kid)
	}

	if store.KeyID(oldKey) == store.KeyID(newKey) {
		t.Error("two keys share a key id")
	}
}

func TestNewKeyring(t *testing.T) {
	if _, err := store.NewKeyring(make([]byte, 16)); err == nil {
		t.Error("NewKeyring accepted a 16-byte current key")
	}
	if _, err := store.NewKeyring(key(1), make([]byte, 31)); err == nil {
		t.Error("NewKeyring accepted a 31-byte older key")
	}
	k, err := store.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := store.ParseKey(k); err != nil || len(b) != 32 {
		t.Errorf("ParseKey(NewKey()) = %d bytes, %v", len(b), err)
	}
}

func TestParseKey(t *testing.T) {
	raw := storetest.Key()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"base64 std", base64.StdEncoding.EncodeToString(raw), true},
		{"base64 url", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)), true},
		{"base64 raw", base64.RawStdEncoding.EncodeToString(raw), true},
		{"hex", hex.EncodeToString(raw), true},
		{"hex upper, spaces", "  " + strings.ToUpper(hex.EncodeToString(raw)) + "\n", true},
		{"empty", "", false},
		{"blank", "   ", false},
		{"short base64", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"short hex", hex.EncodeToString(raw[:31]), false},
		{"long base64", base64.StdEncoding.EncodeToString(append(raw, 0)), false},
		{"not a key", "correct horse battery staple", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := store.ParseKey(tc.in)
			if tc.ok {
				if err != nil || len(b) != 32 {
					t.Fatalf("ParseKey(%q) = %d bytes, %v; want 32 bytes", tc.in, len(b), err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseKey(%q) accepted %d bytes", tc.in, len(b))
			}
		})
	}
	if b, _ := store.ParseKey(hex.EncodeToString(raw)); !bytes.Equal(b, raw) {
		t.Error("ParseKey(hex) decoded different bytes")
	}
	if b, _ := store.ParseKey(base64.StdEncoding.EncodeToString(raw)); !bytes.Equal(b, raw) {
		t.Error("ParseKey(base64) decoded different bytes")
	}
}

// TestRotationAtRest seals a request's private part with an old key, then reads it with
// a rotated keyring (new current key, old key kept) and with one that dropped the old key.
func TestRotationAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		oldKey, newKey := key(7), key(8)
		db.Keys = keyring(t, oldKey)
		c := community(t, db, "rot")
		m := member(t, db, c, "alice")
		want := store.Private{Address: "12 Rue Rachel Est", Phone: "514-555-0199"}
		req := request(t, db, c, m.ID, 1, want)

		read := func() (store.Private, store.Request, error) {
			var p store.Private
			var r store.Request
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				if r, err = tx.Request(ctx, req); err != nil {
					return err
				}
				p, err = tx.RequestPrivate(r)
				return err
			})
			return p, r, err
		}

		db.Keys = keyring(t, newKey, oldKey)
		p, r, err := read()
		if err != nil || p != want {
			t.Fatalf("rotated keyring: %+v, %v; want %+v", p, err, want)
		}
		if r.PrivateKeyID.String != store.KeyID(oldKey) {
			t.Errorf("stored key id %q, want the old key's %q", r.PrivateKeyID.String, store.KeyID(oldKey))
		}

		db.Keys = keyring(t, newKey)
		_, _, err = read()
		if err == nil || !strings.Contains(err.Error(), store.KeyID(oldKey)) {
			t.Fatalf("keyring without the old key: %v; want an error naming %s", err, store.KeyID(oldKey))
		}
		if errors.Is(err, store.ErrNotFound) {
			t.Errorf("a missing key reads as not found: %v", err)
		}
	})
}
