package tiermem

import (
	"container/heap"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/tiermem/tiermem/internal/glob"
)

// Scan returns a batch of keys for a cursor-based iteration of every key,
// as Redis's SCAN does: start with cursor 0 and call again with the cursor
// it returns until that is 0. Every key present (and not expired) for the
// whole iteration is returned at least once while stores, deletes and
// migrations run, provided it does not move between tiers twice within
// the few microseconds one call reads the tiers' indexes (each tier is
// read twice, fastest to slowest and back, which catches a key moving
// once whenever it moves). A key stored or deleted during the iteration
// may or may not be returned. count (10 when not positive) is the work one call does: the
// number of keys it looks at, of which only those that match pattern are
// returned, so a batch may be empty before the end. pattern is a Redis
// glob ("*", "?", "[a-z]", "\x"); "" matches every key.
//
// The cursor is a position in the order of the keys' 64-bit hashes, so it
// survives any change to the tiers. Each call reads every tier's index
// once: a whole iteration costs O(keys × keys/count) key visits, and
// memory for count keys.
func (m *Manager) Scan(cursor uint64, pattern string, count int) (keys []string, next uint64, err error) {
	tok, err := m.enter()
	if err != nil {
		return nil, 0, err
	}
	defer m.gate.Leave(tok)
	if count <= 0 {
		count = 10
	}
	b := newScanBatch(cursor, count)
	now := m.now()
	for _, t := range m.listingOrder() {
		err := t.store.Scan(func(key string, meta []byte, _ int64) error {
			if env, err := decodeHeader(meta); err == nil && env.Expired(now) {
				return nil
			}
			b.add(xxhash.Sum64String(key), key)
			return nil
		})
		if err != nil {
			return nil, 0, storeError(err)
		}
	}
	return b.result(pattern)
}

// listingOrder returns each tier twice, in palindromic order
// (hot…glacier…hot): a listing of them in this order sees, in one of the
// two, every key that moves once during it (written to its new tier, then
// deleted from its old one).
func (m *Manager) listingOrder() []*tierState {
	order := slices.Clone(m.tiers)
	for i := len(m.tiers) - 1; i >= 0; i-- {
		order = append(order, m.tiers[i])
	}
	return order
}

// scanBatch keeps the count smallest distinct key hashes at or after a
// cursor, with their keys.
type scanBatch struct {
	cursor uint64
	count  int
	hashes hashHeap            // the hashes kept, largest on top
	keys   map[uint64][]string // the keys of each hash kept
	more   bool                // a hash after the batch was seen
}

func newScanBatch(cursor uint64, count int) *scanBatch {
	return &scanBatch{cursor: cursor, count: count, keys: make(map[uint64][]string, min(count, 1<<16))}
}

// add offers one listed key, whose hash is h.
func (b *scanBatch) add(h uint64, key string) {
	if h < b.cursor {
		return
	}
	if ks, ok := b.keys[h]; ok {
		if !slices.Contains(ks, key) { // a key in two tiers is listed twice
			b.keys[h] = append(ks, strings.Clone(key))
		}
		return
	}
	if len(b.hashes) == b.count {
		if h > b.hashes[0] {
			b.more = true
			return
		}
		delete(b.keys, heap.Pop(&b.hashes).(uint64))
		b.more = true
	}
	heap.Push(&b.hashes, h)
	b.keys[h] = []string{strings.Clone(key)} // kept: a store may pass keys over memory it reuses
}

// result returns the batch's keys that match pattern, in hash order, and
// the cursor after them: 0 when no key after them was seen.
func (b *scanBatch) result(pattern string) ([]string, uint64, error) {
	hashes := slices.Clone(b.hashes)
	slices.Sort(hashes)
	var keys []string
	for _, h := range hashes {
		for _, key := range b.keys[h] {
			if pattern == "" || glob.Match(pattern, key) {
				keys = append(keys, key)
			}
		}
	}
	if !b.more || len(hashes) == 0 {
		return keys, 0, nil
	}
	return keys, hashes[len(hashes)-1] + 1, nil // a last hash of 2⁶⁴-1 leaves nothing after it
}

// hashHeap is a max-heap of hashes.
type hashHeap []uint64

func (h hashHeap) Len() int           { return len(h) }
func (h hashHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h hashHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hashHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *hashHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Len returns the number of keys the Manager holds (a key kept in two
// tiers, by Copy, counts once; expired keys not yet deleted do not count).
// It reads every tier's index and sorts the keys' 64-bit hashes: O(keys)
// time and 8 bytes per key for the call. While keys move between tiers
// the count may be off by the keys moving.
//
// It calls no store from inside another's Scan: a store holds its lock
// during the callback, and a move holds one store's lock while it writes
// to the other, so a look from one into the other could deadlock.
func (m *Manager) Len() (int64, error) {
	tok, err := m.enter()
	if err != nil {
		return 0, err
	}
	defer m.gate.Leave(tok)
	now := m.now()
	var hashes []uint64
	for _, t := range m.tiers {
		err := t.store.Scan(func(key string, meta []byte, _ int64) error {
			if env, err := decodeHeader(meta); err == nil && env.Expired(now) {
				return nil
			}
			hashes = append(hashes, xxhash.Sum64String(key))
			return nil
		})
		if err != nil {
			return 0, storeError(err)
		}
	}
	slices.Sort(hashes)
	return int64(len(slices.Compact(hashes))), nil
}
