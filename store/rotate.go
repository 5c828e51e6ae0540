package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// DefaultRotateBatch is how many values one transaction of a rotation re-encrypts.
const DefaultRotateBatch = 200

// DefaultRetireGrace is how long after a rotation starts its older key may be erased: far
// longer than DefaultKeyRefresh, so no running process can still be sealing with it.
const DefaultRetireGrace = 30 * time.Second

// maxRotatePasses bounds the passes made after the grace period: values that keep
// appearing under an older key mean a process that does not follow rotations is running.
const maxRotatePasses = 10

// RotateOptions tune a rotation; the zero value is the default.
type RotateOptions struct {
	// Batch is how many values one transaction re-encrypts.
	Batch int
	// Grace is how long after the rotation starts an older key may be retired; it must be
	// longer than the key refresh interval.
	Grace time.Duration
	// MasterOnly makes no new data key: it re-wraps the data keys under the current master
	// key and re-encrypts values still sealed directly with a master key (an unfinished
	// rotation is still resumed).
	MasterOnly bool
	// Progress, when set, hears how the rotation goes.
	Progress func(RotateEvent)
}

// What a RotateEvent reports.
const (
	RotateStarted   = "started"   // Key is the new current key
	RotateResumed   = "resumed"   // Key is the current key, Since when the rotation started
	RotateRewrapped = "rewrapped" // Count data keys were wrapped again under Key, the master
	RotateColumn    = "column"    // a pass over Column moved Count values; Stuck could not be
	RotateWaiting   = "waiting"   // waiting Wait before older keys may be retired
	RotateRetired   = "retired"   // Key is retired: its material is erased
)

// RotateEvent is one step of a rotation.
type RotateEvent struct {
	Kind   string
	Key    string
	Column string
	Pass   int
	Count  int
	Stuck  int
	Wait   time.Duration
	Since  time.Time
}

// StuckValues are values a rotation could not re-encrypt: their key is missing or they
// do not open.
type StuckValues struct {
	Column string
	KeyID  string
	Count  int
	Err    string
}

// RotateResult sums up a rotation.
type RotateResult struct {
	Current   string
	Started   bool
	Resumed   bool
	Rewrapped int
	Moved     int
	Passes    int
	Retired   []string
	Stuck     []StuckValues
	Finished  bool
}

// ErrRotationStuck means some values could not be re-encrypted (see RotateResult.Stuck);
// everything else was, and running the rotation again resumes it.
var ErrRotationStuck = errors.New("store: some sealed values could not be re-encrypted")

// Rotation is a key rotation's row.
type Rotation struct {
	ID         int64         `db:"id"`
	NewKey     string        `db:"new_key"`
	StartedAt  int64         `db:"started_at"`
	FinishedAt sql.NullInt64 `db:"finished_at"`
}

