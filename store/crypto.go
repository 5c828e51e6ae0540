package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Keyring holds the AES-256 keys for private fields. New values are sealed with the
// current key; older keys stay to open what they sealed, so keys can rotate.
type Keyring struct {
	current string
	keys    map[string]cipher.AEAD
}

// KeyID derives a short, stable id for a key without revealing it.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("tend-key-id:"), key...))
	return hex.EncodeToString(sum[:4])
}

// ParseKey decodes a 32-byte key written as base64 (standard or URL) or 64 hex digits.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the encryption key is empty")
	}
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.URLEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("the encryption key must be 32 bytes written as base64 or 64 hex digits")
}

// NewKey returns a fresh random key, base64 encoded.
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: new key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// NewKeyring builds a keyring whose current key is the first one given.
func NewKeyring(current []byte, older ...[]byte) (*Keyring, error) {
	kr := &Keyring{keys: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{current}, older...) {
		if len(k) != 32 {
			return nil, errors.New("store: encryption keys must be 32 bytes")
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("store: cipher: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("store: gcm: %w", err)
		}
		id := KeyID(k)
		kr.keys[id] = aead
		if i == 0 {
			kr.current = id
		}
	}
	return kr, nil
}

// CurrentID is the id of the key new values are sealed with.
func (k *Keyring) CurrentID() string { return k.current }

// Seal encrypts plain with the current key. The context string binds the value to its
// use (a table and column) so a value cannot be moved to another place and opened.
func (k *Keyring) Seal(plain []byte, context string) (ct []byte, keyID string, err error) {
	aead := k.keys[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("store: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, []byte(context)), k.current, nil
}

// Open decrypts a value sealed by Seal with the key named keyID.
func (k *Keyring) Open(ct []byte, keyID, context string) ([]byte, error) {
	aead, ok := k.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("store: no key with id %s in the keyring", keyID)
	}
	if len(ct) < aead.NonceSize() {
		return nil, errors.New("store: sealed value is too short")
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, ct[:n], ct[n:], []byte(context))
	if err != nil {
		return nil, fmt.Errorf("store: open sealed value with key %s: %w", keyID, err)
	}
	return plain, nil
}
