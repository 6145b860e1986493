package offheap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// locationOf returns the location of key's record, or false.
func (s *Store) locationOf(key string) (uint64, bool) {
	hash := Hash(key)
	sh := s.shardOf(hash)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	pos, _, loc, _ := s.findLocked(sh, key, hash)
	return loc, pos >= 0
}

// TestOverwriteOnlyWithinTheClass checks when a Put writes over the record
// it replaces: a value of the same slab size class (and at most
// maxOverwrite) keeps the location, any other moves, and after every Put the
// store's counters are what Size and Scan report.
func TestOverwriteOnlyWithinTheClass(t *testing.T) {
	s, err := New(&Options{Capacity: 16 << 20, MaxSmall: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put := func(n int) uint64 {
		t.Helper()
		v := make([]byte, n)
		for i := range v {
			v[i] = byte(n + i)
		}
		charged, err := s.Put("k", v, []byte{byte(n)})
		if err != nil {
			t.Fatal(err)
		}
		if size, _ := s.Size("k"); size != charged || s.Used() != charged || s.Len() != 1 {
			t.Fatalf("value of %d bytes: Put charged %d, Size %d, Used %d, Len %d", n, charged, size, s.Used(), s.Len())
		}
		var got []byte
		if got, err = s.Get("k", nil); err != nil || len(got) != n || n > 0 && got[n-1] != byte(2*n-1) {
			t.Fatalf("value of %d bytes: Get %d bytes, %v", n, len(got), err)
		}
		loc, _ := s.locationOf("k")
		return loc
	}
	small := func(n int) int64 { return s.layout(1, 1, int64(n)).size() }
	a := put(100)
	if b := put(101); b != a || s.space.charge(small(100)) != s.space.charge(small(101)) {
		t.Errorf("a value of the same class moved from %d to %d", a, b)
	}
	if c := put(600); c == a {
		t.Errorf("a value of another class stayed at %d", c)
	}
	big := put(maxOverwrite)              // larger than maxOverwrite with its header:
	if d := put(maxOverwrite); d == big { // written anew
		t.Errorf("a record over %d bytes was written over the old one at %d", maxOverwrite, d)
	}
	large := put(8 << 10) // a mapping of its own
	if e := put(8 << 10); e == large {
		t.Errorf("a large record was written over the old one at %d", e)
	}
	put(100)
	if _, err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); s.Used() != 0 || s.Len() != 0 || st.SlabReserved != 0 || st.LargeRecords != 0 {
		t.Errorf("after the Delete: Used %d, Len %d, %+v", s.Used(), s.Len(), st)
	}
	if st := s.space.slab.Stats(); st.LiveBytes != 0 || st.LiveAllocation != 0 {
		t.Errorf("after the Delete the slab counts %d live bytes in %d allocations", st.LiveBytes, st.LiveAllocation)
	}
}

// TestWritersAndReadersOfTheSameKeys runs goroutines that Put (values whose
// sizes cross size classes, maxOverwrite and the slab's limit), Delete, Get
// and view a few keys that all of them share and a few of their own, in a
// store so small that Puts run out of room, and checks that every read sees
// one whole value with its own meta (never half of an overwrite), that
// nothing else fails, and that deleting every key leaves nothing counted
// or allocated.
func TestWritersAndReadersOfTheSameKeys(t *testing.T) {
	s, err := New(&Options{Capacity: 1 << 20, MaxSmall: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sizes := []int{1, 40, 90, 100, 101, 110, 200, 900, maxOverwrite - 16, maxOverwrite, 3000, 5000}
	const workers, ops = 8, 4000
	keys := func(w int) []string {
		ks := []string{"shared-0", "shared-1", "shared-2"}
		for i := range 4 {
			ks = append(ks, fmt.Sprintf("own-%d-%d", w, i))
		}
		return ks
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 11))
			ks := keys(w)
			var buf []byte
			for op := range ops {
				key := ks[r.IntN(len(ks))]
				var err error
				switch n := r.IntN(10); {
				case n < 4:
					version := uint64(w)<<32 | uint64(op)
					_, err = s.Put(key, versioned(key, version, sizes[r.IntN(len(sizes))]), binary.LittleEndian.AppendUint64(nil, version))
					if errors.Is(err, tier.ErrNoSpace) {
						err = nil
					}
				case n < 5:
					if _, err = s.Delete(key); errors.Is(err, tier.ErrNotFound) {
						err = nil
					}
				case n < 7:
					buf, err = s.Get(key, buf[:0])
					if err == nil {
						err = checkVersioned(key, buf, nil)
					}
				default:
					err = s.ViewMeta(key, func(value, meta []byte) error { return checkVersioned(key, value, meta) })
				}
				if err != nil && !errors.Is(err, tier.ErrNotFound) {
					errs <- fmt.Errorf("worker %d, op %d, %q: %w", w, op, key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int64
	for w := range workers {
		for _, key := range keys(w) {
			if _, err := s.Delete(key); err == nil {
				n++
			}
		}
	}
	if st := s.Stats(); s.Used() != 0 || s.Len() != 0 || st.Items != 0 || st.SlabReserved != 0 || st.LargeRecords != 0 {
		t.Errorf("after deleting the %d keys left: Used %d, Len %d, %+v", n, s.Used(), s.Len(), st)
	}
}

// versioned returns a value of n bytes that says which key and version it is.
func versioned(key string, version uint64, n int) []byte {
	v := make([]byte, n)
	seed := Hash(key) ^ version
	for i := range v {
		v[i] = byte(seed >> (8 * (i % 8)))
	}
	if n >= 8 {
		binary.LittleEndian.PutUint64(v, version)
	}
	return v
}

// checkVersioned returns an error if value is not one versioned returned
// for key, or (when meta is not nil) not the version meta names.
func checkVersioned(key string, value, meta []byte) error {
	if len(value) < 8 {
		return nil // too short to name its version: only the whole-value checks below apply to the others
	}
	version := binary.LittleEndian.Uint64(value)
	if meta != nil && (len(meta) != 8 || binary.LittleEndian.Uint64(meta) != version) {
		return fmt.Errorf("value of version %#x with meta %x", version, meta)
	}
	want := versioned(key, version, len(value))
	for i := range value {
		if value[i] != want[i] {
			return fmt.Errorf("value of version %#x, %d bytes: byte %d is %#x, want %#x", version, len(value), i, value[i], want[i])
		}
	}
	return nil
}
