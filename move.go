package tiermem

import (
	"errors"
	"fmt"
	"github.com/tiermem/tiermem/internal/header"
	"os"
	"path/filepath"

	"github.com/tiermem/tiermem/tier"
)

// Move moves key to tier t, making room there if needed; afterwards t is the
// only tier that holds it (but the cold log's copy, with a durable log).
// It moves pinned values too. Errors: ErrNotFound, ErrUnknownTier,
// ErrTooLarge, ErrNoSpace, ErrClosed.
func (m *Manager) Move(key string, t Tier) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	to, src, err := m.endpoints(key, t)
	if err != nil {
		return err
	}
	if done, err := m.keepOnly(key, to); done || err != nil {
		return err
	}
	return m.transfer(key, src, to, false)
}

// keepOnly drops key's other copies if tier to holds it already, and
// reports whether it did. It looks under the key's lock: a move that took
// the key out of to meanwhile must not leave it in no tier at all.
func (m *Manager) keepOnly(key string, to *tierState) (bool, error) {
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if !to.has(key) {
		return false, nil
	}
	return true, m.dropOthersLocked(key, to)
}

// Copy puts a copy of key in tier t and keeps the original where it is (as
// MemPool's copytodisk does): reads come from the fastest tier holding it, and
// the next Store, Delete or move of the key replaces or removes every copy.
func (m *Manager) Copy(key string, t Tier) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	to, src, err := m.endpoints(key, t)
	if err != nil || src == to || to.has(key) {
		return err
	}
	return m.transfer(key, src, to, true)
}

// endpoints returns tier t and the fastest tier that holds key.
func (m *Manager) endpoints(key string, t Tier) (to, src *tierState, err error) {
	if to, err = m.tierOf(t); err != nil {
		return nil, nil, err
	}
	cur, err := m.Tier(key)
	if err != nil {
		return nil, nil, err
	}
	return to, m.tiers[cur], nil
}

// transfer moves (or, with keep, copies) key from src to to and counts it.
func (m *Manager) transfer(key string, src, to *tierState, keep bool) error {
	ok, err := m.move(key, src, to, keep)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %q (deleted or moved meanwhile)", ErrNotFound, key)
	}
	if !keep {
		m.countMove(src, to)
	}
	return nil
}

// countMove counts an explicit move as a promotion or a demotion.
func (m *Manager) countMove(from, to *tierState) {
	if to.level < from.level {
		to.promotions.Add(1)
	} else {
		from.demotions.Add(1)
	}
}

// SaveTo writes key's value to the file at path (replaced atomically: a
// temporary file, synced, then renamed), without changing where the value
// lives or counting a read. Arrays are written in NumPy's .npy format, so
// that numpy.load reads them; other values as their bytes.
func (m *Manager) SaveTo(key, path string) error {
	return m.read(key, uncounted, func(_ *tierState, value []byte, env header.Header) error {
		return writeFileAtomic(path, func(f *os.File) error {
			if env.Kind == header.Array {
				return writeNPY(f, Array{DType: DType(env.DType), Shape: env.Shape, Data: value})
			}
			_, err := f.Write(value)
			return err
		})
	})
}

// writeFileAtomic creates path with the bytes write puts in a temporary file
// beside it, synced before the rename.
func writeFileAtomic(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("tiermem: saving to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("tiermem: saving to %s: %w", path, err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("tiermem: saving to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("tiermem: saving to %s: %w", path, err)
	}
	return nil
}

// Delete removes key from every tier. It returns ErrNotFound if no tier held it.
func (m *Manager) Delete(key string) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	if err := checkKey(key); err != nil {
		return err
	}
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	found := false
	for i := len(m.tiers) - 1; i >= 0; i-- { // the slowest first: a failure leaves the key as it was
		removed, err := m.removeFrom(m.tiers[i], key)
		if err != nil {
			return fmt.Errorf("tiermem: deleting %q: %w", key, err)
		}
		found = found || removed
	}
	m.ttl.set(key, 0)
	if !found {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return nil
}

// Clear deletes every key from every tier.
func (m *Manager) Clear() error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	for _, t := range m.tiers {
		keys, err := m.keysOf(t)
		if err != nil {
			return fmt.Errorf("tiermem: listing the %s tier: %w", t.level, err)
		}
		for _, key := range keys {
			if err := m.Delete(key); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	m.promoteMu.Lock()
	clear(m.promote)
	m.promoteMu.Unlock()
	return nil
}

// scanner lists a store's keys.
type scanner interface {
	Scan(fn func(key string, meta []byte, size int64) error) error
}

// keysOf lists the keys of tier t.
func (m *Manager) keysOf(t *tierState) ([]string, error) {
	sc, ok := t.store.(scanner)
	if !ok {
		return nil, fmt.Errorf("the %s store cannot list its keys", t.level)
	}
	var keys []string
	err := sc.Scan(func(key string, _ []byte, _ int64) error {
		keys = append(keys, key)
		return nil
	})
	if errors.Is(err, tier.ErrClosed) {
		err = ErrClosed
	}
	return keys, err
}