// RotateKeys makes a new data key current (or resumes the unfinished rotation),
// re-encrypts every sealed value not under it in small transactions while the bot keeps
// serving, and retires the older data keys once no value uses them and the grace period
// is over. It can be stopped at any point and run again.
func (db *DB) RotateKeys(ctx context.Context, opts RotateOptions) (RotateResult, error) {
	var res RotateResult
	if db.Keys == nil || db.Keys.src == nil {
		return res, errNoKeyring
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultRotateBatch
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultRetireGrace
	}
	if opts.Grace <= db.keyRefresh() {
		return res, fmt.Errorf("store: the grace period (%s) must be longer than the key refresh interval (%s)", opts.Grace, db.keyRefresh())
	}
	say := func(e RotateEvent) {
		if opts.Progress != nil {
			opts.Progress(e)
		}
	}
	if err := db.ReloadKeys(ctx); err != nil {
		return res, err
	}
	n, err := db.rewrap(ctx)
	if err != nil {
		return res, err
	}
	res.Rewrapped = n
	if n > 0 {
		say(RotateEvent{Kind: RotateRewrapped, Key: db.Keys.master, Count: n})
	}
	rot, started, err := db.startRotation(ctx, opts.MasterOnly)
	if err != nil {
		return res, err
	}
	v, err := db.reloadKeys(ctx)
	if err != nil {
		return res, err
	}
	res.Current = v.current
	switch {
	case started:
		res.Started = true
		say(RotateEvent{Kind: RotateStarted, Key: rot.NewKey})
	case rot != nil:
		res.Resumed = true
		say(RotateEvent{Kind: RotateResumed, Key: rot.NewKey, Since: time.Unix(rot.StartedAt, 0)})
	}
	// Seconds are stored: count the grace from the end of the second the rotation began.
	var deadline time.Time
	if rot != nil {
		deadline = time.Unix(rot.StartedAt+1, 0).Add(opts.Grace)
	}
	after := 0
	for pass := 1; ; pass++ {
		res.Passes = pass
		v, err := db.reloadKeys(ctx)
		if err != nil {
			return res, err
		}
		if rot != nil && v.current != rot.NewKey {
			return res, fmt.Errorf("store: the rotation to key %s is unfinished but the current key is %s", rot.NewKey, v.current)
		}
		moved, stuck, err := db.reencryptPass(ctx, v, pass, opts, say)
		res.Moved += moved
		if err != nil {
			return res, err
		}
		if wait := time.Until(deadline); wait > 0 {
			say(RotateEvent{Kind: RotateWaiting, Wait: wait})
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return res, ctx.Err()
			case <-t.C:
			}
			continue
		}
		left, retired, finished, err := db.retire(ctx, rot, v.current)
		if err != nil {
			return res, err
		}
		for _, id := range retired {
			res.Retired = append(res.Retired, id)
			say(RotateEvent{Kind: RotateRetired, Key: id})
		}
		stuckN := 0
		for _, s := range stuck {
			stuckN += s.Count
		}
		switch {
		case left == 0:
			res.Finished = finished || rot == nil
			return res, nil
		case left <= stuckN:
			res.Stuck = stuck
			return res, ErrRotationStuck
		}
		if after++; after >= maxRotatePasses {
			return res, fmt.Errorf("store: values keep being sealed with an older key (%d now); is a tend that predates key rotation still running?", left)
		}
	}
}

// rewrap wraps again, under the current master key, every data key an older master key
// wrapped, so the older master key can go.
func (db *DB) rewrap(ctx context.Context) (int, error) {
	k := db.Keys
	moved := 0
	err := db.InTx(ctx, func(tx *Tx) error {
		moved = 0
		var rows []DataKey
		if err := tx.sel(ctx, &rows, `SELECT id, wrapped, wrapped_by, state, created_at, retired_at FROM data_keys
			WHERE state <> 'retired' AND wrapped_by <> ? ORDER BY created_at, id`, k.master); err != nil {
			return wrap(err, "data keys to re-wrap")
		}
		for _, r := range rows {
			material, err := k.unwrapMaterial(r)
			if err != nil {
				return err
			}
			w, by, err := k.wrap(r.ID, material)
			if err != nil {
				return err
			}
			n, err := tx.exec(ctx, `UPDATE data_keys SET wrapped = ?, wrapped_by = ? WHERE id = ? AND wrapped_by = ? AND state <> 'retired'`,
				w, by, r.ID, r.WrappedBy)
			if err != nil {
				return wrap(err, "re-wrap data key")
			}
			moved += int(n)
		}
		return nil
	})
	return moved, err
}

// startRotation returns the unfinished rotation, or starts one: the current data key
// becomes retiring and a new one, wrapped by the current master key, becomes current.
// With masterOnly and nothing unfinished it returns nil.
func (db *DB) startRotation(ctx context.Context, masterOnly bool) (rot *Rotation, started bool, err error) {
	k := db.Keys
	err = db.InTx(ctx, func(tx *Tx) error {
		rot, started = nil, false
		if db.Engine == Postgres {
			// Two rotations started together must agree on one new key.
			if _, err := tx.exec(ctx, `LOCK TABLE key_rotations IN EXCLUSIVE MODE`); err != nil {
				return wrap(err, "lock rotations")
			}
		}
		var r Rotation
		err := tx.get(ctx, &r, `SELECT * FROM key_rotations WHERE finished_at IS NULL ORDER BY id LIMIT 1`)
		if err == nil {
			rot = &r
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return wrap(err, "unfinished rotation")
		}
		if masterOnly {
			return nil
		}
		id, material, err := k.newDataKey()
		if err != nil {
			return err
		}
		w, by, err := k.wrap(id, material)
		if err != nil {
			return err
		}
		now := time.Now().Unix()
		if _, err := tx.exec(ctx, `UPDATE data_keys SET state = 'retiring' WHERE state = 'current'`); err != nil {
			return wrap(err, "retire current key")
		}
		if _, err := tx.exec(ctx, `INSERT INTO data_keys (id, wrapped, wrapped_by, state, created_at) VALUES (?, ?, ?, 'current', ?)`,
			id, w, by, now); err != nil {
			return wrap(err, "new data key")
		}
		r = Rotation{NewKey: id, StartedAt: now}
		if r.ID, err = tx.insert(ctx, `INSERT INTO key_rotations (new_key, started_at) VALUES (?, ?)`, id, now); err != nil {
			return wrap(err, "new rotation")
		}
		rot, started = &r, true
		return nil
	})
	return rot, started, err
}

