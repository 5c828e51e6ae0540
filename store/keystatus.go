package store

import (
	"context"
	"errors"
	"sort"
)

// Kinds of key in a KeysStatus.
const (
	KindMaster         = "master"          // the configured master key
	KindPreviousMaster = "previous_master" // an earlier master key still configured
	KindData           = "data"            // a data key kept in the database
	KindUnknown        = "unknown"         // a key id found on values but known nowhere
)

// KeyInfo is one key as `tend keys status` shows it.
type KeyInfo struct {
	ID   string
	Kind string
	// State is a data key's state; Sealing says new values are sealed with this key.
	State     string
	Sealing   bool
	CreatedAt int64
	RetiredAt int64
	// WrappedBy is the master key a data key is wrapped by; Wraps how many live data keys
	// a master key wraps.
	WrappedBy string
	Wraps     int
	// Problem says why this keyring cannot use the key, if it cannot.
	Problem string
	// Values are the values this key holds per column (columns holding none are left out).
	Values []KeyUse
	Total  int
}

// KeysStatus is every key and what it holds.
type KeysStatus struct {
	Master   string
	Keys     []KeyInfo
	Rotation *Rotation // the unfinished rotation, if any
	Columns  []string
}

// KeyStatus reports every key: the master keys configured, the data keys in the
// database, and any key id found on values that neither knows; with how many values
// each holds per sealed column.
func (db *DB) KeyStatus(ctx context.Context) (KeysStatus, error) {
	st := KeysStatus{}
	for _, c := range sealedColumns {
		st.Columns = append(st.Columns, c.Name())
	}
	v, err := db.reloadKeys(ctx)
	if err != nil {
		return st, err
	}
	if db.Keys != nil {
		st.Master = db.Keys.master
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		st.Keys, st.Rotation = nil, nil
		var dks []DataKey
		if err := tx.sel(ctx, &dks, `SELECT id, wrapped, wrapped_by, state, created_at, retired_at FROM data_keys ORDER BY created_at, id`); err != nil {
			return wrap(err, "data keys")
		}
		var r Rotation
		err := tx.get(ctx, &r, `SELECT * FROM key_rotations WHERE finished_at IS NULL ORDER BY id LIMIT 1`)
		switch {
		case err == nil:
			st.Rotation = &r
		case !errors.Is(err, ErrNotFound):
			return wrap(err, "rotation")
		}
		uses, err := tx.keyUses(ctx)
		if err != nil {
			return err
		}
		st.Keys = statusKeys(db.Keys, v, dks, uses)
		return nil
	})
	return st, err
}

// statusKeys lists masters first (the current one, then earlier ones), then data keys
// oldest first, then unknown ids.
func statusKeys(k *Keyring, v *keyView, dks []DataKey, uses []KeyUse) []KeyInfo {
	var out []KeyInfo
	index := map[string]int{}
	add := func(ki KeyInfo) {
		index[ki.ID] = len(out)
		out = append(out, ki)
	}
	if k != nil {
		add(KeyInfo{ID: k.master, Kind: KindMaster})
		var prev []string
		for id := range k.masters {
			if id != k.master {
				prev = append(prev, id)
			}
		}
		sort.Strings(prev)
		for _, id := range prev {
			add(KeyInfo{ID: id, Kind: KindPreviousMaster})
		}
	}
	for _, d := range dks {
		ki := KeyInfo{ID: d.ID, Kind: KindData, State: d.State, CreatedAt: d.CreatedAt, RetiredAt: d.RetiredAt.Int64, WrappedBy: d.WrappedBy}
		if v != nil {
			if err := v.broken[d.ID]; err != nil {
				ki.Problem = err.Error()
			}
		}
		if i, ok := index[d.WrappedBy]; ok && d.State != KeyRetired {
			out[i].Wraps++
		}
		add(ki)
	}
	for _, u := range uses {
		i, ok := index[u.KeyID]
		if !ok {
			add(KeyInfo{ID: u.KeyID, Kind: KindUnknown})
			i = index[u.KeyID]
		}
		out[i].Values = append(out[i].Values, u)
		out[i].Total += u.Count
	}
	if v != nil {
		if i, ok := index[v.current]; ok {
			out[i].Sealing = true
		}
	}
	return out
}
