package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tend-community/tend/store"
)

func TestSecret(t *testing.T) {
	file := writeFile(t, "tok", "\n  xoxb-from-file \n", 0o600)
	empty := writeFile(t, "empty", "  \n", 0o600)
	cases := []struct {
		name    string
		getenv  func(string) string
		want    string
		wantErr string
	}{
		{"unset", env(), "", ""},
		{"env", env("TEND_X", " xoxb-env "), "xoxb-env", ""},
		{"file trimmed", env("TEND_X_FILE", file), "xoxb-from-file", ""},
		{"both", env("TEND_X", "a", "TEND_X_FILE", file), "", "both TEND_X and TEND_X_FILE are set"},
		{"missing file", env("TEND_X_FILE", "/nonexistent/tok"), "", "TEND_X_FILE"},
		{"empty file", env("TEND_X_FILE", empty), "", "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{getenv: tc.getenv}
			got, err := c.Secret("TEND_X")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "xoxb") {
					t.Errorf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Secret = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestLoadKeyFile(t *testing.T) {
	key, _ := store.NewKey()
	cases := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string
	}{
		{"private", key + "\n", 0o600, ""},
		{"read only", key, 0o400, ""},
		{"group readable", key, 0o640, "chmod 600"},
		{"world readable", key, 0o644, "chmod 600"},
		{"not a key", "hello", 0o600, "32 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "tend.key", tc.content, 0o600)
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			k, err := LoadKeyFile(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("err = %v, want %q naming the file", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), key) {
					t.Error("error leaks the key")
				}
				return
			}
			if err != nil || len(k) != 32 {
				t.Fatalf("LoadKeyFile = %d bytes, %v", len(k), err)
			}
		})
	}
	if _, err := LoadKeyFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("missing key file accepted")
	}
}

func TestKeyring(t *testing.T) {
	oldKey, _ := store.NewKey()
	newKey, _ := store.NewKey()
	oldFile := writeFile(t, "old.key", oldKey, 0o600)
	newFile := writeFile(t, "new.key", newKey, 0o600)
	loose := writeFile(t, "loose.key", newKey, 0o644)
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, _ := store.ParseKey(oldKey)
	oldRing, _ := store.NewKeyring(raw)
	sealed, oldID, _ := oldRing.Seal([]byte("42 Rue Beaubien"), "requests.private")

	cases := []struct {
		name     string
		getenv   func(string) string
		enc      Encryption
		wantErr  string
		wantNone bool
	}{
		{"env key", env(EnvKey, newKey), Encryption{}, "", false},
		{"key file with previous", env(), Encryption{KeyFile: newFile, PreviousKeyFiles: []string{oldFile}}, "", false},
		{"env key with previous", env(EnvKey, newKey), Encryption{PreviousKeyFiles: []string{oldFile}}, "", false},
		{"none", env(), Encryption{}, "", true},
		{"bad env key", env(EnvKey, "not-a-key"), Encryption{}, "TEND_ENCRYPTION_KEY: the encryption key must be", false},
		{"loose key file", env(), Encryption{KeyFile: loose}, "encryption.key_file: key file " + loose, false},
		{"loose previous", env(EnvKey, newKey), Encryption{PreviousKeyFiles: []string{loose}}, "previous_key_files[0]", false},
		{"both set", env(EnvKey, newKey, EnvKeyFile, newFile), Encryption{KeyFile: newFile}, "both", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{getenv: tc.getenv, Encryption: tc.enc, fromEnv: map[string]string{}}
			kr, err := c.Keyring()
			switch {
			case tc.wantNone:
				if !errors.Is(err, ErrNoKey) || c.HasKey() {
					t.Fatalf("err = %v, want ErrNoKey", err)
				}
				return
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), newKey) || strings.Contains(err.Error(), oldKey) {
					t.Error("error leaks a key")
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			nk, _ := store.ParseKey(newKey)
			if kr.CurrentID() != store.KeyID(nk) {
				t.Errorf("current key id = %s", kr.CurrentID())
			}
			if len(tc.enc.PreviousKeyFiles) > 0 {
				if got, err := kr.Open(sealed, oldID, "requests.private"); err != nil || string(got) != "42 Rue Beaubien" {
					t.Errorf("previous key cannot open old value: %v", err)
				}
			}
		})
	}
}

func TestEnsureLocalKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", ".tend")
	p := filepath.Join(dir, "tend.key")
	created, err := EnsureLocalKey(p)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %v, want 0600", st.Mode().Perm())
	}
	if d, _ := os.Stat(dir); d.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", d.Mode().Perm())
	}
	first, _ := os.ReadFile(p)
	if _, err := LoadKeyFile(p); err != nil {
		t.Fatalf("created key does not load: %v", err)
	}
	created, err = EnsureLocalKey(p)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if again, _ := os.ReadFile(p); string(again) != string(first) {
		t.Error("second call replaced the key")
	}
}

func TestEnsureLocalKeyConcurrent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tend.key")
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			created, err := EnsureLocalKey(p)
			if err != nil {
				t.Error(err)
			}
			if created {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n != 1 {
		t.Errorf("%d callers created the key, want 1", n)
	}
}

func TestPlatformTokens(t *testing.T) {
	file := writeFile(t, "discord", "tok-secret", 0o600)
	c := &Config{getenv: env("TEND_SLACK_BOT_TOKEN", "xoxb-secret", "TEND_DISCORD_TOKEN_FILE", file,
		"TEND_MATTERMOST_TOKEN_FILE", "/nonexistent")}
	got := map[string]Token{}
	for _, tk := range c.PlatformTokens() {
		got[tk.Env] = tk
	}
	if tk := got["TEND_SLACK_BOT_TOKEN"]; !tk.Set || tk.FromFile || tk.Platform != "slack" {
		t.Errorf("slack bot = %+v", tk)
	}
	if tk := got["TEND_SLACK_APP_TOKEN"]; tk.Set {
		t.Errorf("slack app = %+v", tk)
	}
	if tk := got["TEND_DISCORD_TOKEN"]; !tk.Set || !tk.FromFile {
		t.Errorf("discord = %+v", tk)
	}
	if tk := got["TEND_MATTERMOST_TOKEN"]; tk.Set || tk.Err == nil {
		t.Errorf("mattermost = %+v", tk)
	}
}
