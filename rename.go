package tiermem

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/tiermem/tiermem/internal/keylock"
)

// Rename gives key old's value the name new, atomically: no other Store,
// Update, Delete, move or Rename of either key comes between reading old
// and removing it, and a reader sees the value under one name or the other
// (for a moment, under both). The value keeps its kind (bytes, an array
// with its dtype and shape, a Go value), expiry, pin and read count
// (ReadCount, which promotion weighs), and stays in the tier old was in:
// it needs room there only for what its entry under new takes beyond its
// entry under old (a longer name), so it succeeds in a full tier. With
// replace, a value under new is replaced (in every tier); without, Rename
// returns ErrExists and changes nothing. Renaming a key to itself changes
// nothing (ErrExists without replace).
//
// The value keeps its idle time (IdleTime) where its tier keeps one: the
// hot tier, and a tier with a cache policy. The read count is kept by name
// (ReadCount): old keeps it too, so a value stored under old soon after
// starts from it until it ages away.
//
// A failure after new is written leaves the value under both names and
// returns the error: it is never lost. Errors: ErrNotFound for no old,
// ErrExists, ErrInvalidKey, and those of Store.
func (m *Manager) Rename(old, new string, replace bool) error {
	return m.rekey(old, new, replace, false)
}

// CopyKey stores a copy of key src's value under dst, atomically with
// respect to the other operations on both keys: the copy keeps the value's
// kind, expiry and pin, and goes to the tier src is in (Copy, by contrast,
// copies a key to another tier under the same name). With replace, a value
// under dst is replaced; without, CopyKey returns ErrExists. Copying a key
// onto itself returns ErrExists without replace and does nothing with it.
// Errors: those of Rename.
func (m *Manager) CopyKey(src, dst string, replace bool) error {
	return m.rekey(src, dst, replace, true)
}

// rekey is Rename, or with keep CopyKey.
func (m *Manager) rekey(from, to string, replace, keep bool) error {
	if err := checkKey(to); err != nil {
		return err
	}
	tok, err := m.enterKey(from)
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	r := rekeying{u: updater{m: m, key: to}, from: from, replace: replace, keep: keep}
	defer r.u.release()
	for try := 0; ; try++ {
		done, err := r.once(try < updateTries)
		if done && err == nil && !keep && from != to {
			m.carryReads(from, to)
		}
		if done || err != nil {
			return err
		}
		if try == updateTries {
			return fmt.Errorf("%w: %s %q to %q: room for the value could not be kept", ErrNoSpace, r.verb(), from, to)
		}
	}
}

// carryReads gives key to the reads its value earned under from, as a
// Rename keeps them: the estimate promotion compares with PromoteHits
// (ReadCount). The new key's counters may be shared with other keys', so
// it is raised to the old key's estimate, never lowered. Counters a
// concurrent Resize drops stay dropped, as any Add's then (freq.Sketch.Add).
func (m *Manager) carryReads(from, to string) {
	n := m.freq.Estimate(from)
	for range n {
		if m.freq.Estimate(to) >= n {
			return
		}
		m.freq.Add(to)
	}
}

// rekeying is one Rename or CopyKey: the updater of the new key holds the
// room it reserved across tries.
type rekeying struct {
	u       updater // of the new key; its fn is unused
	from    string
	replace bool
	keep    bool // CopyKey: the old key stays
}

// once reads the old key and writes it under the new name with both
// keys' locks held, if the room it needs is there; otherwise it makes room
// with no lock held and reports false, and the caller tries again.
func (r *rekeying) once(mayRetry bool) (bool, error) {
	m, to := r.u.m, r.u.key
	unlock := m.lockPair(r.from, to)
	w, err := r.readLocked()
	if err != nil {
		unlock()
		return true, err
	}
	if r.from == to {
		unlock()
		if r.replace && !r.keep {
			return true, nil
		}
		return true, fmt.Errorf("%w: %q", ErrExists, to)
	}
	if r.holdsLocked(w) || r.tryReserveLocked(w) {
		inGlacier, err := r.writeLocked(w)
		unlock()
		r.u.release()
		if errors.Is(err, errStoreFull) && mayRetry && m.evictOneBut(w.t, sparing(r.from)) == nil {
			return false, nil
		}
		if err == nil && m.syncsRemoval(r.from, inGlacier) {
			err = m.syncDelete(r.from)
		}
		return true, err
	}
	unlock()
	r.u.release()
	return false, r.makeRoom(w)
}

