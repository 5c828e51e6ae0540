package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tend-community/tend/store"
)

// ErrNoKey means no encryption key is configured at all.
var ErrNoKey = errors.New("config: no encryption key: set " + EnvKey + " or " + EnvKeyFile + " (or encryption.key_file in the config file)")

func bothSet(env string) error {
	return fmt.Errorf("config: both %s and %s_FILE are set; set only one", env, env)
}

// Secret reads a secret from the env var name, or from the file named by name_FILE
// (content trimmed, as Docker and systemd credentials provide it). "" means unset.
// Errors name the variable and the file, never the value.
func (c *Config) Secret(name string) (string, error) {
	v, file := c.getenv(name), c.getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", bothSet(name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("config: %s_FILE: %w", name, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("config: %s_FILE: %s is empty", name, file)
		}
		return s, nil
	}
	return strings.TrimSpace(v), nil
}

// HasKey reports whether an encryption key is configured (not whether it is usable).
func (c *Config) HasKey() bool {
	return c.getenv(EnvKey) != "" || c.Encryption.KeyFile != ""
}

// KeySource says where the current key comes from, without the key: the env var or
// config field, and the file path when there is one. from is "" when no key is set.
func (c *Config) KeySource() (from, path string) {
	switch {
	case c.getenv(EnvKey) != "":
		return EnvKey, ""
	case c.Encryption.KeyFile != "":
		from = "encryption.key_file"
		if env, ok := c.fromEnv[from]; ok {
			from = env
		}
		return from, c.Encryption.KeyFile
	}
	return "", ""
}

// Keyring builds the keyring: the current key seals, the previous ones still open.
func (c *Config) Keyring() (*store.Keyring, error) {
	var (
		cur []byte
		err error
	)
	switch {
	case c.getenv(EnvKey) != "" && c.getenv(EnvKeyFile) != "":
		return nil, bothSet(EnvKey)
	case c.getenv(EnvKey) != "":
		if cur, err = store.ParseKey(c.getenv(EnvKey)); err != nil {
			return nil, fmt.Errorf("config: %s: %v", EnvKey, err)
		}
	case c.Encryption.KeyFile != "":
		if cur, err = LoadKeyFile(c.Encryption.KeyFile); err != nil {
			from, _ := c.KeySource()
			return nil, fmt.Errorf("config: %s: %w", from, err)
		}
	default:
		return nil, ErrNoKey
	}
	var older [][]byte
	for i, p := range c.Encryption.PreviousKeyFiles {
		k, err := LoadKeyFile(p)
		if err != nil {
			return nil, fmt.Errorf("config: encryption.previous_key_files[%d]: %w", i, err)
		}
		older = append(older, k)
	}
	return store.NewKeyring(cur, older...)
}

// LoadKeyFile reads and decodes a key file, refusing one that group or others can read.
func LoadKeyFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	// Windows has no such mode bits; its ACLs are the operator's business.
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s can be read by other users (mode %04o); run: chmod 600 %s",
			path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	k, err := store.ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %v", path, err)
	}
	return k, nil
}

// EnsureLocalKey writes a fresh key to path unless a file is already there. O_EXCL makes
// two processes starting together agree on one key.
func EnsureLocalKey(path string) (created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("config: create key directory: %w", err)
	}
	key, err := store.NewKey()
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("config: create key file: %w", err)
	}
	_, werr := f.WriteString(key + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return false, fmt.Errorf("config: write key file %s: %w", path, werr)
	}
	return true, nil
}

// Token is the presence of one platform token; the value is never kept.
type Token struct {
	Env      string // e.g. TEND_SLACK_BOT_TOKEN
	Platform string
	// Needed is false when the platform's configured mode does not use this token (the
	// Slack app token in HTTP mode, the signing secret in socket mode).
	Needed   bool
	Set      bool
	FromFile bool  // set through Env_FILE
	Err      error // both set, or the file cannot be read

	mode string // the mode that needs it; "" for every mode
}

// EnvDiscordToken holds the Discord bot token (or EnvDiscordToken_FILE names a file).
const EnvDiscordToken = "TEND_DISCORD_TOKEN"

var platformTokens = []Token{
	{Env: "TEND_SLACK_BOT_TOKEN", Platform: "slack"},
	{Env: "TEND_SLACK_APP_TOKEN", Platform: "slack", mode: "socket"},
	{Env: "TEND_SLACK_SIGNING_SECRET", Platform: "slack", mode: "http"},
	{Env: EnvDiscordToken, Platform: "discord"},
	{Env: EnvMattermostToken, Platform: "mattermost"},
}

// PlatformTokens reports which platform tokens are set, for doctor and serve.
func (c *Config) PlatformTokens() []Token {
	out := make([]Token, 0, len(platformTokens))
	for _, t := range platformTokens {
		v, err := c.Secret(t.Env)
		t.Set, t.Err = v != "", err
		t.FromFile = c.getenv(t.Env+"_FILE") != ""
		t.Needed = t.mode == "" || t.mode == c.slackMode()
		out = append(out, t)
	}
	return out
}

// slackMode is the Slack mode in effect: socket unless the config says http.
func (c *Config) slackMode() string {
	if c.Slack.Mode == "" {
		return "socket"
	}
	return c.Slack.Mode
}
