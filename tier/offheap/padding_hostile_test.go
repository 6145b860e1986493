package offheap

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/tiermem/tiermem/tier"
)

// checkRecord verifies key's value and meta, the alignment of an
// uncompressed value, and that Size equals what the last write charged.
func checkRecord(t *testing.T, s *Store, key string, val, meta []byte, charged int64) {
	t.Helper()
	err := s.findAt(key, false, func(loc uint64, r record) error {
		// The record's own layout must be self-consistent.
		if r.layout.valueOffset() < r.layout.header+r.layout.keyLen+r.layout.meta {
			t.Fatalf("%s: value offset %d inside the head", key, r.layout.valueOffset())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ViewMeta(key, func(v, m []byte) error {
		if !bytes.Equal(v, val) {
			t.Fatalf("%s: value differs (%d bytes, want %d)", key, len(v), len(val))
		}
		if !bytes.Equal(m, meta) {
			t.Fatalf("%s: meta %d bytes %x.., want %d bytes", key, len(m), m[:min(len(m), 8)], len(meta))
		}
		if len(v) >= 256 && uintptr(unsafe.Pointer(unsafe.SliceData(v)))%8 != 0 {
			t.Fatalf("%s: value at %p is not 8-byte aligned", key, unsafe.SliceData(v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if charged >= 0 {
		if n, err := s.Size(key); err != nil || n != charged {
			t.Fatalf("%s: Size %d (%v), last write charged %d", key, n, err, charged)
		}
	}
	if m, err := s.Meta(key); err != nil || !bytes.Equal(m, meta) {
		t.Fatalf("%s: Meta %d bytes, %v", key, len(m), err)
	}
}

func randomMeta(rng *rand.Rand, n int) []byte {
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// Values around the slab/large boundary for several MaxSmall, compressed
// or not, through meta lengths 0..300 in a random order, with LargeValues
// held open across the changes; at the end the store is emptied and Used
// must be 0.
func TestPaddingMetaSweep(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, maxSmall := range []int64{0, 4 << 10, 1 << 20} {
		for _, compress := range []bool{false, true} {
			s, err := New(&Options{Capacity: 256 << 20, MaxSmall: maxSmall, Compress: compress})
			if err != nil {
				t.Fatal(err)
			}
			ms := maxSmall
			if ms == 0 {
				ms = 64 << 10
			}
			sizes := []int{int(ms) - 400, int(ms) - 64, int(ms) - 40, int(ms) - 24, int(ms) - 17, int(ms) - 16, int(ms) - 8, int(ms), int(ms) + 1, int(ms) + 16, int(ms) + 300, 4096*3 - 40, 70000, 1 << 20, 1<<20 + 3}
			type kv struct {
				val, meta []byte
				charged   int64
			}
			model := map[string]*kv{}
			var opened []*LargeValue
			var openedWant [][]byte
			for i, n := range sizes {
				if n <= 0 {
					continue
				}
				for _, klen := range []int{1, 13, 300} {
					key := fmt.Sprintf("%0*d", klen, i)
					var val []byte
					if compress && i%2 == 0 {
						val = bytes.Repeat([]byte("abcdefgh"), n/8+1)[:n]
					} else {
						val = randomMeta(rng, n)
					}
					meta := randomMeta(rng, []int{0, 5, 11, 14, 16, 40, 300}[rng.IntN(7)])
					c, err := s.Put(key, val, meta)
					if err != nil {
						t.Fatal(err)
					}
					model[key] = &kv{val, meta, c}
					checkRecord(t, s, key, val, meta, c)
				}
			}
			steps := 12
			if raceEnabled { // one goroutine: the sweep's own length buys nothing there
				steps = 2
			}
			for step := 0; step < steps; step++ {
				for key, e := range model {
					if rng.IntN(4) == 0 {
						if v, ok, err := s.OpenLarge(key); err != nil {
							t.Fatal(err)
						} else if ok {
							opened, openedWant = append(opened, v), append(openedWant, e.val)
						}
					}
					var n int
					switch step % 4 {
					case 0:
						n = 0
					case 1:
						n = 300
					default:
						n = rng.IntN(301)
					}
					meta := randomMeta(rng, n)
					c, err := s.SetMeta(key, meta, 1<<30)
					if err != nil {
						t.Fatalf("SetMeta %s, %d bytes: %v", key, n, err)
					}
					e.meta, e.charged = meta, c
					checkRecord(t, s, key, e.val, e.meta, c)
				}
				checkCounts(t, s)
				for i, v := range opened {
					got, err := readLarge(v)
					if err != nil || !bytes.Equal(got, openedWant[i]) {
						t.Fatalf("LargeValue %d reads %d bytes (%v), changed by SetMeta", i, len(got), err)
					}
				}
				// ScanValues and Idle/Victim read the records too.
				err := s.ScanValues(func(key string, value, meta []byte, bad error) error {
					e := model[key]
					if bad != nil || !bytes.Equal(value, e.val) || !bytes.Equal(meta, e.meta) {
						t.Fatalf("ScanValues %s: bad %v, value equal %v, meta equal %v", key, bad, bytes.Equal(value, e.val), bytes.Equal(meta, e.meta))
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				s.Idle(func(key string, meta []byte) bool {
					if !bytes.Equal(meta, model[key].meta) {
						t.Fatalf("Idle %s: meta differs", key)
					}
					return true
				})
				if _, ok := s.Victim(func(key string, meta []byte) bool {
					if !bytes.Equal(meta, model[key].meta) {
						t.Fatalf("Victim %s: meta differs", key)
					}
					return false
				}); !ok {
					t.Fatal("no victim")
				}
			}
			for _, v := range opened {
				v.Close()
			}
			opened, openedWant = nil, nil
			for key := range model {
				freed, err := s.Delete(key)
				if err != nil {
					t.Fatal(err)
				}
				if freed != model[key].charged {
					t.Errorf("Delete %s freed %d, last charged %d", key, freed, model[key].charged)
				}
			}
			if s.Used() != 0 || s.Len() != 0 {
				t.Errorf("maxSmall %d compress %v: empty store, Used %d, Len %d", maxSmall, compress, s.Used(), s.Len())
			}
			if st := s.Stats(); st.LargeRecords != 0 || st.Items != 0 || st.HeldBytes != 0 {
				t.Errorf("empty store stats %+v", st)
			}
			s.Close()
		}
	}
}

// Prepare/Commit (the StoreFrom path) then SetMeta, with Value's slice held
// across the SetMetas: the value must stay where Commit left it while meta
// fits the padding.
func TestPendingThenSetMeta(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s, err := New(&Options{Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []int{64 << 10, 64<<10 + 1, 100000, 3 << 20} {
		for _, metaLen := range []int{0, 1, 13, 14, 15, 16, 17, 200} {
			key := fmt.Sprint("p", n, "-", metaLen)
			p, err := s.Prepare(key, n, metaLen)
			if err != nil {
				t.Fatal(err)
			}
			val := randomMeta(rng, n)
			copy(p.Value(), val)
			held := p.Value()
			meta := randomMeta(rng, metaLen)
			c, err := p.Commit(meta)
			if err != nil {
				t.Fatal(err)
			}
			checkRecord(t, s, key, val, meta, c)
			for i := 0; i < 30; i++ {
				meta = randomMeta(rng, rng.IntN(40))
				c, err = s.SetMeta(key, meta, 1<<30)
				if err != nil {
					t.Fatal(err)
				}
				checkRecord(t, s, key, val, meta, c)
			}
			_ = held
		}
	}
	checkCounts(t, s)
}

// Put, Delete, SetMeta and Prepare/Commit race on a few keys; Len must be
// the number of keys the store holds, Used what Scan adds up, and a
// Delete after a Get that found a key must not miss it (no one else
// deletes it).
func TestCountUnderRaces(t *testing.T) {
	for _, compress := range []bool{false, true} {
		s, err := New(&Options{Capacity: 128 << 20, MaxSmall: 4 << 10, Compress: compress})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var fail atomic.Value
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 9))
				for i := 0; i < 3000; i++ {
					key := fmt.Sprint("k", rng.IntN(8))
					switch rng.IntN(5) {
					case 0:
						n := []int{10, 3000, 5000, 70000}[rng.IntN(4)]
						s.Put(key, noise(n, byte(n)), randomMeta(rng, rng.IntN(30)))
					case 1:
						s.Delete(key)
					case 2:
						s.SetMeta(key, randomMeta(rng, rng.IntN(300)), 1<<30)
					case 3:
						n := []int{10, 5000, 70000}[rng.IntN(3)]
						ml := rng.IntN(20)
						p, err := s.Prepare(key, n, ml)
						if err != nil {
							continue
						}
						copy(p.Value(), noise(n, byte(n)))
						if _, err := p.Commit(randomMeta(rng, ml)); err != nil {
							p.Discard()
						}
					case 4:
						s.Get(key, nil)
					}
				}
			}()
		}
		// A private key: Get then Delete must always find it.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3000; i++ {
				key := "private"
				if _, err := s.Put(key, []byte("v"), nil); err != nil {
					fail.Store(err)
					return
				}
				if _, err := s.Get(key, nil); err != nil {
					fail.Store(err)
					return
				}
				if _, err := s.Delete(key); err != nil {
					fail.Store(fmt.Errorf("Delete after Get: %w", err))
					return
				}
			}
		}()
		wg.Wait()
		if err := fail.Load(); err != nil {
			t.Fatal(err)
		}
		checkCounts(t, s)
		for i := 0; i < 8; i++ {
			s.Delete(fmt.Sprint("k", i))
		}
		if s.Used() != 0 || s.Len() != 0 {
			t.Errorf("emptied: Used %d, Len %d", s.Used(), s.Len())
		}
		if _, err := s.Delete("k0"); err != tier.ErrNotFound {
			t.Errorf("Delete from empty: %v", err)
		}
		s.Close()
		if _, err := s.Delete("k0"); err != tier.ErrClosed {
			t.Errorf("Delete from closed empty: %v", err)
		}
	}
}

// checkCounts compares Used, Len and Stats with what the index holds.
func checkCounts(t *testing.T, s *Store) {
	t.Helper()
	var used, n, largeBytes int64
	large := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		sh.idx.each(func(_ int, loc uint64) bool {
			r := readRecord(s.space.record(loc))
			used += s.space.charge(r.layout.size()) + indexShare
			n++
			if loc&largeFlag != 0 {
				large++
				largeBytes += s.space.charge(r.layout.size())
			}
			return true
		})
		sh.mu.RUnlock()
	}
	if s.Used() != used || s.Len() != n {
		t.Errorf("Used %d, Len %d; the index adds up to %d bytes, %d keys", s.Used(), s.Len(), used, n)
	}
	st := s.Stats()
	if st.Items != int(n) || st.LargeRecords != large || st.LargeBytes != largeBytes {
		t.Errorf("Stats %+v; index: %d keys, %d large of %d bytes", st, n, large, largeBytes)
	}
}
