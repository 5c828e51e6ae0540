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
	"sync/atomic"
	"time"
)

// Keyring holds the AES-256 keys for private fields. The configured keys are master keys:
// the first seals until a rotation puts a data key in the database, and every one of
// them still opens what it sealed directly. Data keys live in the database wrapped by a
// master key (store/keys.go); a keyring bound to a database by Open loads them and
// follows rotations made by other processes. A Keyring is safe for concurrent use.
type Keyring struct {
	master  string                 // the current master key's id: it wraps new data keys
	masters map[string]cipher.AEAD // every configured master key; never changes
	view    atomic.Pointer[keyView]
	src     *keySource // nil when the keyring is not bound to a database
}

// keyView is one immutable picture of the keys: replaced whole, never changed in place.
type keyView struct {
	current string                 // seals new values: the current data key, or the master key
	data    map[string]cipher.AEAD // data keys that are not retired, unwrapped
	retired map[string]bool        // data keys whose material has been erased
	broken  map[string]error       // data keys this keyring cannot unwrap, and why
	at      time.Time              // when it was read from the database (zero: never)
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

func newAEAD(k []byte) (cipher.AEAD, error) {
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
	return aead, nil
}

// NewKeyring builds a keyring whose current master key is the first one given; the
// others are earlier master keys that still open what they sealed or wrapped.
func NewKeyring(current []byte, older ...[]byte) (*Keyring, error) {
	kr := &Keyring{masters: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{current}, older...) {
		aead, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		id := KeyID(k)
		kr.masters[id] = aead
		if i == 0 {
			kr.master = id
		}
	}
	kr.view.Store(&keyView{current: kr.master})
	return kr, nil
}

// CurrentID is the id of the key new values are sealed with: the current data key once
// a rotation has made one, the master key before.
func (k *Keyring) CurrentID() string { return k.view.Load().current }

// MasterID is the id of the current master key, the one that wraps data keys.
func (k *Keyring) MasterID() string { return k.master }

// IsMaster reports whether id names one of the configured master keys.
func (k *Keyring) IsMaster(id string) bool { _, ok := k.masters[id]; return ok }

// Seal encrypts plain with the current key. The context string binds the value to its
// use (a table and column) so a value cannot be moved to another place and opened. A
// bound keyring first checks for a newer current key when its picture is older than the
// refresh interval, so a running process follows a rotation without a restart.
func (k *Keyring) Seal(plain []byte, context string) (ct []byte, keyID string, err error) {
	v := k.view.Load()
	if k.src != nil && k.src.stale(v) {
		if v, err = k.src.refresh(k, v, false); err != nil {
			return nil, "", err
		}
	}
	return k.sealWith(v, v.current, plain, context)
}

func (k *Keyring) sealWith(v *keyView, id string, plain []byte, context string) ([]byte, string, error) {
	aead, err := k.aead(v, id)
	if err != nil {
		return nil, "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("store: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, []byte(context)), id, nil
}

// Open decrypts a value sealed by Seal with the key named keyID. A bound keyring that
// does not know keyID reads the database's keys again first: another process may have
// just made it.
func (k *Keyring) Open(ct []byte, keyID, context string) ([]byte, error) {
	v := k.view.Load()
	if _, err := k.aead(v, keyID); err != nil && k.src != nil && k.src.canLoad() {
		if nv, rerr := k.src.refresh(k, v, true); rerr == nil {
			v = nv
		} else {
			return nil, errors.Join(err, rerr)
		}
	}
	return k.openWith(v, ct, keyID, context)
}

func (k *Keyring) openWith(v *keyView, ct []byte, keyID, context string) ([]byte, error) {
	aead, err := k.aead(v, keyID)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(ct) < n {
		return nil, errors.New("store: sealed value is too short")
	}
	plain, err := aead.Open(nil, ct[:n], ct[n:], []byte(context))
	if err != nil {
		return nil, fmt.Errorf("store: open sealed value with key %s: %w", keyID, err)
	}
	return plain, nil
}

// aead finds a key by id: a data key, else a master key.
func (k *Keyring) aead(v *keyView, id string) (cipher.AEAD, error) {
	if a, ok := v.data[id]; ok {
		return a, nil
	}
	if a, ok := k.masters[id]; ok {
		return a, nil
	}
	if err, ok := v.broken[id]; ok {
		return nil, err
	}
	if v.retired[id] {
		return nil, fmt.Errorf("store: key %s was retired and erased; no value should still use it", id)
	}
	return nil, fmt.Errorf("store: no key with id %s in the keyring", id)
}
