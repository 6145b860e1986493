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
// at fn's first error, which it returns; and a tier.KeyScanner's ScanKeys
// the same keys. A store without ScanValues skips it; after Close it is
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
	err := vs.ScanValues(func(key string, value, meta []byte) error {
		w, ok := want[key]
		switch {
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
	stop := errors.New("stop")
	n := 0
	if err := vs.ScanValues(func(string, []byte, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("a scan whose fn fails: %v after %d calls, want fn's error after 1", err, n)
	}
	ks, ok := s.(tier.KeyScanner)
	if !ok {
		return
	}
	keys := map[string]bool{}
	err = ks.ScanKeys(func(key string) error {
		if _, ok := want[key]; !ok || keys[key] {
			return fmt.Errorf("ScanKeys: key %q unknown or seen twice", key)
		}
		keys[string([]byte(key))] = true
		return nil
	})
	if err != nil || len(keys) != len(want) {
		t.Fatalf("ScanKeys = %v after %d of %d keys", err, len(keys), len(want))
	}
}
