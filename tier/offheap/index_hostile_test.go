package offheap

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/tier"
)

// fakeKeys stands in for the records: a location names a key, whose hash
// the test chooses so that many keys share a home (and a tag) and probe
// chains run long, through tombstones.
type fakeKeys struct {
	hashes map[uint64]uint64 // location -> hash of the key stored there
	keyOf  map[uint64]int    // location -> key id
	next   uint64
}

func (f *fakeKeys) place(key int, hash uint64) uint64 {
	f.next++
	loc := f.next * 3 // any location below largeFlag
	f.hashes[loc], f.keyOf[loc] = hash, key
	return loc
}

// TestIndexAgainstAModel drives one index through inserts (at the place
// find chose, through tombstones), replacements, removals and rebuilds,
// with hashes drawn from a small set so that most keys collide, and checks
// after every step that each key is found exactly once, at its newest
// location, and that the counts match.
func TestIndexAgainstAModel(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			f := &fakeKeys{hashes: map[uint64]uint64{}, keyOf: map[uint64]int{}}
			x, err := newIndex(minIndexSlots, func(loc uint64) uint64 {
				h, ok := f.hashes[loc]
				if !ok {
					t.Fatalf("hashOf(%d): no such location", loc)
				}
				return h
			})
			if err != nil {
				t.Fatal(err)
			}
			defer x.close()
			// A few homes, and a few tags a home: long clusters of equal homes,
			// and equal tags that only the record tells apart.
			pool := make([]uint64, 12)
			for i := range pool {
				pool[i] = r.Uint64()
			}
			hashOfKey := map[int]uint64{}
			model := map[int]uint64{} // key -> location
			const keys = 3000
			for step := range 25000 {
				k := r.IntN(keys)
				h, ok := hashOfKey[k]
				if !ok {
					h = pool[r.IntN(len(pool))]
					if r.IntN(4) == 0 {
						h = r.Uint64() // some keys elsewhere
					}
					hashOfKey[k] = h
				}
				match := func(loc uint64) bool { return f.keyOf[loc] == k }
				pos, free := x.find(h, match)
				if _, in := model[k]; in != (pos >= 0) {
					t.Fatalf("step %d: key %d in the model %v, found at %d", step, k, in, pos)
				}
				switch {
				case pos >= 0 && r.IntN(2) == 0:
					x.remove(pos)
					delete(model, k)
				case pos >= 0:
					loc := f.place(k, h)
					x.set(pos, h, loc)
					model[k] = loc
				default:
					if free < 0 || x.load(uint64(free)) > tombstone {
						t.Fatalf("step %d: find returned %d as a free slot holding %x", step, free, x.load(uint64(free)))
					}
					loc := f.place(k, h)
					if err := x.insert(free, h, loc); err != nil {
						t.Fatal(err)
					}
					model[k] = loc
				}
				if step%997 == 0 || step > 24900 {
					checkIndex(t, x, f, model, hashOfKey)
				}
			}
			checkIndex(t, x, f, model, hashOfKey)
		})
	}
}

func checkIndex(t *testing.T, x *index, f *fakeKeys, model map[int]uint64, hashOfKey map[int]uint64) {
	t.Helper()
	seen := map[int]int{}
	live, dead := 0, 0
	for i := range x.slots {
		switch s := x.load(uint64(i)); {
		case s == tombstone:
			dead++
		case s > tombstone:
			live++
			seen[f.keyOf[slotLocation(s)]]++
		}
	}
	if live != x.live || dead != x.dead || live != len(model) {
		t.Fatalf("%d live slots (counted %d), %d tombstones (counted %d), model holds %d", live, x.live, dead, x.dead, len(model))
	}
	for k, loc := range model {
		if seen[k] != 1 {
			t.Fatalf("key %d in %d slots", k, seen[k])
		}
		var got uint64
		pos, _ := x.find(hashOfKey[k], func(l uint64) bool {
			if f.keyOf[l] == k {
				got = l
				return true
			}
			return false
		})
		if pos < 0 || got != loc {
			t.Fatalf("key %d: found at %d with location %d, want %d", k, pos, got, loc)
		}
	}
}

// TestHomeBeyondTheTag checks the placement math of tables past 2^24 slots
// without allocating them: the home of a hash stays inside the table, and
// every slot of a full 2^b range of tags with the same low bits lands on a
// distinct home (no two hashes that differ in placing bits share a home).
func TestHomeBeyondTheTag(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for b := uint(tagBits - 2); b <= 40; b++ {
		x := &index{mask: 1<<b - 1, bits: b}
		for range 2000 {
			h := r.Uint64()
			home := x.home(h)
			if home > x.mask {
				t.Fatalf("%d bits: home %d beyond the table", b, home)
			}
			// Flipping a bit the home should depend on moves it.
			for _, bit := range []uint{64 - shardBits - 1, 64 - shardBits - tagBits} {
				if b >= tagBits || bit >= 64-shardBits-b {
					if h2 := h ^ 1<<bit; x.home(h2) == home {
						t.Fatalf("%d bits: flipping hash bit %d leaves the home at %d", b, bit, home)
					}
				}
			}
			if b > tagBits {
				if h2 := h ^ 1; x.home(h2) == home {
					t.Fatalf("%d bits: the low bit of the hash does not place", b)
				}
			}
		}
	}
}

