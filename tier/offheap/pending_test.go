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

	"github.com/tiermem/tiermem/tier"
)

// pendingStore is a store whose slab takes records up to 4 KiB, so that
// values from 4 KiB up are prepared in mappings of their own.
func pendingStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(&Options{Capacity: 16 << 20, MaxSmall: 4 << 10, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// prepareFilled prepares key's value of len(value) bytes and writes value
// into the memory Prepare gave.
func prepareFilled(t *testing.T, s *Store, key string, value []byte, metaLen int) tier.Pending {
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

// TestPendingStoresAsPut commits prepared values of both kinds (slab and
// own mapping), new and replacing ones of the other kind, with meta of
// several lengths and none, and checks that each reads back
// with its meta, is charged what Cost says, and that the store's counters
// are those Scan adds up.
func TestPendingStoresAsPut(t *testing.T) {
	s := pendingStore(t)
	defer s.Close()
	want := map[string][]byte{}
	wantMeta := map[string][]byte{}
	metas := [][]byte{[]byte("meta!!!!!"), []byte("m"), nil}
	for i, size := range []int{0, 100, 5000, 1 << 20, 100, 64 << 10, 3 << 10, 9000} {
		key := fmt.Sprint("k", i%3)
		value := bytes.Repeat([]byte{byte('a' + i)}, size) // compressible: a prepared large value stays whole
		meta := metas[i%len(metas)]
		p := prepareFilled(t, s, key, value, len(meta))
		charged, err := p.Commit(meta)
		if err != nil {
			t.Fatal(err)
		}
		if c := s.Cost(len(key), size, len(meta)); charged > c || size >= 4<<10 && charged != c {
			t.Fatalf("%d-byte value: Commit charged %d, Cost says %d", size, charged, c)
		}
		if p.Value() != nil {
			t.Fatal("Value after Commit is not nil")
		}
		if _, err := p.Commit(meta); err == nil {
			t.Fatal("a second Commit succeeded")
		}
		p.Discard() // does nothing after Commit
		want[key], wantMeta[key] = value, meta
	}
	for key, value := range want {
		err := s.ViewMeta(key, func(v, meta []byte) error {
			if !bytes.Equal(v, value) || !bytes.Equal(meta, wantMeta[key]) {
				t.Errorf("%s: read %d bytes with meta %q, want %d with %q", key, len(v), meta, len(value), wantMeta[key])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	checkCounters(t, s, len(want))
}

// checkCounters checks Len and Used against what Scan finds.
func checkCounters(t *testing.T, s *Store, keys int) {
	t.Helper()
	var n, used int64
	if err := s.Scan(func(_ string, _ []byte, size int64) error {
		n++
		used += size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != int64(keys) || s.Len() != n || s.Used() != used {
		t.Fatalf("Len %d, Used %d; Scan found %d keys of %d bytes; want %d keys", s.Len(), s.Used(), n, used, keys)
	}
}

// TestPendingDiscardStoresNothing discards prepared values, and checks
// that the key keeps the value it had and no large record is left.
func TestPendingDiscardStoresNothing(t *testing.T) {
	s := pendingStore(t)
	defer s.Close()
	if _, err := s.Put("k", []byte("old"), nil); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{10, 1 << 20} {
		p := prepareFilled(t, s, "k", make([]byte, size), 0)
		p.Discard()
		if p.Value() != nil && size > 4<<10 {
			t.Fatal("Value after Discard is not nil")
		}
		if _, err := p.Commit(nil); err == nil {
			t.Fatal("Commit after Discard succeeded")
		}
	}
	got, err := s.Get("k", nil)
	if err != nil || string(got) != "old" {
		t.Fatalf("Get = %q, %v; want the old value", got, err)
	}
	if st := s.Stats(); st.LargeRecords != 0 {
		t.Fatalf("%d large records after discarding", st.LargeRecords)
	}
	checkCounters(t, s, 1)
}

// TestPendingMetaOfAnotherLength fails the Commit of a value in its own
// mapping whose meta is longer or shorter than prepared, and then commits
// the same value with meta of the length prepared; a value for the slab
// takes shorter meta.
func TestPendingMetaOfAnotherLength(t *testing.T) {
	s := pendingStore(t)
	defer s.Close()
	value := bytes.Repeat([]byte("v"), 1<<16)
	p := prepareFilled(t, s, "k", value, 2)
	defer p.Discard()
	if _, err := p.Commit([]byte("abc")); !errors.Is(err, tier.ErrTooLarge) {
		t.Fatalf("Commit of 3 bytes of meta into 2: %v, want ErrTooLarge", err)
	}
	if _, err := p.Commit([]byte("a")); !errors.Is(err, tier.ErrInvalidKey) {
		t.Fatalf("Commit of 1 byte of meta into 2: %v, want ErrInvalidKey", err)
	}
	if _, err := p.Commit([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("k", nil)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get: %d bytes, %v", len(got), err)
	}
	small := prepareFilled(t, s, "small", []byte("tiny"), 4)
	if _, err := small.Commit([]byte("m")); err != nil {
		t.Fatalf("a slab value with shorter meta: %v", err)
	}
}

// TestPendingSurvivesClose closes the store while a large value is being
// written into its prepared memory: the writes go on without a fault (the
// mapping is the pending value's until Commit), Commit fails with
// ErrClosed, and Discard gives the memory back.
func TestPendingSurvivesClose(t *testing.T) {
	s := pendingStore(t)
	p, err := s.Prepare("k", 1<<20, 0)
	if err != nil {
		t.Fatal(err)
	}
	v := p.Value()
	copy(v, bytes.Repeat([]byte("x"), len(v)/2))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	copy(v[len(v)/2:], bytes.Repeat([]byte("y"), len(v)/2)) // would fault if Close had unmapped it
	if _, err := p.Commit(nil); !errors.Is(err, tier.ErrClosed) {
		t.Fatalf("Commit after Close: %v, want ErrClosed", err)
	}
	p.Discard()
	if _, err := s.Prepare("k", 1<<20, 0); !errors.Is(err, tier.ErrClosed) {
		t.Fatalf("Prepare after Close: %v, want ErrClosed", err)
	}
}

// TestPendingRejectsBadInput checks Prepare's errors.
func TestPendingRejectsBadInput(t *testing.T) {
	s := pendingStore(t)
	defer s.Close()
	for _, c := range []struct {
		key           string
		size, metaLen int
	}{{"", 10, 0}, {string(make([]byte, maxKeyLen+1)), 10, 0}, {"k", -1, 0}, {"k", 10, -1}} {
		if _, err := s.Prepare(c.key, c.size, c.metaLen); !errors.Is(err, tier.ErrInvalidKey) {
			t.Errorf("Prepare(key of %d bytes, %d, %d): %v, want ErrInvalidKey", len(c.key), c.size, c.metaLen, err)
		}
	}
	if _, err := s.Prepare("k", 10, maxMetaLen+1); !errors.Is(err, tier.ErrTooLarge) {
		t.Errorf("Prepare(k, 10, %d): %v, want ErrTooLarge", maxMetaLen+1, err)
	}
}

// TestPendingConcurrentWithClose has goroutines prepare, fill and commit
// large and small values, Put, Delete and read the same few keys, and
// closes the store in the middle: no fault, every read sees a whole value
// that some writer wrote (each value is one byte repeated, its length
// coding the byte), and every error after Close is ErrClosed.
func TestPendingConcurrentWithClose(t *testing.T) {
	s := pendingStore(t)
	var wg sync.WaitGroup
	var stop atomic.Bool
	var commits atomic.Int64
	errs := make(chan error, 64)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for !stop.Load() {
				if err := pendingStep(s, rng, &commits); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(time.Minute)
	for commits.Load() < 300 && len(errs) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := commits.Load(); n < 300 {
		t.Errorf("only %d prepared values committed in a minute", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// pendingStep does one random operation on one of four keys.
func pendingStep(s *Store, rng *rand.Rand, commits *atomic.Int64) error {
	key := fmt.Sprint("k", rng.IntN(4))
	size := []int{50, 3000, 5000, 200 << 10}[rng.IntN(4)]
	value := bytes.Repeat([]byte{byte(size)}, size)
	var err error
	switch rng.IntN(4) {
	case 0:
		var p tier.Pending
		if p, err = s.Prepare(key, size, 2); err == nil {
			copy(p.Value(), value)
			if _, err = p.Commit([]byte{1, 2}); err == nil {
				commits.Add(1)
			}
			p.Discard()
		}
	case 1:
		_, err = s.Put(key, value, nil)
	case 2:
		_, err = s.Delete(key)
	default:
		err = s.View(key, func(v []byte) error {
			if len(v) == 0 || !bytes.Equal(v, bytes.Repeat([]byte{byte(len(v))}, len(v))) {
				return fmt.Errorf("read %d bytes that no writer wrote", len(v))
			}
			return nil
		})
	}
	if err != nil && !errors.Is(err, tier.ErrClosed) && !errors.Is(err, tier.ErrNotFound) {
		return err
	}
	return nil
}
