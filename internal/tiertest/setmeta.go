package tiertest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// setMeta checks a tier.MetaSetter: SetMeta keeps the value byte for byte
// and replaces the meta, for values empty to 1 MiB, compressible or not,
// with meta longer, shorter, of the same length and none; what it returns
// is what the entry occupies (Used, Len, Scan and Size agree); a key never
// stored is ErrNotFound; a grow too small is ErrNoSpace with nothing
// changed; a value a Lender lent before stays as it was. A store without
// SetMeta skips it; after Close it is closed's to check.
func setMeta(t *testing.T, s tier.Store) {
	defer s.Close()
	ms, ok := s.(tier.MetaSetter)
	if !ok {
		t.Skip("the store has no SetMeta")
	}
	metas := [][]byte{nil, []byte("ab"), bytes.Repeat([]byte("t"), 10), bytes.Repeat([]byte("x"), 10), nil,
		bytes.Repeat([]byte("m"), 300), []byte("ab"), nil}
	l := ledger{}
	for i, n := range []int{0, 10, 100, 300, 1000, 5000, 70 << 10, 1 << 20} {
		for _, compressible := range []bool{true, false} {
			key := fmt.Sprintf("meta-%d-%v", n, compressible)
			v := accountingValue(i, n, compressible)
			charged, err := s.Put(key, v, nil)
			must(t, err)
			l[key] = charged
			lent := lend(s, key, n)
			for _, meta := range metas {
				charged, err := ms.SetMeta(key, meta, 1<<30)
				if err != nil {
					t.Fatalf("SetMeta(%q, %d bytes of meta): %v", key, len(meta), err)
				}
				l[key] = charged
				checkEntry(t, s, key, v, meta, fmt.Sprintf("after SetMeta(%q, %d bytes of meta)", key, len(meta)))
				checkLedger(t, s, l, fmt.Sprintf("after SetMeta(%q, %d bytes of meta)", key, len(meta)))
			}
			if lent != nil && !bytes.Equal(lent, v) {
				t.Errorf("%q: a value lent before SetMeta changed", key)
			}
		}
	}
	if _, err := ms.SetMeta("never-stored", []byte("m"), 1<<30); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("SetMeta of a key never stored = %v, want ErrNotFound", err)
	}
	setMetaWithoutRoom(t, s, ms, l)
}

// setMetaWithoutRoom checks that a SetMeta that would grow the entry past
// grow fails with ErrNoSpace and changes nothing.
func setMetaWithoutRoom(t *testing.T, s tier.Store, ms tier.MetaSetter, l ledger) {
	v := accountingValue(1, 100, false)
	charged, err := s.Put("meta-room", v, []byte("old"))
	must(t, err)
	l["meta-room"] = charged
	if _, err := ms.SetMeta("meta-room", bytes.Repeat([]byte("m"), 4096), 0); !errors.Is(err, tier.ErrNoSpace) {
		t.Errorf("SetMeta of 4 KiB of meta on a 100-byte value, allowed to grow 0 bytes = %v, want ErrNoSpace", err)
	}
	checkEntry(t, s, "meta-room", v, []byte("old"), "after a SetMeta without room")
	checkLedger(t, s, l, "after a SetMeta without room")
}

// lend returns key's value as a Lender lends it past ViewMeta, or nil when
// the store does not lend a value of n bytes.
func lend(s tier.Store, key string, n int) []byte {
	ld, ok := s.(tier.Lender)
	if !ok || !ld.Lends(n) {
		return nil
	}
	var lent []byte
	if err := view(s, key, func(v []byte) error { lent = v; return nil }); err != nil {
		return nil
	}
	return lent
}

