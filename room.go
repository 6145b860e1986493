package tiermem

import (
	"errors"
	"fmt"
	"time"
)

// reserve takes n bytes of t's budget for an entry holding a value of size
// bytes, demoting t's victims to the next tier (write before delete) until
// they fit. When t has no victim left while other writes or moves hold room
// in it, it waits for them (they add victims or give room back), for at most
// roomWait. Streams (StoreFrom) hold their room for as long as their
// readers take: a write that can go elsewhere (passStreams) does not wait
// for them, and fails at once with a *streamsHoldError when only streams
// hold the room it needs. A Close ends the wait with ErrClosed. It must be
// called without any key lock held: demotions take the victims' locks.
func (m *Manager) reserve(t *tierState, n int64, size int, wait patience) error {
	return m.reserveSparing(t, n, size, wait, nil)
}

// reserveSparing is reserve demoting no key spare spares: the key a
// Rename, CopyKey or Update rewrites in t, the keys a StoreMany holds room
// for, for which the room is.
func (m *Manager) reserveSparing(t *tierState, n int64, size int, wait patience, spare spared) error {
	if err := t.fits(n, size); err != nil {
		return err
	}
	pause := backoff{deadline: time.Now().Add(roomWait)}
	settled := 0 // consecutive looks that found no victim and nothing in flight
	for !t.tryReserve(n) {
		err := m.evictOneBut(t, spare)
		switch {
		case err == nil:
			pause.reset()
			settled = 0
		case !errors.Is(err, errNoVictim):
			return err
		case t.reserved.Load() == 0 && settled >= 2:
			return fmt.Errorf("%w: %s", ErrNoSpace, t.whyFull())
		case wait == waitNoOne:
			return fmt.Errorf("%w: %s, with the room this call holds there", ErrNoSpace, t.whyFull())
		case t.reserved.Load() == 0:
			settled++ // what was in flight may have just finished: look again
		case wait == passStreams && t.reserved.Load() <= t.streaming.Load():
			return fmt.Errorf("%w: %s: %w", ErrNoSpace, t.full(), &streamsHoldError{t.level, t.streaming.Load()})
		case m.gate.Closed():
			return ErrClosed
		case !pause.sleep():
			if n := t.streaming.Load(); n > 0 {
				return fmt.Errorf("%w: %s, and the writes in flight in it did not make room within %v: %w", ErrNoSpace, t.full(), roomWait, &streamsHoldError{t.level, n})
			}
			return fmt.Errorf("%w: %s, and the writes in flight in it did not make room within %v", ErrNoSpace, t.full(), roomWait)
		default:
			settled = 0
		}
	}
	return nil
}

// patience says whom a write that needs room held by writes in flight
// waits for.
type patience int

const (
	// passStreams: the write can go elsewhere (a demotion to the tier
	// after, a promotion, a tier chosen for an unnamed write): it does
	// not wait for streams, which may hold their room for minutes.
	passStreams patience = iota
	// waitStreams: the write has nowhere else to go (a tier named, the
	// cold log's copy): it waits for streams as for any write in flight.
	waitStreams
	// waitNoOne: the room in flight is the caller's own (a batch's
	// earlier pairs, StoreMany), which no wait would give back.
	waitNoOne
)

// waitFor returns the patience of a write that can go elsewhere unless
// named says it cannot.
func waitFor(named bool) patience {
	if named {
		return waitStreams
	}
	return passStreams
}

// streamsHoldError says that values being streamed into a tier hold the
// room a write needs there: a write that names no tier goes on to the
// next tier.
type streamsHoldError struct {
	level Tier
	n     int64
}

func (e *streamsHoldError) Error() string {
	return fmt.Sprintf("%d bytes of it are held by values being streamed into it (StoreFrom)", e.n)
}

// errNoVictim says that a tier has no entry it can demote now.
var errNoVictim = errors.New("tiermem: no entry to demote")

// roomWait bounds how long a Store waits for writes in flight to make room.
const roomWait = 5 * time.Second

// backoff sleeps with a growing pause, until its deadline.
type backoff struct {
	pause    time.Duration
	deadline time.Time
}

// reset starts the pauses short again after progress; the deadline stays,
// so that a Store that keeps losing the room it made to others gives up
// after roomWait too.
func (b *backoff) reset() { b.pause = 0 }

