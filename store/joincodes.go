package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// One-time codes join another space to a community: a moderator makes one, an
// administrator of the other space types it in /tend setup. A code is 16 characters
// from an alphabet without look-alikes (no 0, O, 1 or I), shown in groups of four. Its
// first group finds the row; the other twelve (60 bits) are the secret, of which only a
// hash is kept. A code works once, until it expires, and is burnt after JoinCodeTries
// wrong secrets; a refusal never says which of these it was.

// Limits of join codes.
const (
	JoinCodeTTL   = 24 * time.Hour
	JoinCodeTries = 5
	// joinCodeKeep is how long expired codes stay before they are pruned.
	joinCodeKeep = 7 * 24 * time.Hour
)

const (
	joinAlphabet  = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	joinLookupLen = 4
	joinSecretLen = 12
)

// NewJoinCode makes a one-time code for another space to join community, keeps only a
// hash of its secret, and returns the code as people type it and when it expires.
// createdBy is the moderator's member id, 0 for the command line.
func (tx *Tx) NewJoinCode(ctx context.Context, community, createdBy int64) (string, int64, error) {
	now := tx.Now()
	if _, err := tx.exec(ctx, `DELETE FROM join_codes WHERE expires_at < ?`, now-int64(joinCodeKeep/time.Second)); err != nil {
		return "", 0, wrap(err, "prune join codes")
	}
	for attempt := 0; attempt < 10; attempt++ {
		raw, err := randomCode(joinLookupLen + joinSecretLen)
		if err != nil {
			return "", 0, err
		}
		lookup, secret := raw[:joinLookupLen], raw[joinLookupLen:]
		var n int
		if err := tx.get(ctx, &n, `SELECT COUNT(*) FROM join_codes WHERE lookup = ?`, lookup); err != nil {
			return "", 0, wrap(err, "join code")
		}
		if n > 0 {
			continue
		}
		expires := now + int64(JoinCodeTTL/time.Second)
		if _, err := tx.exec(ctx, `INSERT INTO join_codes (community_id, lookup, secret_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			community, lookup, hashJoinSecret(lookup, secret), nullID(createdBy), now, expires); err != nil {
			return "", 0, wrap(err, "join code")
		}
		return groups(raw), expires, nil
	}
	return "", 0, fmt.Errorf("store: no free join code lookup")
}

// RedeemJoinCode checks a typed code and, when it is good, uses it up for the space
// (platform, workspace) and returns its community. A code that is malformed, unknown,
// expired, used or burnt gives ok false, whatever the reason; a wrong secret for a
// known code counts a try against that code, which the caller must keep.
func (tx *Tx) RedeemJoinCode(ctx context.Context, typed, platform, workspace string) (community int64, ok bool, err error) {
	raw := NormalizeJoinCode(typed)
	if len(raw) != joinLookupLen+joinSecretLen {
		return 0, false, nil
	}
	lookup, secret := raw[:joinLookupLen], raw[joinLookupLen:]
	var row struct {
		ID          int64  `db:"id"`
		CommunityID int64  `db:"community_id"`
		Hash        string `db:"secret_hash"`
		Expires     int64  `db:"expires_at"`
		Tries       int    `db:"tries"`
		Used        bool   `db:"used"`
	}
	err = tx.get(ctx, &row, `SELECT id, community_id, secret_hash, expires_at, tries, used_at IS NOT NULL AS used FROM join_codes WHERE lookup = ?`, lookup)
	if isNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, wrap(err, "join code")
	}
	now := tx.Now()
	if row.Used || row.Expires <= now || row.Tries >= JoinCodeTries {
		return 0, false, nil
	}
	if subtle.ConstantTimeCompare([]byte(row.Hash), []byte(hashJoinSecret(lookup, secret))) != 1 {
		_, err := tx.exec(ctx, `UPDATE join_codes SET tries = tries + 1 WHERE id = ?`, row.ID)
		return 0, false, wrap(err, "join code try")
	}
	// The conditions again in the update: of two spaces racing with one code, one wins.
	n, err := tx.exec(ctx, `UPDATE join_codes SET used_at = ?, used_platform = ?, used_workspace = ?
		WHERE id = ? AND used_at IS NULL AND expires_at > ? AND tries < ?`, now, platform, workspace, row.ID, now, JoinCodeTries)
	if err != nil {
		return 0, false, wrap(err, "use join code")
	}
	return row.CommunityID, n == 1, nil
}

// NormalizeJoinCode is a typed code without separators, in capitals.
func NormalizeJoinCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r == '-' || r == ' ' || r == '\t' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hashJoinSecret(lookup, secret string) string {
	sum := sha256.Sum256([]byte("tend join code\x00" + lookup + "\x00" + secret))
	return hex.EncodeToString(sum[:])
}

// randomCode draws n characters of the join alphabet (32 letters: a byte's low five bits
// pick one without bias).
func randomCode(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: random code: %w", err)
	}
	for i := range b {
		b[i] = joinAlphabet[b[i]&31]
	}
	return string(b), nil
}

// groups writes a code in groups of four: ABCD-EFGH-JKLM-NPQR.
func groups(s string) string {
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:min(i+4, len(s))])
	}
	return strings.Join(parts, "-")
}
