package offheap

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/memory"
	"github.com/tiermem/tiermem/tier"
)

// hostileValues is a fixed set of incompressible values, from slab-sized to
// mapping-sized, so that a reader can tell whether bytes it read are whole
// ones some writer wrote (hostileWhich).
var hostileValues = func() [][]byte {
	var vs [][]byte
	for i, n := range []int{100, 3000, 5000, 8 << 10, 64 << 10, 100 << 10, 200 << 10, 300 << 10} {
		vs = append(vs, noise(n, byte(100+i)))
	}
	return vs
}()

func hostileWhich(b []byte) int {
	for i, v := range hostileValues {
		if bytes.Equal(b, v) {
			return i
		}
	}
	return -1
}

func hostileStore(t *testing.T, compress bool) *Store {
	t.Helper()
	s, err := New(&Options{Capacity: 32 << 20, MaxSmall: 4 << 10, Compress: compress})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hostileCheckCounts compares Used, Len and Stats with what Scan adds up.
func hostileCheckCounts(t *testing.T, s *Store) {
	t.Helper()
	var used, n int64
	sizes := map[string]int64{}
	err := s.Scan(func(key string, meta []byte, size int64) error {
		used += size
		n++
		sizes[key] = size
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	large := 0
	var largeBytes int64
	for key, size := range sizes { // the record's own header says whether it has a mapping of its own
		err := s.peek(key, func(r record) error {
			if r.layout.header == largeHeader {
				large++
				largeBytes += size - indexShare
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%q: %v", key, err)
		}
	}
	if s.Used() != used || s.Len() != n {
		t.Errorf("Used %d, Len %d; Scan adds up to %d bytes, %d keys", s.Used(), s.Len(), used, n)
	}
	st := s.Stats()
	if st.Items != int(n) || st.LargeRecords != large {
		t.Errorf("Stats: %d items, %d large records; Scan: %d keys, %d large", st.Items, st.LargeRecords, n, large)
	}
	if st.LargeBytes != largeBytes {
		t.Errorf("Stats.LargeBytes %d, the large records Scan sees are charged %d", st.LargeBytes, largeBytes)
	}
}

// TestAccountingAfterMixedOps runs a random mix of Prepare/Commit
// (with failing Commits retried), Discard, Put, Delete and OpenLarge (kept
// open for a while) on a few keys and checks that the counters are exactly
// what Scan adds up, every few steps and at the end, and that every value
// reads back as some writer wrote it.
func TestAccountingAfterMixedOps(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			s := hostileStore(t, compress)
			defer s.Close()
			rng := rand.New(rand.NewPCG(7, uint64(len(hostileValues))))
			var open []*LargeValue
			want := map[string]int{}
			for step := range 3000 {
				key := fmt.Sprint("k", rng.IntN(6))
				vi := rng.IntN(len(hostileValues))
				value := hostileValues[vi]
				switch op := rng.IntN(7); op {
				case 0, 1:
					metaLen := rng.IntN(3) * 3
					p, err := s.Prepare(key, len(value), metaLen)
					if err != nil {
						t.Fatal(err)
					}
					copy(p.Value(), value)
					if rng.IntN(4) == 0 {
						p.Discard()
						if _, err := p.Commit(make([]byte, metaLen)); err == nil {
							t.Fatal("Commit after Discard succeeded")
						}
						break
					}
					if _, large := p.(*largePending); large && metaLen > 0 { // wrong meta lengths first: must leave nothing behind
						if _, err := p.Commit(make([]byte, metaLen+1)); err == nil {
							t.Fatal("Commit with more meta than prepared succeeded")
						}
						if _, err := p.Commit(make([]byte, metaLen-1)); err == nil {
							t.Fatal("Commit of a large value with less meta than prepared succeeded")
						}
						hostileCheckCounts(t, s)
					}
					charged, err := p.Commit(bytes.Repeat([]byte{byte(vi)}, metaLen))
					if err != nil {
						t.Fatal(err)
					}
					if sz, _ := s.Size(key); sz != charged {
						t.Fatalf("Commit charged %d, Size says %d", charged, sz)
					}
					if _, err := p.Commit(nil); err == nil {
						t.Fatal("a second Commit succeeded")
					}
					p.Discard()
					want[key] = vi
				case 2:
					if _, err := s.Put(key, value, []byte{byte(vi)}); err != nil {
						t.Fatal(err)
					}
					want[key] = vi
				case 3:
					_, err := s.Delete(key)
					if _, ok := want[key]; ok != (err == nil) {
						t.Fatalf("Delete %s: %v, present %v", key, err, ok)
					}
					delete(want, key)
				case 4:
					v, opened, err := s.OpenLarge(key)
					if _, ok := want[key]; ok != (err == nil) {
						t.Fatalf("OpenLarge %s: %v", key, err)
					}
					if opened {
						open = append(open, v)
					}
				case 5:
					if len(open) > 0 {
						i := rng.IntN(len(open))
						got, err := readLarge(open[i])
						if err != nil || hostileWhich(got) < 0 {
							t.Fatalf("an open large value: %d bytes, %v, not a written value", len(got), err)
						}
						open[i].Close()
						open = append(open[:i], open[i+1:]...)
					}
				case 6:
					s.Trim(time.Now().Add(time.Hour))
				}
				if step%50 == 0 {
					hostileCheckCounts(t, s)
				}
			}
			hostileCheckCounts(t, s)
			for key, vi := range want {
				got, err := s.Get(key, nil)
				if err != nil || !bytes.Equal(got, hostileValues[vi]) {
					t.Errorf("%s: %d bytes, %v; want value %d", key, len(got), err, vi)
				}
			}
			for _, v := range open {
				got, err := readLarge(v)
				if err != nil || hostileWhich(got) < 0 {
					t.Errorf("an open large value at the end: %d bytes, %v", len(got), err)
				}
				v.Close()
			}
		})
	}
}

// TestLentMappingsAreUnmappedOnce opens large values many times
// while their keys are replaced (by Put and by Commit) and deleted, and
// checks each mapping a LargeValue read: once the last LargeValue is
// closed and the record is gone, it is unmapped (its handle's Close says
// ErrClosed), never put among the spares; and a record still present is
// not unmapped by the LargeValue's Close.
func TestLentMappingsAreUnmappedOnce(t *testing.T) {
	s := hostileStore(t, false)
	defer s.Close()
	value := hostileValues[6]
	var gone []*memory.WritableHandle
	for i := range 300 {
		key := fmt.Sprint("k", i%3)
		if i%2 == 0 {
			if _, err := s.Put(key, value, nil); err != nil {
				t.Fatal(err)
			}
		} else {
			p, err := s.Prepare(key, len(value), 0)
			if err != nil {
				t.Fatal(err)
			}
			copy(p.Value(), value)
			if _, err := p.Commit(nil); err != nil {
				t.Fatal(err)
			}
		}
		a, opened, err := s.OpenLarge(key)
		if err != nil || !opened {
			t.Fatalf("OpenLarge: %v, %v", opened, err)
		}
		b, _, _ := s.OpenLarge(key)
		if a.lm != b.lm {
			t.Fatal("two LargeValues of one record have different mappings")
		}
		h := a.lm.h
		a.Close()
		a.Close() // twice: must not count twice
		if got, err := s.Get(key, nil); err != nil || !bytes.Equal(got, value) {
			t.Fatalf("the record after one of two readers closed: %v", err)
		}
		switch i % 3 {
		case 0:
			_, err = s.Delete(key)
		case 1:
			_, err = s.Put(key, hostileValues[7], nil)
		default:
			p, perr := s.Prepare(key, len(hostileValues[7]), 0)
			if perr != nil {
				t.Fatal(perr)
			}
			copy(p.Value(), hostileValues[7])
			_, err = p.Commit(nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		s.space.mu.Lock()
		for _, sp := range s.space.spares {
			if sp.h == h {
				s.space.mu.Unlock()
				t.Fatalf("step %d: a mapping a LargeValue still reads is among the spares", i)
			}
		}
		s.space.mu.Unlock()
		if got, err := readLarge(b); err != nil || !bytes.Equal(got, value) {
			t.Fatalf("step %d: the open value after its record went: %d bytes, %v", i, len(got), err)
		}
		s.Trim(time.Now().Add(time.Hour))
		b.Close()
		gone = append(gone, h)
		if err := h.Close(); !errors.Is(err, memory.ErrClosed) {
			t.Fatalf("step %d: the mapping of a gone record is still mapped after its last reader closed (Close: %v)", i, err)
		}
	}
	_ = gone
	hostileCheckCounts(t, s)
}

// TestTrimAndReuseNeverTouchALentMapping: a LargeValue whose record
// was deleted keeps its bytes while many records of the same size are
// written (which would reuse a spare mapping) and Trim runs.
func TestTrimAndReuseNeverTouchALentMapping(t *testing.T) {
	s := hostileStore(t, false)
	defer s.Close()
	want := hostileValues[6]
	if _, err := s.Put("k", want, nil); err != nil {
		t.Fatal(err)
	}
	v, opened, err := s.OpenLarge("k")
	if err != nil || !opened {
		t.Fatal(opened, err)
	}
	defer v.Close()
	if _, err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	other := noise(len(want), 200)
	for i := range 50 {
		key := fmt.Sprint("o", i%4)
		if i%2 == 0 {
			s.Put(key, other, nil)
		} else {
			p, err := s.Prepare(key, len(other), 0)
			if err != nil {
				t.Fatal(err)
			}
			copy(p.Value(), other)
			if i%3 == 0 {
				p.Discard()
			} else if _, err := p.Commit(nil); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 {
			s.Delete(key)
		}
		if i%7 == 0 {
			s.Trim(time.Now().Add(time.Hour))
		}
	}
	if got, err := readLarge(v); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the lent value: %d bytes, %v", len(got), err)
	}
	hostileCheckCounts(t, s)
}

// TestCommitRacingClose commits large prepared values while the store
// closes: each Commit either succeeds (the store then unmaps the mapping at
// its Close) or fails with ErrClosed (Discard then unmaps it); no mapping
// is leaked or left to both, and the pending's memory stays writable until
// then.
func TestCommitRacingClose(t *testing.T) {
	for round := range 40 {
		s := hostileStore(t, false)
		var wg sync.WaitGroup
		type result struct {
			h   *memory.WritableHandle
			err error
		}
		results := make(chan result, 64)
		start := make(chan struct{})
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				value := hostileValues[5]
				p, err := s.Prepare(fmt.Sprint("k", g%3), len(value), 4)
				if err != nil {
					results <- result{err: err}
					return
				}
				h := p.(*largePending).h
				<-start
				copy(p.Value(), value)
				_, err = p.Commit([]byte("meta"))
				if err != nil {
					copy(p.Value(), value) // still ours: must not fault
				}
				p.Discard()
				results <- result{h: h, err: err}
			}()
		}
		close(start)
		if round%2 == 0 {
			time.Sleep(time.Duration(round) * 20 * time.Microsecond)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(results)
		for r := range results {
			if r.err != nil && !errors.Is(r.err, tier.ErrClosed) {
				t.Fatalf("Commit racing Close: %v", r.err)
			}
			if r.h == nil {
				continue
			}
			if err := r.h.Close(); !errors.Is(err, memory.ErrClosed) {
				t.Fatalf("round %d: a pending's mapping (Commit: %v) is still mapped after the store's Close and Discard", round, r.err)
			}
		}
	}
}

// TestOpenLargeHammer: readers open large values and read them in
// small pieces (and through View) while writers Put, Commit, Delete and
// Trim, and the store closes in the middle: no fault, no torn value, and
// errors are only ErrClosed and ErrNotFound.
func TestOpenLargeHammer(t *testing.T) {
	s := hostileStore(t, false)
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	report := func(err error) {
		if err != nil && !errors.Is(err, tier.ErrClosed) && !errors.Is(err, tier.ErrNotFound) {
			select {
			case errs <- err:
			default:
			}
		}
	}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			var held []*LargeValue
			defer func() {
				for _, v := range held {
					got, err := readLarge(v)
					if err == nil && hostileWhich(got) < 0 {
						err = fmt.Errorf("a held value read %d bytes no writer wrote", len(got))
					}
					report(err)
					v.Close()
				}
			}()
			for !stop.Load() {
				key := fmt.Sprint("k", rng.IntN(3))
				vi := 4 + rng.IntN(4)
				value := hostileValues[vi]
				switch g % 4 {
				case 0:
					if rng.IntN(5) == 0 {
						_, err := s.Delete(key)
						report(err)
					} else if rng.IntN(2) == 0 {
						_, err := s.Put(key, value, nil)
						report(err)
					} else {
						p, err := s.Prepare(key, len(value), 0)
						report(err)
						if err == nil {
							copy(p.Value(), value)
							_, err = p.Commit(nil)
							report(err)
							p.Discard()
						}
					}
				case 1:
					s.Trim(time.Now().Add(time.Hour))
					time.Sleep(100 * time.Microsecond)
				default:
					v, opened, err := s.OpenLarge(key)
					report(err)
					if !opened {
						continue
					}
					reads.Add(1)
					err = v.View(func(b []byte) error {
						if hostileWhich(b) < 0 {
							return fmt.Errorf("View: %d bytes no writer wrote", len(b))
						}
						return nil
					})
					report(err)
					if rng.IntN(3) == 0 && len(held) < 4 {
						held = append(held, v)
						continue
					}
					got, err := readLarge(v)
					if err == nil && (hostileWhich(got) < 0 || int64(len(got)) != v.Size()) {
						err = fmt.Errorf("read %d bytes no writer wrote", len(got))
					}
					report(err)
					v.Close()
				}
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for reads.Load() < 500 && time.Now().Before(deadline) && len(errs) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLargeValueCloseWhileReading: Close of a LargeValue while other
// goroutines read it, after its record is gone: reads either complete with
// whole bytes or return ErrClosed; no fault.
func TestLargeValueCloseWhileReading(t *testing.T) {
	for range 50 {
		s := hostileStore(t, false)
		want := hostileValues[7]
		s.Put("k", want, nil)
		v, _, err := s.OpenLarge("k")
		if err != nil {
			t.Fatal(err)
		}
		s.Delete("k")
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 4096)
				for off := int64(0); ; off += int64(len(buf)) {
					n, err := v.ReadAt(buf, off)
					if errors.Is(err, tier.ErrClosed) {
						return
					}
					if !bytes.Equal(buf[:n], want[off:off+int64(n)]) {
						t.Error("wrong bytes")
						return
					}
					if err != nil {
						return
					}
				}
			}()
		}
		v.Close()
		wg.Wait()
		s.Close()
	}
}
