package heap_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

// TestScanValuesSeesEveryValueAsStored: ScanValues hands out every key
// once with its value and meta (small entries, entries of 64 KiB and more,
// and values replaced in place), stops at fn's first error, and is
// ErrClosed after Close.
func TestScanValuesSeesEveryValueAsStored(t *testing.T) {
	s := heap.New()
	want := map[string][2][]byte{}
	for i := range 300 {
		key := fmt.Sprintf("key-%d", i)
		value := bytes.Repeat([]byte{byte(i)}, 1+i*7)
		if i%50 == 0 {
			value = bytes.Repeat([]byte{byte(i)}, 70<<10)
		}
		meta := []byte(fmt.Sprint("meta", i))
		if i%4 == 0 {
			meta = nil
		}
		for range 2 { // the second Put replaces the first
			if _, err := s.Put(key, value, meta); err != nil {
				t.Fatal(err)
			}
		}
		want[key] = [2][]byte{value, meta}
	}
	seen := map[string]bool{}
	err := s.ScanValues(func(key string, value, meta []byte) error {
		w, ok := want[key]
		switch {
		case !ok || seen[key]:
			return fmt.Errorf("key %q unknown or seen twice", key)
		case !bytes.Equal(value, w[0]) || !bytes.Equal(meta, w[1]):
			return fmt.Errorf("%q: value or meta differ from what was stored", key)
		}
		seen[key] = true
		return nil
	})
	if err != nil || len(seen) != len(want) {
		t.Fatalf("ScanValues = %v after %d of %d keys", err, len(seen), len(want))
	}
	stop := errors.New("stop")
	n := 0
	if err := s.ScanValues(func(string, []byte, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("a scan whose fn fails: %v after %d calls, want fn's error after 1", err, n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.ScanValues(func(string, []byte, []byte) error { return nil }); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("ScanValues after Close = %v, want ErrClosed", err)
	}
}
