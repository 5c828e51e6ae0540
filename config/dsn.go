package config

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/tend-community/tend/store"
)

// kvPassword matches password=... in a libpq key=value DSN, quoted or not.
var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

const hidden = "xxxxx"

// HasPassword reports whether a database DSN carries a password.
func HasPassword(dsn string) bool {
	return RedactDSN(dsn) != dsn
}

// RedactDSN hides any password in a DSN so it can be printed. A URL that cannot be
// parsed is hidden whole rather than risk showing it.
func RedactDSN(dsn string) string {
	if store.EngineOf(dsn) != store.Postgres {
		return dsn
	}
	l := strings.ToLower(dsn)
	if !strings.HasPrefix(l, "postgres://") && !strings.HasPrefix(l, "postgresql://") {
		return kvPassword.ReplaceAllString(dsn, "${1}"+hidden)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparseable URL hidden)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), hidden)
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", hidden)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// RedactIn hides dsn, and its password on its own, wherever they appear in text (a
// driver error, say).
func RedactIn(text, dsn string) string {
	if !HasPassword(dsn) {
		return text
	}
	text = strings.ReplaceAll(text, dsn, RedactDSN(dsn))
	for _, pw := range passwords(dsn) {
		if len(pw) >= 4 { // too short a password would blank out ordinary words
			text = strings.ReplaceAll(text, pw, hidden)
		}
	}
	return text
}

// passwords lists the password values a DSN carries.
func passwords(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && strings.Contains(dsn, "://") {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
		out = append(out, u.Query()["password"]...)
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		out = append(out, strings.Trim(m[2], "'"))
	}
	return out
}

// SQLitePath is the file behind a SQLite DSN, or "" for PostgreSQL or in-memory databases.
func SQLitePath(dsn string) string {
	if store.EngineOf(dsn) != store.SQLite {
		return ""
	}
	p := strings.TrimPrefix(dsn, "sqlite://")
	p = strings.TrimPrefix(p, "sqlite:")
	p = strings.TrimPrefix(p, "file:")
	p, _, _ = strings.Cut(p, "?")
	if p == "" || p == ":memory:" {
		return ""
	}
	return p
}
