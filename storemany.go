package tiermem

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/tiermem/tiermem/internal/gate"
	"github.com/tiermem/tiermem/internal/header"
)

// StoreMany stores values[i] under keys[i], for every i, as Store does with
// opts (OnlyIf aside), and stores all of them or none: it checks every key
// and size, and reserves the room every value needs in its tier (and, with
// Durability, in the cold log), demoting other entries as a Store does,
// before it stores the first. A pair that cannot be placed (ErrInvalidKey,
// ErrTooLarge, ErrNoSpace) fails the whole call and nothing is stored. A
// key named twice takes its last value. The room is reckoned as a Store
// reserves it, before compression, but held for every value at once: when
// the last tier is nearly full, a batch of values the warm or cold tier
// would compress may be refused where Stores one by one would fit. The
// Manager keeps no reference to the keys or values past the call.
//
// It is not atomic for readers: a concurrent Retrieve may find some of the
// pairs stored and not yet others, and a concurrent Store of one of the
// keys may land before or after it. A Close waits for it to finish. Only a
// failure of the store itself once the room is held (a disk that fails a
// write, a cold log a full disk refuses past its budget) can leave the
// pairs before the one that failed stored: the error says which.
//
// Errors: ErrOptions for keys and values of different lengths or OnlyIf,
// and those of Store.
func (m *Manager) StoreMany(keys, values [][]byte, opts ...StoreOption) error {
	var o storeOptions
	for _, opt := range opts {
		o = opt(o)
	}
	switch {
	case o.invalid != nil:
		return o.invalid
	case o.cond != nil:
		return fmt.Errorf("%w: OnlyIf with StoreMany", ErrOptions)
	case len(keys) != len(values):
		return fmt.Errorf("%w: StoreMany of %d keys and %d values", ErrOptions, len(keys), len(values))
	}
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	b := batches.Get().(*batch)
	*b = batch{m: m, o: o, pairs: b.pairs[:0], spare: b.spare}
	if b.spare == nil {
		b.spare = b.holding
	}
	b.env = o.header(m.now)
	b.meta = b.env.Encode()
	defer b.done()
	if err := b.place(keys, values); err != nil {
		return err
	}
	return b.store(tok)
}

// batches keeps batches for reuse, so that an MSET allocates no room for
// its pairs.
var batches = sync.Pool{New: func() any { return new(batch) }}

// done gives back the room of the pairs not stored, and the batch to
// batches, with no reference to the caller's keys and values.
func (b *batch) done() {
	for i := range b.pairs {
		b.pairs[i].room.release()
		b.pairs[i].coldRoom.release()
	}
	if cap(b.pairs) > 1024 {
		return // a rare large batch: let it go
	}
	clear(b.pairs)
	*b = batch{pairs: b.pairs[:0], spare: b.spare}
	batches.Put(b)
}

// batch is one StoreMany: its pairs, each with the room held for it.
type batch struct {
	m     *Manager
	o     storeOptions
	env   header.Header
	meta  []byte
	pairs []batchPair
	held  [Glacier + 1]int64 // room the batch holds in each tier, by level
	// spare is holding, bound once per pooled batch: the room a pair
	// reserves is never made by demoting the entry another pair's room
	// counts on.
	spare spared
}

type batchPair struct {
	key      string
	value    []byte
	t        *tierState
	room     reservation
	coldRoom reservation // the cold log's copy, for a durable write
}

// place checks every pair and reserves its room, the last value of a key
// named twice only. One batch reserves at a time: two that each held part
// of a tier's room and waited for the other to give some back would wait
// out the room wait (a Store holds one reservation, and waits for none
// while it holds it).
func (b *batch) place(keys, values [][]byte) error {
	for _, k := range keys {
		if err := checkKey(keyString(k)); err != nil {
			return err
		}
	}
	later := namedLater(keys)
	b.m.batchMu.Lock()
	defer b.m.batchMu.Unlock()
	for i, k := range keys {
		if later(i) {
			continue
		}
		if err := b.reserve(keyString(k), values[i]); err != nil {
			return fmt.Errorf("storing %d pairs, none stored: %w", len(keys), err)
		}
	}
	return nil
}

