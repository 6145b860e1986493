package heap_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

// storesOfBothKinds returns a CLOCK store and one keeping an LRU policy.
func storesOfBothKinds(t *testing.T) map[string]*heap.Store {
	return map[string]*heap.Store{
		"clock":  heap.New(),
		"policy": newPolicyStore(t, heap.PolicyOptions{Kind: cache.LRU, Capacity: 1 << 30, Exempt: isPinned}),
	}
}

// fillPending prepares key, writes value into it and returns it.
func fillPending(t *testing.T, s *heap.Store, key string, value []byte, metaLen int) tier.Pending {
	t.Helper()
	p, err := s.Prepare(key, len(value), metaLen)
	if err != nil {
		t.Fatal(err)
	}
	if n := copy(p.Value(), value); n != len(value) || len(p.Value()) != len(value) {
		t.Fatalf("Value has %d bytes, want %d", len(p.Value()), len(value))
	}
	return p
}

// TestPendingStoresAsPut commits prepared values, new and replacing ones
// (smaller, larger, same size), and checks that each reads back with its
// meta, that the store counts it as Put would, and that the value read is
// the prepared memory itself: no copy.
func TestPendingStoresAsPut(t *testing.T) {
	for name, s := range storesOfBothKinds(t) {
		t.Run(name, func(t *testing.T) {
			defer s.Close()
			want := map[string][]byte{}
			for i, size := range []int{0, 1, 100, 5000, 100, 64 << 10} {
				key := fmt.Sprint("k", i%3) // replaces from the fourth on
				value := bytes.Repeat([]byte{byte('a' + i)}, size)
				p := fillPending(t, s, key, value, 2)
				charged, err := p.Commit([]byte("m!"))
				if err != nil {
					t.Fatal(err)
				}
				if c := s.Cost(len(key), size, 2); charged != c {
					t.Fatalf("Commit charged %d, Cost says %d", charged, c)
				}
				want[key] = value
			}
			for key, value := range want {
				err := s.ViewMeta(key, func(v, meta []byte) error {
					if !bytes.Equal(v, value) || string(meta) != "m!" {
						return fmt.Errorf("%s reads %d bytes, meta %q", key, len(v), meta)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if s.Len() != 3 {
				t.Fatalf("Len = %d, want 3", s.Len())
			}
			var used int64
			s.Scan(func(key string, meta []byte, size int64) error { used += size; return nil })
			if used != s.Used() {
				t.Fatalf("Used = %d, the entries add up to %d", s.Used(), used)
			}
		})
	}
}

// TestPendingIsNotCopied: the bytes a reader sees are those written into
// Value, at the same address.
func TestPendingIsNotCopied(t *testing.T) {
	s := heap.New()
	defer s.Close()
	p, err := s.Prepare("k", 1<<20, 0)
	if err != nil {
		t.Fatal(err)
	}
	filled := p.Value()
	filled[0], filled[len(filled)-1] = 1, 2
	if _, err := p.Commit(nil); err != nil {
		t.Fatal(err)
	}
	s.View("k", func(v []byte) error {
		if &v[0] != &filled[0] || v[len(v)-1] != 2 {
			t.Error("the stored value is a copy of the prepared memory")
		}
		return nil
	})
	if p.Value() != nil {
		t.Error("Value after Commit is not nil")
	}
}

func TestPendingErrors(t *testing.T) {
	s := heap.New()
	if _, err := s.Prepare("", 1, 0); !errors.Is(err, tier.ErrInvalidKey) {
		t.Fatalf("Prepare of an empty key = %v", err)
	}
	if _, err := s.Prepare("k", 1<<32, 0); !errors.Is(err, tier.ErrTooLarge) {
		t.Fatalf("Prepare of 4 GiB = %v", err)
	}
	if _, err := s.Prepare("k", -1, 0); !errors.Is(err, tier.ErrTooLarge) {
		t.Fatalf("Prepare of -1 bytes = %v", err)
	}
	p := fillPending(t, s, "k", []byte("value"), 1)
	if _, err := p.Commit([]byte("too long")); !errors.Is(err, tier.ErrTooLarge) {
		t.Fatalf("Commit with more meta than prepared = %v", err)
	}
	if s.Len() != 0 {
		t.Fatal("a failed Commit stored the value")
	}
	if _, err := p.Commit([]byte("m")); err != nil { // still usable
		t.Fatalf("Commit after a failed one: %v", err)
	}
	if _, err := p.Commit(nil); err == nil {
		t.Fatal("a second Commit succeeded")
	}
	q := fillPending(t, s, "q", []byte("value"), 0)
	q.Discard()
	if _, err := q.Commit(nil); err == nil || s.Len() != 1 {
		t.Fatalf("Commit after Discard = %v, Len %d", err, s.Len())
	}
	r := fillPending(t, s, "r", []byte("value"), 0)
	s.Close()
	if _, err := r.Commit(nil); !errors.Is(err, tier.ErrClosed) {
		t.Fatalf("Commit after Close = %v", err)
	}
}

// TestPendingReplacesUnderReaders commits prepared values over a key that
// readers and Touches read all along (run with -race): every read sees
// one whole value, and the policy's victims keep working.
func TestPendingReplacesUnderReaders(t *testing.T) {
	for name, s := range storesOfBothKinds(t) {
		t.Run(name, func(t *testing.T) {
			defer s.Close()
			s.Put("k", bytes.Repeat([]byte{0}, 100), nil)
			var stop atomic.Bool
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					for !stop.Load() {
						err := s.View("k", func(v []byte) error {
							for _, b := range v {
								if b != v[0] {
									return fmt.Errorf("a torn value: %d and %d", v[0], b)
								}
							}
							return nil
						})
						if err != nil {
							t.Error(err)
							return
						}
						s.Touch("k")
					}
				})
			}
			for i := range 500 {
				p := fillPending(t, s, "k", bytes.Repeat([]byte{byte(i)}, 50+i%200), 0)
				if _, err := p.Commit(nil); err != nil {
					t.Fatal(err)
				}
			}
			stop.Store(true)
			wg.Wait()
			if v, ok := s.Victim(nil); ok && v != "k" {
				t.Fatalf("victim %q", v)
			}
		})
	}
}