// verb names the call in errors.
func (r *rekeying) verb() string {
	if r.keep {
		return "copying"
	}
	return "renaming"
}

// growth returns the bytes a Rename's write of w under the new name takes
// in t beyond what it frees there in the same locked step: the old name's
// entry, which it removes, and the new name's, which it replaces (absent
// without replace). A Rename to a name no longer than the old one needs
// none. Exact with both locks held; without them, a guess that the check
// under them confirms. When only the growth was free, the tier holds both
// entries between the write and the removal of the old one, over its
// budget by up to the old entry for that moment: the value is never under
// neither name, and a crash never loses it.
func (r *rekeying) growth(t *tierState, w write) int64 {
	est := t.estimate(r.u.key, len(w.value), len(w.meta))
	return max(est-t.sizeOf(r.from)-t.sizeOf(r.u.key), 0)
}

// holdsLocked reports whether the room reserved on an earlier try covers
// the write: for a Rename its growth, in w's tier and in the cold log when
// the write goes through to it. With nothing reserved, the write tries
// for its whole entry's room first (tryReserveLocked). Both locks are held.
func (r *rekeying) holdsLocked(w write) bool {
	if r.keep {
		return r.u.holdsLocked(w)
	}
	if !r.u.room.reserved && !r.u.logRoom.reserved {
		return false
	}
	covers := func(res reservation, t *tierState) bool {
		g := r.growth(t, w)
		return g == 0 || res.reserved && res.t == t && g <= res.n
	}
	return covers(r.u.room, w.t) && (!w.through || covers(r.u.logRoom, r.u.m.tiers[Cold]))
}

// tryReserveLocked takes the room the write needs if it is free now,
// without making any. A Rename takes its whole entry's room when that is
// free, so that the tier stays within its budget while it holds both
// entries; else only its growth (see growth). Both locks are held.
func (r *rekeying) tryReserveLocked(w write) bool {
	if r.u.tryReserve(w) {
		return true
	}
	if r.keep {
		return false
	}
	if !r.tryGrow(&r.u.room, w.t, w) {
		return false
	}
	if w.through && !r.tryGrow(&r.u.logRoom, r.u.m.tiers[Cold], w) {
		r.u.release()
		return false
	}
	return true
}

// tryGrow reserves in res the growth of a Rename's write in t, if free.
func (r *rekeying) tryGrow(res *reservation, t *tierState, w write) bool {
	n := r.growth(t, w)
	if n == 0 {
		return true
	}
	if !t.tryReserve(n) {
		return false
	}
	*res = reservation{t: t, key: r.u.key, n: n, reserved: true}
	return true
}

// makeRoom reserves, with no lock held, the room the write of w needs,
// making it by demoting other entries than the old key, so that the value
// stays in the tier it was in (see reserveRewrite). A Rename reserves its
// growth only.
func (r *rekeying) makeRoom(w write) error {
	m, to := r.u.m, r.u.key
	var err error
	if r.keep {
		r.u.room, err = m.reserveRewrite(w.t, to, r.from, len(w.value), len(w.meta))
	} else {
		r.u.room, err = m.reserveGrowth(w.t, to, r.growth(w.t, w), len(w.value), sparing(r.from))
	}
	if err != nil {
		return fmt.Errorf("%s %q to %q in the %s tier: %w", r.verb(), r.from, to, w.t.level, err)
	}
	if !w.through {
		return nil
	}
	cold := m.tiers[Cold]
	if r.keep {
		r.u.logRoom, err = m.reserveFor(cold, to, len(w.value), len(w.meta), true, waitStreams)
	} else {
		r.u.logRoom, err = m.reserveGrowth(cold, to, r.growth(cold, w), len(w.value), nil)
	}
	if err != nil {
		return fmt.Errorf("%s %q to %q in the cold log: %w", r.verb(), r.from, to, err)
	}
	return nil
}