// sleep pauses and reports whether the deadline had not yet passed: the
// clock, not the sum of the pauses asked for, which a loaded machine
// stretches.
func (b *backoff) sleep() bool {
	if !time.Now().Before(b.deadline) {
		return false
	}
	b.pause = min(max(2*b.pause, 20*time.Microsecond), time.Millisecond)
	time.Sleep(b.pause)
	return true
}

// evictOne demotes the victim t's policy chooses, or returns errNoVictim.
func (m *Manager) evictOne(t *tierState) error { return m.evictOneBut(t, nil) }

// evictOneBut is evictOne choosing a victim spare does not spare.
func (m *Manager) evictOneBut(t *tierState, spare spared) error {
	if t.victims == nil {
		return errNoVictim
	}
	if m.demotesInBatches(t) {
		err := m.evictToGlacier(t, glacierBatchBytes)
		if errors.Is(err, errNoVictim) && m.durable() {
			return m.freeLogCopy(spare)
		}
		return err
	}
	key, ok := t.victims.nextBut(spare)
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

// freeLogCopy makes victims in a durable cold tier whose entries are all
// the log's copies of memory values, which it does not demote while a
// memory tier holds them: it drops the memory copies of victims of warm,
// else of hot (spare's keys spared), so that the log's copies become the
// cold tier's own entries, which can go down to glacier. It drops up to
// logCopyBatch bytes of them at a time, so that they go down in one batch
// (one upload, one sync) rather than one by one. errNoVictim when no
// memory tier has one.
func (m *Manager) freeLogCopy(spare spared) error {
	freed := int64(0)
	for _, t := range []*tierState{m.tiers[Warm], m.tiers[Hot]} {
		for t.victims != nil && freed < logCopyBatch {
			key, ok := t.victims.nextBut(spare)
			if !ok {
				break
			}
			size := m.tiers[Cold].sizeOf(key)
			moved, err := m.dropCopy(key, t)
			if err != nil && !errors.Is(err, errNoLogCopy) {
				return err
			}
			if !moved {
				break
			}
			t.demotions.Add(1)
			t.evictions.Add(1)
			freed += max(size, 1)
		}
	}
	if freed == 0 {
		return errNoVictim
	}
	return nil
}

// logCopyBatch is the most freeLogCopy makes cold's own at once.
const logCopyBatch = 1 << 20

// demote moves key from t to the next tier and reports whether it moved (it
// may have left t meanwhile). With a durable cold log, a value that leaves
// warm for cold is already there: only the warm copy goes. When the next
// tier has no room it can make (everything in it pinned), the value goes
// to the one after: a tier full of pinned values does not stop the tiers
// above it from demoting.
func (m *Manager) demote(key string, from *tierState) (bool, error) {
	var err error
	for _, to := range m.tiers[from.level+1:] {
		var moved bool
		moved, err = m.demoteTo(key, from, to)
		if moved {
			from.demotions.Add(1)
		}
		if !errors.Is(err, ErrNoSpace) {
			return moved, err
		}
	}
	return false, err
}

// demoteTo moves key from one tier to a lower one. With a durable cold log,
// a value that leaves memory for cold is already there: only the memory
// copy goes (unless SetDurability has not yet copied it to the log).
func (m *Manager) demoteTo(key string, from, to *tierState) (bool, error) {
	if m.durable() && to.level == Cold && from.level < Cold {
		moved, err := m.dropCopy(key, from)
		if !errors.Is(err, errNoLogCopy) {
			return moved, err
		}
	}
	return m.move(key, from, to, false, true, passStreams)
}

// dropCopy removes key from a memory tier whose value the cold log holds too.
func (m *Manager) dropCopy(key string, from *tierState) (bool, error) {
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if !from.has(key) {
		return false, nil // gone meanwhile (deleted, replaced elsewhere): nothing to drop
	}
	if m.pinnedLocked(from, key) {
		return false, nil // pinned since it was chosen: it stays
	}
	if !m.tiers[Cold].has(key) {
		return false, fmt.Errorf("%w: %q is in the %s tier", errNoLogCopy, key, from.level)
	}
	removed, err := m.removeFrom(from, key)
	if removed && !m.inTierAbove(key, m.tiers[Cold]) && m.tiers[Cold].victims != nil {
		m.readdVictim(m.tiers[Cold], key) // the cold copy is the only one now: it may go down to glacier
	}
	return removed, err
}
