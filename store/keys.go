package store

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// Data key states. A rotation makes a new key current and the previous one retiring; a
// retiring key is retired (its material erased) once no value uses it.
const (
	KeyCurrent  = "current"
	KeyRetiring = "retiring"
	KeyRetired  = "retired"
)

// DefaultKeyRefresh is how often, at most, a process reads the data keys again when it
// seals: the longest a process keeps sealing with a key after a rotation replaced it.
const DefaultKeyRefresh = 5 * time.Second

// keyLoadTimeout bounds a read of the data keys made on the sealing path, which has no
// context of its own.
const keyLoadTimeout = 10 * time.Second

// DataKey is one row of data_keys, without its material.
type DataKey struct {
	ID        string        `db:"id"`
	Wrapped   []byte        `db:"wrapped"`
	WrappedBy string        `db:"wrapped_by"`
	State     string        `db:"state"`
	CreatedAt int64         `db:"created_at"`
	RetiredAt sql.NullInt64 `db:"retired_at"`
}

func dataKeyContext(id string) string { return "data_keys:" + id }

// keySource is where a bound keyring reads its data keys again.
type keySource struct {
	mu     sync.Mutex // one reload at a time
	q      sqlx.QueryerContext
	engine Engine
	every  atomic.Int64 // nanoseconds between reloads on the sealing path
	table  atomic.Bool  // data_keys is known to exist
}

// canLoad is false for an in-memory SQLite database, whose single connection may be held
// by the very transaction that seals: it is reloaded only at explicit points (after Open,
// Migrate and a rotation step), which is enough since no other process can share it.
func (s *keySource) canLoad() bool { return s.q != nil }

func (s *keySource) stale(v *keyView) bool {
	return s.canLoad() && time.Since(v.at) >= time.Duration(s.every.Load())
}

// refresh reads the data keys again unless another caller did since seen was taken.
func (s *keySource) refresh(k *Keyring, seen *keyView, force bool) (*keyView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := k.view.Load(); v != seen && (force || !s.stale(v)) {
		return v, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), keyLoadTimeout)
	defer cancel()
	return k.reloadLocked(ctx, s.q)
}

// bind returns a keyring with the same master keys that reads its data keys from a
// database. q is a handle no transaction of the database can starve (nil: none, see
// canLoad).
func (k *Keyring) bind(q sqlx.QueryerContext, engine Engine) *Keyring {
	nk := &Keyring{master: k.master, masters: k.masters, src: &keySource{q: q, engine: engine}}
	nk.src.every.Store(int64(DefaultKeyRefresh))
	nk.view.Store(&keyView{current: k.master})
	return nk
}

// reload reads the data keys through q and installs the new picture. Reloads take turns,
// so a slow read can never install an older picture over a newer one.
func (k *Keyring) reload(ctx context.Context, q sqlx.QueryerContext) (*keyView, error) {
	if k.src == nil {
		return k.view.Load(), nil
	}
	k.src.mu.Lock()
	defer k.src.mu.Unlock()
	return k.reloadLocked(ctx, q)
}

func (k *Keyring) reloadLocked(ctx context.Context, q sqlx.QueryerContext) (*keyView, error) {
	rows, err := k.src.loadKeys(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: read data keys: %w", err)
	}
	v := k.picture(rows)
	k.view.Store(v)
	return v, nil
}

// picture unwraps the data keys into a new view.
func (k *Keyring) picture(rows []DataKey) *keyView {
	v := &keyView{current: k.master, data: map[string]cipher.AEAD{}, retired: map[string]bool{}, broken: map[string]error{}, at: time.Now()}
	for _, r := range rows {
		if r.State == KeyRetired {
			v.retired[r.ID] = true
			continue
		}
		if aead, err := k.unwrap(r); err != nil {
			v.broken[r.ID] = err
		} else {
			v.data[r.ID] = aead
		}
		if r.State == KeyCurrent {
			v.current = r.ID
		}
	}
	return v
}

