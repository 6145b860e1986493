package offheap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/memory"
	"github.com/tiermem/tiermem/tier"
)

// readLarge reads v whole through ReadAt in pieces of 10,000 bytes.
func readLarge(v *LargeValue) ([]byte, error) {
	var out []byte
	buf := make([]byte, 10000)
	for off := int64(0); ; {
		n, err := v.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// noise returns n incompressible bytes.
func noise(n int, seed byte) []byte {
	v := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(v)
	return v
}

// TestLargeValueOutlivesItsRecord opens a large value, replaces its key,
// deletes it and closes the store: the value still reads as opened, and
// its mapping is unmapped by the LargeValue's Close, not before.
func TestLargeValueOutlivesItsRecord(t *testing.T) {
	s := pendingStore(t)
	want := noise(1<<20, 1)
	if _, err := s.Put("k", want, []byte("meta")); err != nil {
		t.Fatal(err)
	}
	v, opened, err := s.OpenLarge("k")
	if err != nil || !opened {
		t.Fatalf("OpenLarge: opened %v, %v", opened, err)
	}
	if v.Size() != int64(len(want)) || string(v.Meta()) != "meta" {
		t.Fatalf("size %d, meta %q", v.Size(), v.Meta())
	}
	h := v.lm.h
	if _, err := s.Put("k", noise(1<<20, 2), nil); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.LargeRecords != 1 || st.SpareBytes != 0 {
		t.Fatalf("after the replacement: %d large records, %d spare bytes; want 1 and none (the open mapping is not spare)", st.LargeRecords, st.SpareBytes)
	}
	if _, err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := readLarge(v); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after Put, Delete and Close: %d bytes, %v", len(got), err)
	}
	if err := v.View(func(b []byte) error {
		if !bytes.Equal(b, want) {
			return errors.New("View: wrong bytes")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	v.Close()
	if err := h.Close(); !errors.Is(err, memory.ErrClosed) {
		t.Fatalf("the mapping after the last Close: %v, want it unmapped already", err)
	}
	if _, err := v.ReadAt(make([]byte, 1), 0); !errors.Is(err, tier.ErrClosed) {
		t.Fatalf("ReadAt after Close: %v, want ErrClosed", err)
	}
}

// TestLargeValueKeepsAnUnchangedRecordMapped closes a LargeValue of a key
// that is still there: the record stays readable.
func TestLargeValueKeepsAnUnchangedRecordMapped(t *testing.T) {
	s := pendingStore(t)
	defer s.Close()
	want := noise(100<<10, 3)
	s.Put("k", want, nil)
	for range 3 {
		v, opened, err := s.OpenLarge("k")
		if err != nil || !opened {
			t.Fatalf("OpenLarge: %v, %v", opened, err)
		}
		v.Close()
	}
	if got, err := s.Get("k", nil); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get after the readers closed: %d bytes, %v", len(got), err)
	}
}

// TestOpenLargeOnlyOpensLargeRawRecords: a slab record and a compressed
// one are not opened (the caller reads them as usual); an absent key is
// ErrNotFound.
func TestOpenLargeOnlyOpensLargeRawRecords(t *testing.T) {
	s := pendingStore(t)
	defer s.Close()
	s.Put("small", noise(100, 4), nil)
	s.Put("compressed", bytes.Repeat([]byte("abc"), 100<<10), nil)
	for _, key := range []string{"small", "compressed"} {
		if v, opened, err := s.OpenLarge(key); err != nil || opened || v != nil {
			t.Errorf("%s: opened %v, %v", key, opened, err)
		}
	}
	if _, _, err := s.OpenLarge("absent"); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("absent: %v, want ErrNotFound", err)
	}
}

// TestLargeValuesUnderConcurrencyAndClose has goroutines open, read and
// close large values while others replace and delete the same keys (each
// value one byte repeated, coding its length), and closes the store in the
// middle: every value opened reads whole, and nothing faults.
func TestLargeValuesUnderConcurrencyAndClose(t *testing.T) {
	s, err := New(&Options{Capacity: 16 << 20, MaxSmall: 4 << 10}) // uncompressed: the values repeat a byte
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	var reads atomic.Int64
	errs := make(chan error, 16)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for !stop.Load() {
				if err := largeStep(s, rng, g%2 == 0, &reads); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(time.Minute)
	for reads.Load() < 200 && len(errs) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := reads.Load(); n < 200 {
		t.Errorf("only %d large values opened in a minute", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // readers of values opened before Close go on
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// largeStep writes or reads one of three keys.
func largeStep(s *Store, rng *rand.Rand, writer bool, reads *atomic.Int64) error {
	key := fmt.Sprint("k", rng.IntN(3))
	var err error
	switch {
	case writer && rng.IntN(4) == 0:
		_, err = s.Delete(key)
	case writer:
		n := 64<<10 + rng.IntN(200)<<10
		_, err = s.Put(key, bytes.Repeat([]byte{byte(n >> 10)}, n), nil)
	default:
		var v *LargeValue
		var opened bool
		if v, opened, err = s.OpenLarge(key); err == nil && opened {
			var got []byte
			got, err = readLarge(v)
			if err == nil && (len(got) == 0 || !bytes.Equal(got, bytes.Repeat([]byte{byte(len(got) >> 10)}, len(got)))) {
				err = fmt.Errorf("read %d bytes that no writer wrote", len(got))
			}
			v.Close()
			reads.Add(1)
		}
	}
	if err != nil && !errors.Is(err, tier.ErrClosed) && !errors.Is(err, tier.ErrNotFound) {
		return err
	}
	return nil
}