// namedLater returns a function that reports whether keys[i] is named
// again after i: a few keys are compared, many go through a map.
func namedLater(keys [][]byte) func(i int) bool {
	if len(keys) <= 32 {
		return func(i int) bool {
			for _, k := range keys[i+1:] {
				if bytes.Equal(k, keys[i]) {
					return true
				}
			}
			return false
		}
	}
	last := make(map[string]int, len(keys))
	for i, k := range keys {
		last[keyString(k)] = i
	}
	return func(i int) bool { return last[keyString(keys[i])] != i }
}

// reserve places one pair: in the tier named, or in the fastest whose
// budget holds it beside the room the batch holds there already, and
// when room cannot be made there, the next.
func (b *batch) reserve(key string, value []byte) error {
	m := b.m
	metaLen := len(b.meta)
	t, err := m.placement(key, len(value), metaLen, b.o)
	if err != nil {
		return err
	}
	for ; ; t = m.tiers[t.level+1] {
		if !b.o.named && int(t.level)+1 < len(m.tiers) &&
			b.held[t.level]+t.estimate(key, len(value), metaLen) > t.free() {
			continue // the batch's own values fill this tier: on to the next, as a Store would be
		}
		p := batchPair{key: key, value: value, t: t}
		if p.room, err = b.take(t, key, len(value), waitFor(b.o.named)); err != nil {
			if !b.o.named && int(t.level)+1 < len(m.tiers) {
				continue
			}
			return fmt.Errorf("storing %q in the %s tier: %w", key, t.level, err)
		}
		b.held[t.level] += p.room.n
		if m.durable() && t.level < Cold {
			cold := m.tiers[Cold]
			if p.coldRoom, err = b.take(cold, key, len(value), waitStreams); err != nil {
				p.room.release()
				b.held[t.level] -= p.room.n
				return fmt.Errorf("storing %q in the cold log: %w", key, err)
			}
			b.held[cold.level] += p.coldRoom.n
		}
		b.pairs = append(b.pairs, p)
		return nil
	}
}

// take reserves the room a value of n bytes under key needs in t, less
// what key's entry there occupies, as a Store reserves it. Where the batch
// holds room in t already it waits for no one, since the room held in
// flight that a wait would be for may be its own: it demotes t's victims
// until the value fits, and with none left fails with ErrNoSpace. It
// demotes no entry the batch's room counts on (holding).
func (b *batch) take(t *tierState, key string, n int, wait patience) (reservation, error) {
	if b.held[t.level] != 0 {
		wait = waitNoOne
	}
	return b.m.reserveForSparing(t, key, n, len(b.meta), true, wait, b.spare)
}

// holding reports whether the room held for one of the batch's pairs
// counts on key's present entry (it was reserved less that entry's
// size): demoting that entry would take the room from under the pair,
// whose store would then wait for room the batch itself holds.
func (b *batch) holding(key string) bool {
	for i := range b.pairs {
		if r := &b.pairs[i].room; r.old > 0 && r.key == key {
			return true
		}
	}
	return false
}

// store writes every pair, each in the room held for it. A pair whose
// room was taken meanwhile (another write demoted the entry it counted on)
// waits for no one where later pairs hold room in its tier: that room,
// which a wait would be for, is the batch's own.
func (b *batch) store(tok gate.Token) error {
	m := b.m
	var later [Glacier + 1]int // pairs after the one stored, by tier
	for i := range b.pairs {
		later[b.pairs[i].t.level]++
	}
	for i := range b.pairs {
		p := &b.pairs[i]
		pr := prepared{room: &p.room, coldRoom: &p.coldRoom}
		later[p.t.level]--
		wait := waitStreams
		if later[p.t.level] > 0 {
			wait = waitNoOne
		}
		var err error
		if c := m.analytics.Load(); c != nil { // analytics_counters.go
			err = m.storeObserved(c, tok, p.key, p.value, b.meta, b.env, p.t, pr, wait)
		} else {
			err = m.put(p.key, p.value, b.meta, b.env, p.t, pr, wait)
		}
		if err != nil {
			return fmt.Errorf("storing %d pairs: %d stored, then: %w", len(b.pairs), i, err)
		}
	}
	return nil
}