// reencryptPass moves every value of every sealed column that is not under the current
// key, batch by batch, walking each table once in key order.
func (db *DB) reencryptPass(ctx context.Context, v *keyView, pass int, opts RotateOptions, say func(RotateEvent)) (int, []StuckValues, error) {
	total := 0
	var stuck []StuckValues
	for _, c := range sealedColumns {
		moved := 0
		bad := map[string]*StuckValues{}
		var after []string
		for {
			m, last, n, err := db.reencryptBatch(ctx, c, v, after, opts.Batch, bad)
			moved += m
			if err != nil {
				return total + moved, nil, fmt.Errorf("store: re-encrypt %s: %w", c.Name(), err)
			}
			if n < opts.Batch {
				break
			}
			after = last
		}
		total += moved
		nStuck := 0
		for _, kid := range sortedKeys(bad) {
			stuck = append(stuck, *bad[kid])
			nStuck += bad[kid].Count
		}
		if pass == 1 || moved > 0 || nStuck > 0 {
			say(RotateEvent{Kind: RotateColumn, Column: c.Name(), Pass: pass, Count: moved, Stuck: nStuck})
		}
	}
	return total, stuck, nil
}

// reencryptBatch re-encrypts up to limit values of column c after the row key after, in
// one transaction. Each row is written only if it still holds the value read, so a
// concurrent change by the bot is never overwritten. It returns the values moved, the
// last row key seen and how many rows it read.
func (db *DB) reencryptBatch(ctx context.Context, c SealedColumn, v *keyView, after []string, limit int, bad map[string]*StuckValues) (int, []string, int, error) {
	k := db.Keys
	cols := append(append(append([]string{}, c.Key...), c.Uses...), c.CT, c.KeyID)
	keyList := strings.Join(c.Key, ", ")
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + c.Table + ` WHERE ` + c.KeyID + ` IS NOT NULL AND ` + c.KeyID + ` <> ?`
	args := []any{v.current}
	if after != nil {
		q += ` AND (` + keyList + `) > (` + placeholders(len(c.Key)) + `)`
		for _, a := range after {
			args = append(args, a)
		}
	}
	q += ` ORDER BY ` + keyList + fmt.Sprintf(` LIMIT %d`, limit)
	where := make([]string, len(c.Key))
	for i, col := range c.Key {
		where[i] = col + " = ?"
	}
	upd := `UPDATE ` + c.Table + ` SET ` + c.CT + ` = ?, ` + c.KeyID + ` = ? WHERE ` + strings.Join(where, " AND ") +
		` AND ` + c.KeyID + ` = ? AND ` + c.CT + ` = ?`

	type sealedRow struct {
		row SealedRow
		key []string
		ct  []byte
		kid string
	}
	var (
		moved int
		last  []string
		read  int
		seen  map[string]*StuckValues
	)
	err := db.InTx(ctx, func(tx *Tx) error {
		moved, last, read, seen = 0, nil, 0, map[string]*StuckValues{}
		rows, err := tx.x.QueryContext(ctx, tx.x.Rebind(q), args...)
		if err != nil {
			return err
		}
		var batch []sealedRow
		for rows.Next() {
			vals := make([]sql.NullString, len(c.Key)+len(c.Uses))
			dest := make([]any, 0, len(cols))
			for i := range vals {
				dest = append(dest, &vals[i])
			}
			var r sealedRow
			dest = append(dest, &r.ct, &r.kid)
			if err := rows.Scan(dest...); err != nil {
				_ = rows.Close()
				return err
			}
			r.row = SealedRow{}
			for i, col := range append(append([]string{}, c.Key...), c.Uses...) {
				r.row[col] = vals[i].String
				if i < len(c.Key) {
					r.key = append(r.key, vals[i].String)
				}
			}
			batch = append(batch, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		read = len(batch)
		for _, r := range batch {
			last = r.key
			context := c.Context(r.row)
			plain, err := k.openWith(v, r.ct, r.kid, context)
			if err != nil {
				s := seen[r.kid]
				if s == nil {
					s = &StuckValues{Column: c.Name(), KeyID: r.kid, Err: err.Error()}
					seen[r.kid] = s
				}
				s.Count++
				continue
			}
			ct, kid, err := k.sealWith(v, v.current, plain, context)
			if err != nil {
				return err
			}
			uargs := []any{ct, kid}
			for _, kv := range r.key {
				uargs = append(uargs, kv)
			}
			n, err := tx.exec(ctx, upd, append(uargs, r.kid, r.ct)...)
			if err != nil {
				return err
			}
			moved += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, nil, 0, err
	}
	for kid, s := range seen {
		if b := bad[kid]; b != nil {
			b.Count += s.Count
		} else {
			bad[kid] = s
		}
	}
	return moved, last, read, nil
}

// retire counts, in one transaction, the values not under the current key; retires
// every retiring data key no value uses; and finishes the rotation when nothing is left.
func (db *DB) retire(ctx context.Context, rot *Rotation, current string) (left int, retired []string, finished bool, err error) {
	err = db.InTx(ctx, func(tx *Tx) error {
		left, retired, finished = 0, nil, false
		uses, err := tx.keyUses(ctx)
		if err != nil {
			return err
		}
		byKey := map[string]int{}
		for _, u := range uses {
			if u.KeyID != current {
				left += u.Count
				byKey[u.KeyID] += u.Count
			}
		}
		if rot == nil {
			return nil
		}
		var retiring []string
		if err := tx.sel(ctx, &retiring, `SELECT id FROM data_keys WHERE state = 'retiring' ORDER BY created_at, id`); err != nil {
			return wrap(err, "retiring keys")
		}
		now := time.Now().Unix()
		remaining := 0
		for _, id := range retiring {
			if byKey[id] > 0 {
				remaining++
				continue
			}
			n, err := tx.exec(ctx, `UPDATE data_keys SET state = 'retired', wrapped = NULL, retired_at = ? WHERE id = ? AND state = 'retiring'`, now, id)
			if err != nil {
				return wrap(err, "retire key")
			}
			if n > 0 {
				retired = append(retired, id)
			}
		}
		if left > 0 || remaining > 0 {
			return nil
		}
		n, err := tx.exec(ctx, `UPDATE key_rotations SET finished_at = ? WHERE id = ? AND finished_at IS NULL`, now, rot.ID)
		if err != nil {
			return wrap(err, "finish rotation")
		}
		finished = n > 0
		if !finished {
			return nil
		}
		// Every community's privacy officer can see when its data changed keys.
		cs, err := tx.Communities(ctx)
		if err != nil {
			return err
		}
		var gone []string
		if err := tx.sel(ctx, &gone, `SELECT id FROM data_keys WHERE state = 'retired' AND retired_at >= ? ORDER BY retired_at, id`, rot.StartedAt); err != nil {
			return wrap(err, "retired keys")
		}
		detail := "retired=" + strings.Join(gone, ",") + " by=command line"
		for _, c := range cs {
			if err := tx.Audit(ctx, c.ID, 0, "keys.rotated", "key:"+rot.NewKey, detail); err != nil {
				return err
			}
		}
		return nil
	})
	return left, retired, finished, err
}

// KeyUse is how many values of a column one key holds.
type KeyUse struct {
	Column string
	KeyID  string
	Count  int
}

// keyUses counts the values of every sealed column per key.
func (tx *Tx) keyUses(ctx context.Context) ([]KeyUse, error) {
	var out []KeyUse
	for _, c := range sealedColumns {
		var rows []struct {
			KeyID string `db:"kid"`
			Count int    `db:"n"`
		}
		if err := tx.sel(ctx, &rows, `SELECT `+c.KeyID+` AS kid, COUNT(*) AS n FROM `+c.Table+` WHERE `+c.KeyID+` IS NOT NULL GROUP BY `+c.KeyID+` ORDER BY `+c.KeyID); err != nil {
			return nil, fmt.Errorf("store: count %s: %w", c.Name(), err)
		}
		for _, r := range rows {
			out = append(out, KeyUse{Column: c.Name(), KeyID: r.KeyID, Count: r.Count})
		}
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
