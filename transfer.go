package tiermem

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
)

// move copies key from one tier to another under the key's lock, then
// (unless keep is set) removes every other copy, but the cold log's when it
// is durable; it reports whether the key was there to move. The room in to
// is reserved before the lock is taken, so that no key lock is held while
// other keys are demoted to make it; wait says whether it waits for
// streams that hold the room it needs. A move the Manager chose (chosen:
// a demotion or a promotion, not Move) leaves a key pinned by the time it
// holds the key's lock where it is, and reports false.
func (m *Manager) move(key string, from, to *tierState, keep, chosen bool, wait patience) (bool, error) {
	if m.durable() && from == m.glacier && to.level < Cold {
		// A memory tier's values have a copy in the durable cold log: the
		// value goes there first, then up.
		cold := m.tiers[Cold]
		if ok, err := m.move(key, from, cold, keep, chosen, wait); !ok || err != nil {
			return ok, err
		}
		from, keep = cold, true
	}
	size, metaLen, err := m.sizeIn(from, key)
	if errors.Is(err, tier.ErrNotFound) {
		if from.victims != nil {
			from.victims.removed(key)
		}
		return false, nil
	}
	if err != nil {
		return false, storeError(err)
	}
	est := to.estimate(key, size, metaLen)
	if err := m.reserve(to, est, size, wait); err != nil {
		return false, fmt.Errorf("moving %q from %s to %s: %w", key, from.level, to.level, err)
	}
	defer to.unreserve(est)
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if chosen && m.pinnedLocked(from, key) {
		return false, nil // pinned since it was chosen: it stays
	}
	ok, err := m.copyLocked(key, from, to, est)
	if ok && err == nil {
		if err := m.logCopyLocked(key, from, to); err != nil {
			m.removeFrom(to, key) // the key stays where it was, as it was
			return false, err
		}
	}
	if ok && to == m.glacier {
		if err := m.settleGlacierCopy(key, from); err != nil {
			return false, err
		}
	}
	if ok && !keep {
		err = m.dropOthersLocked(key, to)
	}
	return ok, err
}

// settleGlacierCopy waits until the copy of key just written to glacier is
// durable, before any other copy may go; if it cannot be made so, the
// glacier copy is taken back and the key stays in from. The key's lock is
// held.
func (m *Manager) settleGlacierCopy(key string, from *tierState) error {
	err := m.syncGlacier()
	if err != nil {
		m.removeFrom(m.glacier, key) // a failure leaves a second copy: more glacier bytes, nothing lost
		return fmt.Errorf("moving %q from %s to glacier: %w (it stays in the %s tier)", key, from.level, err, from.level)
	}
	return nil
}

// dropOthersLocked removes key from every tier but keep (and the cold log,
// when it is durable and keep is a memory tier, whose values the log
// holds too). The key's lock is held.
func (m *Manager) dropOthersLocked(key string, keep *tierState) error {
	return m.dropExceptLocked(key, keep, m.durable() && keep.level < Cold)
}

// dropExceptLocked removes key from every tier but keep and, with keepLog,
// the cold tier. It removes from the slowest tier first and stops at the
// first failure, so that a failure never leaves an older copy below a newer
// one's absence: the key then reads as it did. The key's lock is held.
func (m *Manager) dropExceptLocked(key string, keep *tierState, keepLog bool) error {
	for i := len(m.tiers) - 1; i >= 0; i-- {
		u := m.tiers[i]
		// Not skipped when its Len is 0: a store's own work (tier/disk's
		// compaction moving its only key) may make Len read 0 while it
		// holds a copy, which would then outlive the value replacing it.
		if u == keep || keepLog && u.level == Cold {
			continue
		}
		if _, err := m.removeFrom(u, key); err != nil {
			return err
		}
	}
	return nil
}

// pinnedLocked reports whether key's entry in t is pinned: a key the
// Manager chose to move (a victim, a promotion) before it was pinned stays
// where it is. The key's lock is held.
func (m *Manager) pinnedLocked(t *tierState, key string) bool {
	meta, err := t.store.Meta(key) // without reading the value
	if err != nil {
		return false
	}
	env, err := decodeHeader(meta)
	return err == nil && env.Pinned
}

// sizeIn returns the sizes of key's value and meta in t.
func (m *Manager) sizeIn(t *tierState, key string) (int, int, error) {
	p := sizeProbes.Get().(*sizeProbe)
	defer sizeProbes.Put(p)
	err := t.store.ViewMeta(key, p.fn)
	return p.size, p.metaLen, err
}

// sizeProbe notes the sizes of the value and meta ViewMeta shows it. Its fn
// is built once, so that a look at a size allocates nothing (a closure
// handed to a store, an interface, would escape on every call).
type sizeProbe struct {
	size, metaLen int
	fn            func(value, meta []byte) error
}

var sizeProbes = sync.Pool{New: func() any {
	p := &sizeProbe{}
	p.fn = func(value, meta []byte) error {
		p.size, p.metaLen = len(value), len(meta)
		return nil
	}
	return p
}}

