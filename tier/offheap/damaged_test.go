package offheap

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// damage overwrites the stored (compressed) bytes of key's record in the
// store's memory, as a bad DIMM or a stray write would.
func damage(t *testing.T, s *Store, key string) {
	t.Helper()
	err := s.findAt(key, false, func(_ uint64, r record) error {
		if r.flags&flagCompressed == 0 {
			return fmt.Errorf("%q is not stored compressed", key)
		}
		for i := range r.stored {
			r.stored[i] = 0xff
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A compressed value that no longer decodes is ErrCorrupt for its key only,
// and ScanValues hands it out as bad and goes on with the other keys (so
// that Close writes every other value and marks this one lost).
func TestDamagedCompressedValueIsBadInAScan(t *testing.T) {
	s, err := New(&Options{Capacity: 64 << 20, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	value := bytes.Repeat([]byte("compressible "), 100)
	for i := range 50 {
		if _, err := s.Put(fmt.Sprint("key", i), value, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	damage(t, s, "key7")
	if _, err := s.Get("key7", nil); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Get of the damaged value = %v, want ErrCorrupt", err)
	}
	good, bad := 0, 0
	err = s.ScanValues(func(key string, v, meta []byte, badErr error) error {
		switch {
		case badErr != nil:
			bad++
			if key != "key7" || v != nil || !errors.Is(badErr, tier.ErrCorrupt) || len(meta) != 1 || meta[0] != 7 {
				t.Errorf("bad entry %q: value %d bytes, meta %v, %v; want key7, nil, [7], ErrCorrupt", key, len(v), meta, badErr)
			}
		case !bytes.Equal(v, value):
			t.Errorf("%q: value differs from what was stored", key)
		default:
			good++
		}
		return nil
	})
	if err != nil || good != 49 || bad != 1 {
		t.Fatalf("ScanValues = %v with %d good and %d bad entries, want nil, 49 and 1", err, good, bad)
	}
}