// loadKeys reads data_keys, or nothing while the schema does not have it yet.
func (s *keySource) loadKeys(ctx context.Context, q sqlx.QueryerContext) ([]DataKey, error) {
	if !s.table.Load() {
		var n int
		probe := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'data_keys'`
		if s.engine == Postgres {
			probe = `SELECT COUNT(*) FROM (SELECT to_regclass('data_keys') AS t) x WHERE t IS NOT NULL`
		}
		if err := sqlx.GetContext(ctx, q, &n, probe); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nil
		}
		s.table.Store(true)
	}
	var rows []DataKey
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, wrapped, wrapped_by, state, created_at, retired_at FROM data_keys ORDER BY created_at, id`)
	return rows, err
}

// unwrap opens a data key with the master key that wrapped it.
func (k *Keyring) unwrap(r DataKey) (cipher.AEAD, error) {
	material, err := k.unwrapMaterial(r)
	if err != nil {
		return nil, err
	}
	return newAEAD(material)
}

// wrap seals a data key's material with the current master key.
func (k *Keyring) wrap(id string, material []byte) ([]byte, string, error) {
	return k.sealWith(&keyView{}, k.master, material, dataKeyContext(id))
}

// newDataKey makes fresh key material and its id.
func (k *Keyring) newDataKey() (string, []byte, error) {
	for {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", nil, fmt.Errorf("store: new data key: %w", err)
		}
		// A data key's id must never be mistaken for a master key's.
		if id := KeyID(b); !k.IsMaster(id) {
			return id, b, nil
		}
	}
}

// SetKeyRefresh changes how often, at most, sealing reads the data keys again (tests
// shorten it). It has no effect on a database opened without a keyring.
func (db *DB) SetKeyRefresh(d time.Duration) {
	if db.Keys != nil && db.Keys.src != nil {
		db.Keys.src.every.Store(int64(d))
	}
}

// keyRefresh is the refresh interval in effect.
func (db *DB) keyRefresh() time.Duration {
	if db.Keys == nil || db.Keys.src == nil || !db.Keys.src.canLoad() {
		return 0
	}
	return time.Duration(db.Keys.src.every.Load())
}

// ReloadKeys reads the data keys again. Call it outside any transaction.
func (db *DB) ReloadKeys(ctx context.Context) error {
	_, err := db.reloadKeys(ctx)
	return err
}

func (db *DB) reloadKeys(ctx context.Context) (*keyView, error) {
	if db.Keys == nil {
		return nil, nil
	}
	// Through the keys' own connection when there is one: a reload holds the lock that
	// sealing waits on, so it must not wait for a connection a sealing transaction holds.
	var q sqlx.QueryerContext = db.X
	if db.keysX != nil {
		q = db.keysX
	}
	return db.Keys.reload(ctx, q)
}

// DataKeys lists every data key, oldest first.
func (db *DB) DataKeys(ctx context.Context) ([]DataKey, error) {
	var rows []DataKey
	err := db.X.SelectContext(ctx, &rows, `SELECT id, wrapped, wrapped_by, state, created_at, retired_at FROM data_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: data keys: %w", err)
	}
	return rows, nil
}

var errNoKeyring = errors.New("store: this needs the encryption key: the database was opened without a keyring")

// unwrapMaterial opens a data key's material, for wrapping it again.
func (k *Keyring) unwrapMaterial(r DataKey) ([]byte, error) {
	if !k.IsMaster(r.WrappedBy) {
		return nil, fmt.Errorf("store: data key %s is wrapped by master key %s, which is not configured (add its file to encryption.previous_key_files)", r.ID, r.WrappedBy)
	}
	material, err := k.openWith(&keyView{}, r.Wrapped, r.WrappedBy, dataKeyContext(r.ID))
	if err != nil {
		return nil, fmt.Errorf("store: unwrap data key %s: %w", r.ID, err)
	}
	if KeyID(material) != r.ID {
		return nil, fmt.Errorf("store: data key %s does not match its id", r.ID)
	}
	return material, nil
}