// copyLocked writes key's value from one tier into another, if key, meta and
// value take at most limit bytes (the room reserved), and reports whether the
// key was there to copy. The key's lock is held.
func (m *Manager) copyLocked(key string, from, to *tierState, limit int64) (bool, error) {
	m.beforeChange(key)
	var charged int64
	var env header.Header
	var err error
	if sv, sp, ok := storedPair(from, to); ok {
		err = sv.ViewStored(key, func(v tier.Stored) error {
			if env, err = decodeHeader(v.Meta); err != nil {
				return err
			}
			if int64(len(key)+len(v.Meta))+v.RawLen > limit {
				return errMoved
			}
			v.Meta = env.Encode()
			charged, err = sp.PutStored(key, v)
			return err
		})
	} else if from.level < Cold && to.level < Cold {
		charged, env, err = copyBetweenMemory(key, from, to, limit)
	} else {
		err = from.store.ViewMeta(key, func(value, meta []byte) error {
			var err error
			if env, err = decodeHeader(meta); err != nil {
				return err
			}
			if int64(len(key)+len(value)+len(meta)) > limit {
				return errMoved // replaced by a bigger value since it was measured
			}
			charged, err = to.store.Put(key, value, env.Encode())
			return err
		})
	}
	switch {
	case errors.Is(err, tier.ErrNotFound), errors.Is(err, errMoved):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("copying %q from %s to %s: %w", key, from.level, to.level, storeError(err))
	}
	if to.victims != nil {
		to.victims.added(key, charged, env.Pinned)
	}
	return true, nil
}

// copyBetweenMemory copies key's value from one memory tier into the other
// outside the source's view: each memory store holds a shard lock while a
// view runs, so a Put into one inside the other's view, beside a copy the
// other way, deadlocked (TestLenWhileKeysMove, under -race). The value is
// taken as it lies where the source lends it (a large hot value) or opens
// it apart from its shard (a large uncompressed warm value, whose own lock
// no other store takes), and copied otherwise. The key's lock is held.
func copyBetweenMemory(key string, from, to *tierState, limit int64) (int64, header.Header, error) {
	if lo, ok := from.store.(largeOpener); ok {
		if charged, env, done, err := copyLarge(lo, key, to, limit); done {
			return charged, env, err
		}
	}
	var value, meta []byte
	err := from.store.ViewMeta(key, func(v, mt []byte) error {
		if int64(len(key)+len(v)+len(mt)) > limit {
			return errMoved // replaced by a bigger value since it was measured
		}
		meta = bytes.Clone(mt)
		if value = v; !from.lends(len(v)) {
			value = bytes.Clone(v)
		}
		return nil
	})
	if err != nil {
		return 0, header.Header{}, err
	}
	env, err := decodeHeader(meta)
	if err != nil {
		return 0, env, err
	}
	charged, err := to.store.Put(key, value, env.Encode())
	return charged, env, err
}

// copyLarge puts key's value into to from where from holds it, opened as
// a LargeValue, and reports done false when from does not open it so.
func copyLarge(lo largeOpener, key string, to *tierState, limit int64) (charged int64, env header.Header, done bool, err error) {
	v, opened, err := lo.OpenLarge(key)
	if err != nil || !opened {
		return 0, env, err != nil, err
	}
	defer v.Close()
	if int64(len(key)+len(v.Meta()))+v.Size() > limit {
		return 0, env, true, errMoved
	}
	if env, err = decodeHeader(v.Meta()); err != nil {
		return 0, env, true, err
	}
	err = v.View(func(value []byte) error {
		charged, err = to.store.Put(key, value, env.Encode())
		return err
	})
	return charged, env, true, err
}

// storedPair returns from's and to's stores when a value can go from one
// to the other as stored (cold's zstd frames into glacier, neither
// decompressed nor compressed again).
func storedPair(from, to *tierState) (tier.StoredViewer, tier.StoredPutter, bool) {
	sv, ok := from.store.(tier.StoredViewer)
	if !ok {
		return nil, nil, false
	}
	sp, ok := to.store.(tier.StoredPutter)
	return sv, sp, ok
}

// errMoved stops a copy whose source changed after its room was reserved.
var errMoved = errors.New("tiermem: the value changed during a move")

// removeFrom deletes key from t, if there, and reports whether it was. A
// failed delete (a full disk for the cold tier's tombstone) leaves the key
// where it was. The key's lock is held.
func (m *Manager) removeFrom(t *tierState, key string) (bool, error) {
	if err := m.settleDropBeforeCold(t, key); err != nil {
		return false, err
	}
	m.beforeChange(key)
	_, err := t.store.Delete(key)
	if err != nil && err != tier.ErrNotFound && !errors.Is(err, tier.ErrNotFound) { // the bare sentinel first: most Stores miss in every other tier
		return false, fmt.Errorf("removing %q from the %s tier: %w", key, t.level, storeError(err))
	}
	if t.victims != nil {
		t.victims.removed(key)
	}
	if err == nil && t == m.glacier && m.durable() {
		m.glacierSync.noteDropped(key)
	}
	return err == nil, nil
}

// settleDropBeforeCold makes glacier's record that key's older copy left
// it durable before the cold copy goes, when t is the cold tier under a
// durable log and that record is not durable yet (wasDropped): the cold
// copy, newer, hides the glacier one at Open (dropShadowedGlacierCopies),
// and once its tombstone is durable nothing else does, so a crash between
// the two would bring the older value back. A key glacier never held pays
// nothing (one look at the set of dropped keys). The key's lock is held,
// as putLocked holds it while it syncs glacier.
func (m *Manager) settleDropBeforeCold(t *tierState, key string) error {
	if t.level != Cold || m.glacier == nil || !m.durable() || !m.glacierSync.wasDropped(key) || !t.has(key) {
		return nil
	}
	if err := m.syncGlacier(); err != nil {
		return fmt.Errorf("removing %q from the cold tier: glacier's record that an older copy left it is not durable, "+
			"and the cold copy hides that copy until it is (it stays): %w", key, err)
	}
	return nil
}
