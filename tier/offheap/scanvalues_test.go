package offheap

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// TestScanValuesSeesEveryValueAsStored: ScanValues hands out every key
// once with its value (decompressed, for small records and records in
// mappings of their own) and meta, stops at fn's first error, and is
// ErrClosed after Close.
func TestScanValuesSeesEveryValueAsStored(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			s := hostileStore(t, compress)
			want := map[string][2][]byte{}
			for i := range 300 {
				key := fmt.Sprintf("key-%d", i)
				value := bytes.Repeat([]byte(key), 1+i%50) // compresses
				switch i % 3 {
				case 1:
					value = noise(10+i, byte(i))
				case 2:
					value = noise(8<<10+i, byte(i)) // over MaxSmall: a mapping of its own
				}
				meta := []byte(fmt.Sprint("meta", i))
				if _, err := s.Put(key, value, meta); err != nil {
					t.Fatal(err)
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
				seen[string([]byte(key))] = true
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
		})
	}
}