// TestLocationsAtTheEdges round-trips, through a slot, the locations of
// the first and last records the slab can hold (an offset just under 4
// TiB) and of large records, referenced or not, with every tag.
func TestLocationsAtTheEdges(t *testing.T) {
	offs := []int64{0, alloc.MinAlign, maxSlab - alloc.MinAlign, maxSlab - 64<<10}
	var locs []uint64
	for _, off := range offs {
		loc := slabLocation(off)
		if slabOffset(loc) != off {
			t.Fatalf("offset %d -> location %d -> offset %d", off, loc, slabOffset(loc))
		}
		if loc&largeFlag != 0 {
			t.Fatalf("slab offset %d reads as a large record (location %x)", off, loc)
		}
		locs = append(locs, loc)
	}
	for _, id := range []uint64{0, 1, 1 << 20, largeFlag - 3} {
		locs = append(locs, id|largeFlag)
	}
	for _, loc := range locs {
		for _, h := range []uint64{0, ^uint64(0), 0x0123456789abcdef} {
			for _, ref := range []uint64{0, referenced} {
				s := slotOf(h, loc) | ref
				if s <= tombstone {
					t.Fatalf("slot %x reads as empty or a tombstone", s)
				}
				if got := slotLocation(s); got != loc {
					t.Fatalf("location %x (ref %v) came back as %x", loc, ref != 0, got)
				}
				if !slotMatches(s, h) || s&referenced != ref {
					t.Fatalf("slot %x lost its tag or reference bit", s)
				}
			}
		}
	}
}

func TestSpaceRefusesWhatTheIndexCannotAddress(t *testing.T) {
	if _, err := newSpace(maxSlab+alloc.MinAlign, 64<<10); !errors.Is(err, tier.ErrTooLarge) {
		t.Fatalf("newSpace beyond 4 TiB: %v, want ErrTooLarge", err)
	}
}

// TestLargeRecordsSurviveGrowth stores records large enough for mappings
// of their own among small ones, enough to grow every shard's index a few
// times, and reads them all back (largeFlag locations through rebuilds).
func TestLargeRecordsSurviveGrowth(t *testing.T) {
	s, err := New(&Options{Capacity: 64 << 20, MaxSmall: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	val := func(i int) []byte {
		n := 8
		if i%97 == 0 {
			n = 5000
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(i + j)
		}
		return b
	}
	const n = 70000
	for i := range n {
		if _, err := s.Put(fmt.Sprint("key", i), val(i), nil); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 && i > 0 { // tombstones along the way
			if _, err := s.Delete(fmt.Sprint("key", i-1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := 0
	for i := range n {
		v, err := s.Get(fmt.Sprint("key", i), nil)
		gone := i%3 == 2 && i+1 < n
		if gone {
			if !errors.Is(err, tier.ErrNotFound) {
				t.Fatalf("key%d deleted: %v", i, err)
			}
			continue
		}
		want++
		if err != nil || string(v) != string(val(i)) {
			t.Fatalf("key%d: %d bytes, %v", i, len(v), err)
		}
	}
	if s.Len() != int64(want) {
		t.Fatalf("Len %d, want %d", s.Len(), want)
	}
}

// TestReadersDuringGrowth reads (setting reference bits) and sweeps the
// clock while writers grow and shrink the shards' indexes.
func TestReadersDuringGrowth(t *testing.T) {
	s, err := New(&Options{Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const stable = 200
	for i := range stable {
		if _, err := s.Put(fmt.Sprint("stable", i), []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	n := 30000
	if testing.Short() {
		n = 5000
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := (i*7 + g) % stable
				v, err := s.Get(fmt.Sprint("stable", k), nil)
				if err != nil || string(v) != fmt.Sprint(k) {
					errs <- fmt.Errorf("stable%d during growth: %q, %v", k, v, err)
					return
				}
				if i%64 == 0 {
					s.Victim(func(key string, _ []byte) bool { return key[0] == 's' })
					s.PrepareLookups([][]byte{[]byte(fmt.Sprint("stable", k)), []byte(fmt.Sprint("churn", i))})
				}
			}
		}()
	}
	for i := range n {
		if _, err := s.Put(fmt.Sprint("churn", i), []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			s.Delete(fmt.Sprint("churn", i-1))
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSlabLocationsRoundTrip places records of every size class the slab
// has and checks that each location, an offset over 16, names the very
// memory alloc returned (an offset the slab did not align to 16 would be
// truncated to another record's).
func TestSlabLocationsRoundTrip(t *testing.T) {
	s, err := newSpace(256<<20, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	type placed struct {
		loc, mark uint64
		size      int64
	}
	var all []placed
	for size := int64(8); size <= 64<<10; size += 1 + size/9 {
		for range 3 {
			loc, m, _, err := s.alloc(size)
			if err != nil {
				t.Fatal(err)
			}
			mark := uint64(len(all))<<20 | uint64(size)
			m.PutUint64(0, mark)
			all = append(all, placed{loc, mark, size})
		}
	}
	for _, p := range all {
		if got := s.record(p.loc).GetUint64(0); got != p.mark {
			t.Fatalf("a %d-byte record at location %d reads %x, want %x", p.size, p.loc, got, p.mark)
		}
	}
	for _, p := range all {
		s.free(p.loc, p.size)
	}
}
