package offheap_test

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

// keyMaker returns a function that formats prefix and i into a string over
// one reused buffer: valid until its next call (the store copies keys).
func keyMaker() func(prefix string, i int) string {
	key := make([]byte, 0, 32)
	return func(prefix string, i int) string {
		key = strconv.AppendInt(append(key[:0], prefix...), int64(i), 10)
		return unsafe.String(unsafe.SliceData(key), len(key))
	}
}

// TestHostileRSSAfterScatteredDeletes measures the bound the package doc
// states for the slab's resident memory, which is not Used: a record
// deleted from a span that still holds another stays resident, and only a
// record of its size class reuses the slot, so each class's spans hold at
// most its peak bytes of slots (plus a span). A store filled to a budget
// with 1000-byte records, left with one key in eight by deletes spread over
// it (as CLOCK demotion leaves it), then filled to the budget again with
// 3000-byte records, holds about twice its budget: at most the first
// class's peak plus the second's, never more. (The doc promised before that
// the RSS followed what is stored; a review measured 1.88× Used here.) Once
// the last records of the first size go, their spans empty and are given
// back: the RSS falls by most of that class's peak.
func TestHostileRSSAfterScatteredDeletes(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keyOf := keyMaker()
	value := make([]byte, 3000)
	for i := range value {
		value[i] = byte(i*7 + i>>3) // incompressible enough that s2 does not pay
	}
	runtime.GC()
	start := rssAnon(t)
	const n = 32 << 10
	for i := range n {
		if _, err := s.Put(keyOf("a", i), value[:1000], nil); err != nil {
			t.Fatal(err)
		}
	}
	budget := s.Used()
	for i := range n {
		if i%8 != 0 {
			if _, err := s.Delete(keyOf("a", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; s.Used() < budget; i++ {
		if _, err := s.Put(keyOf("b", i), value, nil); err != nil {
			t.Fatal(err)
		}
	}
	grew := rssAnon(t) - start
	t.Logf("Used %d (budget %d), RSS grew %d (%.2f× Used)", s.Used(), budget, grew, float64(grew)/float64(s.Used()))
	const slack = 2 << 20 // the Go heap's own growth, and a span a class
	if bound := budget + s.Used() + slack; grew > bound {
		t.Errorf("the RSS grew by %d bytes, past the documented bound of each class's peak (%d + %d, + %d)", grew, budget, s.Used(), slack)
	}
	for i := 0; i < n; i += 8 {
		if _, err := s.Delete(keyOf("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	after := rssAnon(t) - start
	t.Logf("after the last 1000-byte records left: RSS grew %d", after)
	if fell := grew - after; fell < budget*3/4 {
		t.Errorf("emptying the first class's spans gave back %d bytes of its peak of %d", fell, budget)
	}
}

// TestHostileIndexWithinItsChargeAfterDeletes: a key is charged indexShare
// (22 bytes) for the index, and a table halves once under a quarter full, so
// the index never takes more than 32 bytes a key (32/22 of the charge)
// beyond the first 1024 slots a shard, while 400k small keys are deleted
// down to one in five (demotion). Before, a table halved only under a
// sixteenth full: 80k keys kept an index of 7.9 MB, 128 bytes a key, 1.8×
// the store's whole Used.
func TestHostileIndexWithinItsChargeAfterDeletes(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keyOf := keyMaker()
	const n = 400_000
	value := []byte("8 bytes!")
	for i := range n {
		if _, err := s.Put(keyOf("k", i), value, nil); err != nil {
			t.Fatal(err)
		}
	}
	const free = 512 << 10 // the first 1024 slots a shard, charged to no key
	const slotsBytesPerKey = 32
	check := func() {
		t.Helper()
		if idx, bound := s.Stats().IndexBytes, s.Len()*slotsBytesPerKey+free; idx > bound {
			t.Fatalf("%d keys: the index takes %d bytes, past 32 a key (+%d free): %d", s.Len(), idx, int64(free), bound)
		}
	}
	for i := range n {
		if i%5 != 0 {
			if _, err := s.Delete(keyOf("k", i)); err != nil {
				t.Fatal(err)
			}
		}
		if i%10_000 == 0 {
			check()
		}
	}
	check()
	t.Logf("%d keys: index %d bytes, Used %d", s.Len(), s.Stats().IndexBytes, s.Used())
}

// TestHostileMetaTooLongIsTooLarge: Put, Prepare and SetMeta with a valid
// key and more meta than a record holds (64 KiB − 1) fail with
// tier.ErrTooLarge, naming the meta limit, not tier.ErrInvalidKey: a caller
// that maps ErrInvalidKey to "bad key" blamed the key before, and the same
// entry, which the heap tier takes, failed as "invalid key" on demotion.
func TestHostileMetaTooLongIsTooLarge(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	meta := make([]byte, 1<<16)
	want := func(op string, err error) {
		t.Helper()
		if errors.Is(err, tier.ErrInvalidKey) || !errors.Is(err, tier.ErrTooLarge) || !strings.Contains(err.Error(), "meta") {
			t.Errorf("%s of a valid key with %d bytes of meta: %v; want tier.ErrTooLarge naming the meta", op, len(meta), err)
		}
	}
	_, err = s.Put("key", []byte("v"), meta)
	want("Put", err)
	_, err = s.Prepare("key", 1, len(meta))
	want("Prepare", err)
	if _, err := s.Put("key", []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.SetMeta("key", meta, 1<<30)
	want("SetMeta", err)
	if _, err := s.Put("key", []byte("v"), meta[:1<<16-1]); err != nil {
		t.Errorf("Put with the most meta a record holds: %v", err)
	}
}