// reserveGrowth reserves n bytes in t for the growth of a Rename's write
// under key, demoting other entries than those spare spares (the old key)
// and, when only those could go, them as any victim (reserveRewrite).
// Nothing is reserved for no growth.
func (m *Manager) reserveGrowth(t *tierState, key string, n int64, valueLen int, spare spared) (reservation, error) {
	r := reservation{t: t, key: key, n: n}
	if n == 0 {
		return r, nil
	}
	err := m.reserveSparing(t, n, valueLen, waitStreams, spare)
	if errors.Is(err, ErrNoSpace) && spare != nil {
		err = m.reserveSparing(t, n, valueLen, waitStreams, nil)
	}
	if err != nil {
		return r, err
	}
	r.reserved = true
	return r, nil
}

// readLocked reads the old key's value and header, and checks the new
// key unless replace: what to write under the new name. Both locks are
// held.
func (r *rekeying) readLocked() (write, error) {
	m, to := r.u.m, r.u.key
	now := m.now().UnixNano()
	var w write
	found, err := m.viewStateLocked(r.from, now, func(t *tierState, value, meta []byte) error {
		env, err := decodeHeader(meta)
		w = write{t: t, value: bytes.Clone(value), meta: bytes.Clone(meta), env: env}
		if w.value == nil {
			w.value = []byte{}
		}
		return err
	})
	switch {
	case err != nil:
		return write{}, err
	case !found:
		return write{}, fmt.Errorf("%w: %q", ErrNotFound, r.from)
	}
	if !r.replace && r.from != to {
		taken, err := m.viewStateLocked(to, now, func(*tierState, []byte, []byte) error { return nil })
		if err != nil {
			return write{}, err
		}
		if taken {
			return write{}, fmt.Errorf("%w: %q", ErrExists, to)
		}
	}
	w.through = m.durable() && w.t.level < Cold
	return w, nil
}

// writeLocked writes the value under the new key (replacing it in every
// tier) and, for a Rename, then removes the old key from every tier. It
// reports whether glacier held the old key. Both locks are held.
func (r *rekeying) writeLocked(w write) (inGlacier bool, err error) {
	m, to := r.u.m, r.u.key
	var lastUse time.Time // where the tier's policy keeps it
	if !r.keep {
		lastUse, _ = m.lastUse(w.t, r.from)
	}
	if err := m.putOnceLocked(to, w.value, w.meta, w.env, w.t, w.through, nil); err != nil {
		return false, err
	}
	if r.keep {
		return false, nil
	}
	inGlacier, err = m.removeAllLocked(r.from)
	if err != nil {
		return inGlacier, fmt.Errorf("renaming %q to %q: the value is under both names: %w", r.from, to, err)
	}
	if !lastUse.IsZero() {
		m.setLastUse(w.t, to, lastUse) // its idle time
	}
	return inGlacier, nil
}

// lockPair takes the locks of two keys, in the stripes' order and once
// when they share a stripe, and returns the function that releases them.
// It is the one place a goroutine holds two key stripes: since every
// other holds at most one and this takes them in address order, two
// lockPairs cannot deadlock each other or anyone else.
func (m *Manager) lockPair(a, b string) (unlock func()) {
	la, lb := m.locks.Of(a), m.locks.Of(b)
	if la == lb {
		la.Lock()
		return la.Unlock
	}
	if lockBefore(lb, la) {
		la, lb = lb, la
	}
	la.Lock()
	lb.Lock()
	return func() {
		lb.Unlock()
		la.Unlock()
	}
}

// lockBefore orders two stripes by address.
func lockBefore(a, b *keylock.Stripe) bool {
	return uintptr(unsafe.Pointer(a)) < uintptr(unsafe.Pointer(b))
}
