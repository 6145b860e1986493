package tiermem

import (
	"errors"
	"fmt"
	"github.com/tiermem/tiermem/internal/header"
	"time"

	"github.com/tiermem/tiermem/tier"
)

// reserve takes n bytes of t's budget for an entry holding a value of size
// bytes, demoting t's victims to the next tier (write before delete) until
// they fit. When t has no victim left while other writes or moves hold room
// in it, it waits for them (they add victims or give room back), for at most
// roomWait. It must be called without any key lock held: demotions take the
// victims' locks.
func (m *Manager) reserve(t *tierState, n int64, size int) error {
	if n > t.capacity {
		return fmt.Errorf("%w: a value of %d bytes takes %d bytes in the %s tier with its key and header, more than the tier's whole budget of %d",
			ErrTooLarge, size, n, t.level, t.capacity)
	}
	var wait backoff
	settled := 0 // consecutive looks that found no victim and nothing in flight
	for !t.tryReserve(n) {
		err := m.evictOne(t)
		switch {
		case err == nil:
			wait.reset()
			settled = 0
		case !errors.Is(err, errNoVictim):
			return err
		case t.reserved.Load() == 0 && settled >= 2:
			return fmt.Errorf("%w: %s", ErrNoSpace, t.whyFull())
		case t.reserved.Load() == 0:
			settled++ // what was in flight may have just finished: look again
		case !wait.sleep():
			return fmt.Errorf("%w: %s, and the writes in flight in it did not make room within %v", ErrNoSpace, t.full(), roomWait)
		default:
			settled = 0
		}
	}
	return nil
}

// errNoVictim says that a tier has no entry it can demote now.
var errNoVictim = errors.New("tiermem: no entry to demote")

// roomWait bounds how long a Store waits for writes in flight to make room.
const roomWait = 5 * time.Second

// backoff sleeps with a growing pause, up to roomWait in all.
type backoff struct {
	pause, slept time.Duration
}

func (b *backoff) reset() { *b = backoff{} }

// sleep pauses and reports whether the time allowed was not yet used up.
func (b *backoff) sleep() bool {
	if b.slept >= roomWait {
		return false
	}
	b.pause = min(max(2*b.pause, 20*time.Microsecond), time.Millisecond)
	time.Sleep(b.pause)
	b.slept += b.pause
	return true
}

// evictOne demotes the victim t's policy chooses, or returns errNoVictim.
func (m *Manager) evictOne(t *tierState) error {
	if t.victims == nil {
		return errNoVictim
	}
	key, ok := t.victims.next()
	if !ok {
		return errNoVictim
	}
	moved, err := m.demote(key, t)
	if err != nil {
		return err
	}
	if moved {
		t.evictions.Add(1)
	}
	return nil
}

// demote moves key from t to the next tier and reports whether it moved (it
// may have left t meanwhile). With a durable cold log, a value that leaves
// warm for cold is already there: only the warm copy goes.
func (m *Manager) demote(key string, from *tierState) (bool, error) {
	to := m.tiers[from.level+1]
	if m.opts.Durability != None && to.level == Cold {
		return m.dropCopy(key, from)
	}
	moved, err := m.move(key, from, to, false)
	if moved {
		from.demotions.Add(1)
	}
	return moved, err
}

// dropCopy removes key from a memory tier whose value the cold log holds too.
func (m *Manager) dropCopy(key string, from *tierState) (bool, error) {
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if !m.tiers[Cold].has(key) {
		return false, fmt.Errorf("tiermem: %q is in the %s tier but not in the cold log", key, from.level)
	}
	if removed, err := m.removeFrom(from, key); !removed {
		return false, err
	}
	from.demotions.Add(1)
	return true, nil
}

// move copies key from one tier to another under the key's lock, then
// (unless keep is set) removes every other copy, but the cold log's when it
// is durable; it reports whether the key was there to move. The room in to
// is reserved before the lock is taken, so that no key lock is held while
// other keys are demoted to make it.
func (m *Manager) move(key string, from, to *tierState, keep bool) (bool, error) {
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
	if err := m.reserve(to, est, size); err != nil {
		return false, fmt.Errorf("moving %q from %s to %s: %w", key, from.level, to.level, err)
	}
	defer to.unreserve(est)
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	ok, err := m.copyLocked(key, from, to, est)
	if ok && !keep {
		err = m.dropOthersLocked(key, to)
	}
	return ok, err
}

// dropOthersLocked removes key from every tier but keep (and the cold log,
// when it is durable). The key's lock is held.
func (m *Manager) dropOthersLocked(key string, keep *tierState) error {
	return m.dropExceptLocked(key, keep, m.opts.Durability != None)
}

// dropExceptLocked removes key from every tier but keep and, with keepLog,
// the cold tier. It removes from the slowest tier first and stops at the
// first failure, so that a failure never leaves an older copy below a newer
// one's absence: the key then reads as it did. The key's lock is held.
func (m *Manager) dropExceptLocked(key string, keep *tierState, keepLog bool) error {
	for i := len(m.tiers) - 1; i >= 0; i-- {
		u := m.tiers[i]
		if u == keep || keepLog && u.level == Cold {
			continue
		}
		if _, err := m.removeFrom(u, key); err != nil {
			return err
		}
	}
	return nil
}

// sizeIn returns the sizes of key's value and meta in t.
func (m *Manager) sizeIn(t *tierState, key string) (int, int, error) {
	var size, metaLen int
	err := t.meta.ViewMeta(key, func(value, meta []byte) error {
		size, metaLen = len(value), len(meta)
		return nil
	})
	return size, metaLen, err
}

// copyLocked writes key's value from one tier into another, if key, meta and
// value take at most limit bytes (the room reserved), and reports whether the
// key was there to copy. The key's lock is held.
func (m *Manager) copyLocked(key string, from, to *tierState, limit int64) (bool, error) {
	var charged int64
	var env header.Header
	err := from.meta.ViewMeta(key, func(value, meta []byte) error {
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

// errMoved stops a copy whose source changed after its room was reserved.
var errMoved = errors.New("tiermem: the value changed during a move")

// removeFrom deletes key from t, if there, and reports whether it was. A
// failed delete (a full disk for the cold tier's tombstone) leaves the key
// where it was. The key's lock is held.
func (m *Manager) removeFrom(t *tierState, key string) (bool, error) {
	_, err := t.store.Delete(key)
	if err != nil && !errors.Is(err, tier.ErrNotFound) {
		return false, fmt.Errorf("removing %q from the %s tier: %w", key, t.level, storeError(err))
	}
	if t.victims != nil {
		t.victims.removed(key)
	}
	return err == nil, nil
}

// storeError maps a tier's error to the Manager's sentinel, keeping both.
func storeError(err error) error {
	for _, pair := range []struct{ from, to error }{
		{tier.ErrNoSpace, ErrNoSpace}, {tier.ErrCorrupt, ErrCorrupt}, {tier.ErrNotFound, ErrNotFound},
		{tier.ErrTooLarge, ErrTooLarge}, {tier.ErrClosed, ErrClosed}, {tier.ErrInvalidKey, ErrInvalidKey},
	} {
		if errors.Is(err, pair.from) && !errors.Is(err, pair.to) {
			return fmt.Errorf("%w: %w", pair.to, err)
		}
	}
	return err
}
