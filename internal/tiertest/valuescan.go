package tiertest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// scanValues checks a tier.ValueScanner: ScanValues hands out every key
// once with its value and meta as stored (small and large values,
// compressible and not, replaced ones, none of those deleted), and stops
// at fn's first error, which it returns; a second scan of the unchanged
// store hands out the keys in the same order. A store without ScanValues skips it; after Close it is
// closed's to check.
func scanValues(t *testing.T, s tier.Store) {
	defer s.Close()
	vs, ok := s.(tier.ValueScanner)
	if !ok {
		t.Skip("the store has no ScanValues")
	}
	want := map[string][2][]byte{}
	for i := range 300 {
		key := fmt.Sprintf("key-%d", i)
		value := accountingValue(i, 1+i*37%(96<<10), i%2 == 0) // up to 96 KiB: a large record in every store
		meta := []byte(fmt.Sprint("meta", i))
		if i%4 == 0 {
			meta = nil
		}
		for range 2 { // the second Put replaces the first
			_, err := s.Put(key, value, meta)
			must(t, err)
		}
		want[key] = [2][]byte{value, meta}
	}
	for i := 0; i < 300; i += 7 {
		key := fmt.Sprintf("key-%d", i)
		_, err := s.Delete(key)
		must(t, err)
		delete(want, key)
	}
	seen := map[string]bool{}
	var order []string
	err := vs.ScanValues(func(key string, value, meta []byte, bad error) error {
		order = append(order, string([]byte(key)))
		w, ok := want[key]
		switch {
		case bad != nil:
			return fmt.Errorf("%q: %w", key, bad)
		case !ok || seen[key]:
			return fmt.Errorf("key %q unknown or seen twice", key)
		case !bytes.Equal(value, w[0]) || !bytes.Equal(meta, w[1]):
			return fmt.Errorf("%q: value or meta differ from what was stored", key)
		}
		seen[string([]byte(key))] = true // key is valid only during fn
		return nil
	})
	if err != nil || len(seen) != len(want) {
		t.Fatalf("ScanValues = %v after %d of %d keys", err, len(seen), len(want))
	}
	i := 0
	err = vs.ScanValues(func(key string, _, _ []byte, _ error) error {
		if i >= len(order) || key != order[i] {
			return fmt.Errorf("the second scan's key %d is %q, the first's was not", i, key)
		}
		i++
		return nil
	})
	if err != nil || i != len(order) {
		t.Fatalf("a second scan of the unchanged store: %v after %d of %d keys, want the same keys in the same order", err, i, len(order))
	}
	stop := errors.New("stop")
	n := 0
	if err := vs.ScanValues(func(string, []byte, []byte, error) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("a scan whose fn fails: %v after %d calls, want fn's error after 1", err, n)
	}
}