// checkEntry stops the test unless key holds value and meta.
func checkEntry(t *testing.T, s tier.Store, key string, value, meta []byte, when string) {
	t.Helper()
	err := s.ViewMeta(key, func(v, m []byte) error {
		if !bytes.Equal(v, value) || !bytes.Equal(m, meta) {
			return fmt.Errorf("a value of %d bytes with meta %q, want %d bytes with meta %q", len(v), m, len(value), meta)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: ViewMeta(%q): %v", when, key, err)
	}
}

// setMetaRacing runs SetMeta beside Puts, Deletes and reads of the same
// keys: a reader sees a value of the key with no meta or a header of one
// of its samples, never a torn one; once they finish, every key holds the
// value its writer put last (a SetMeta racing a Put never brings back the
// value the Put replaced), and Used, Len, Scan and Size agree.
func setMetaRacing(t *testing.T, s tier.Store) {
	defer s.Close()
	ms, ok := s.(tier.MetaSetter)
	if !ok {
		t.Skip("the store has no SetMeta")
	}
	const keys, writers = 16, 2 // writer g owns the keys k with k%writers == g
	var last [keys]atomic.Uint32
	var stop atomic.Bool
	var wg, others sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			for i := range rounds(800) {
				key := g + writers*rng.IntN(keys/writers)
				n := 16 + rng.IntN(4000) // past the size a memory store writes over in place
				if rng.IntN(20) == 0 {
					n = 64<<10 + rng.IntN(16<<10)
				}
				version := uint32(i + 1)
				v := sample(key, version, n, rng.IntN(2) == 0)
				if _, err := s.Put(sampleKey(key), v, metaFor(v, rng.IntN(2) == 0)); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				last[key].Store(version)
			}
		})
	}
	for g := range 2 {
		others.Go(func() { setMetaLoop(t, s, ms, g, &stop) })
	}
	others.Go(func() { readLoop(t, s, &stop) })
	wg.Wait()
	stop.Store(true)
	others.Wait()
	if t.Failed() {
		return
	}
	checkLastVersions(t, s, last[:])
}

// setMetaLoop sets the meta of random keys, to none or to a header of one
// of the key's samples, until the writers are done.
func setMetaLoop(t *testing.T, s tier.Store, ms tier.MetaSetter, g int, stop *atomic.Bool) {
	rng := rand.New(rand.NewPCG(uint64(g), 13))
	for i := 0; !stop.Load() || i < 100; i++ {
		key := rng.IntN(16)
		var meta []byte
		if rng.IntN(2) == 0 {
			meta = sample(key, 0, sampleHeader, false)
		}
		if _, err := ms.SetMeta(sampleKey(key), meta, 1<<30); err != nil && !errors.Is(err, tier.ErrNotFound) {
			t.Errorf("SetMeta: %v", err)
			return
		}
		if i%64 == 0 {
			if _, err := s.Delete(sampleKey(key)); err != nil && !errors.Is(err, tier.ErrNotFound) {
				t.Errorf("Delete: %v", err)
				return
			}
		}
	}
}

// readLoop reads random keys until stop, checking each value and meta.
func readLoop(t *testing.T, s tier.Store, stop *atomic.Bool) {
	rng := rand.New(rand.NewPCG(5, 17))
	for !stop.Load() {
		key := sampleKey(rng.IntN(16))
		err := s.ViewMeta(key, func(v, meta []byte) error {
			if bad := checkSample(key, v); bad != "" {
				return errors.New(bad)
			}
			if bad := checkSampleMeta(key, meta); bad != "" {
				return errors.New(bad)
			}
			return nil
		})
		if err != nil && !errors.Is(err, tier.ErrNotFound) {
			t.Errorf("ViewMeta beside SetMeta: %v", err)
			return
		}
	}
}

// checkLastVersions checks that each key still held is at the version its
// writer put last (a Delete may have removed it), and the accounting.
func checkLastVersions(t *testing.T, s tier.Store, last []atomic.Uint32) {
	l := ledger{}
	must(t, s.Scan(func(key string, _ []byte, size int64) error {
		l[string([]byte(key))] = size
		return nil
	}))
	for key := range last {
		got, err := get(s, sampleKey(key), nil)
		if errors.Is(err, tier.ErrNotFound) {
			continue
		}
		must(t, err)
		if _, version := seedOf(got); version != last[key].Load() {
			t.Errorf("%s holds version %d; its writer put version %d last", sampleKey(key), version, last[key].Load())
		}
	}
	checkLedger(t, s, l, "after SetMeta beside Puts and Deletes")
	for key := range l {
		deleteCharged(t, s, l, key)
	}
	checkLedger(t, s, l, "after deleting every key")
}
