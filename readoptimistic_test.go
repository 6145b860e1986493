package tiermem_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/keylock"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestRetrieveArrayIntoGivesNoArrayWithAnError: while a key is stored and
// deleted in turn, RetrieveArrayInto returns an Array or an error, never
// both (an optimistic read that was discarded must not have handed its
// function the array it found).
func TestRetrieveArrayIntoGivesNoArrayWithAnError(t *testing.T) {
	m := open(t, nil)
	var stop atomic.Bool
	var wg sync.WaitGroup
	defer func() { stop.Store(true); wg.Wait() }()
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			_ = m.StoreArray("a", tiermem.Int64Array([]int64{int64(i)}, 1), tiermem.InTier(tiermem.Warm))
			_ = m.Delete("a")
		}
	})
	deadline := time.Now().Add(1500 * time.Millisecond)
	stale, errs := 0, 0
	for time.Now().Before(deadline) && stale == 0 {
		a, err := m.RetrieveArrayInto(nil, "a")
		if err != nil {
			errs++
			if a.Data != nil || a.Shape != nil {
				stale++
				t.Errorf("RetrieveArrayInto = (%v, %v): an Array with the error (from a read that was discarded)", a, err)
			}
		}
	}
	t.Logf("errors %d, of which with an Array %d", errs, stale)
}

// TestOwnedReadsWhileKeysChange: keys that are never deleted are stored again,
// moved between tiers, given and relieved of TTLs and demoted by
// Migrate while owned reads run; every read must find them, with a
// version never older than one the same reader saw, and a header (shape)
// that matches the value. Flappy keys are deleted, renamed away and back:
// reads of them may miss, but never return another key's value or a
// mismatched header.
func TestOwnedReadsWhileKeysChange(t *testing.T) {
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1,
	})
	const stable, flappy = 4, 4
	arr := func(id, ver int) tiermem.Array {
		n := ver%7 + 1
		d := make([]int64, n)
		for i := range d {
			d[i] = int64(id)<<32 | int64(ver)
		}
		return tiermem.Int64Array(d, n)
	}
	check := func(key string, id int, a tiermem.Array) (int, error) {
		d, err := a.Int64s()
		if err != nil {
			return 0, err
		}
		if len(a.Shape) != 1 || a.Shape[0] != len(d) || len(d) == 0 {
			return 0, fmt.Errorf("%s: shape %v for %d elements", key, a.Shape, len(d))
		}
		ver := int(d[0] & 0xffffffff)
		if got := int(d[0] >> 32); got != id {
			return 0, fmt.Errorf("%s: value of key id %d", key, got)
		}
		if ver%7+1 != len(d) {
			return 0, fmt.Errorf("%s: version %d with %d elements: header and value of different versions", key, ver, len(d))
		}
		for _, x := range d {
			if x != d[0] {
				return 0, fmt.Errorf("%s: torn value %v", key, d)
			}
		}
		return ver, nil
	}
	for i := range stable {
		must(t, m.StoreArray(fmt.Sprint("s", i), arr(i, 0)))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
		stop.Store(true)
	}
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for i := range stable {
		wg.Go(func() {
			key := fmt.Sprint("s", i)
			for v := 1; !stop.Load(); v++ {
				var err error
				switch v % 6 {
				case 0, 1:
					err = m.StoreArray(key, arr(i, v), tiermem.InTier(tiers[v%3]))
				case 2:
					err = m.Move(key, tiers[(v/6)%3])
				case 3:
					err = m.Expire(key, time.Hour)
				case 4:
					_, err = m.Persist(key)
				case 5:
					err = m.Copy(key, tiermem.Cold)
				}
				if err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
					fail(fmt.Errorf("writer %s step %d: %v", key, v, err))
					return
				}
			}
		})
	}
	for i := range flappy {
		wg.Go(func() {
			id := stable + i
			key := fmt.Sprint("f", i)
			tmp := fmt.Sprint("tmp", i)
			for v := 1; !stop.Load(); v++ {
				_ = m.StoreArray(key, arr(id, v), tiermem.InTier(tiers[v%3]))
				switch v % 3 {
				case 0:
					_ = m.Delete(key)
				case 1:
					if m.Rename(key, tmp, true) == nil {
						_ = m.Rename(tmp, key, true)
					}
				case 2:
					_ = m.CopyKey(key, tmp, true)
					_ = m.Delete(tmp)
				}
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			_ = m.Migrate()
			time.Sleep(time.Millisecond)
		}
	})
	for r := range 2 {
		wg.Go(func() {
			last := make([]int, stable)
			buf := []byte(nil)
			for n := 0; !stop.Load(); n++ {
				id := (n + r) % (stable + flappy)
				key := fmt.Sprint("s", id)
				if id >= stable {
					key = fmt.Sprint("f", id-stable)
				}
				a, err := m.RetrieveArrayInto(buf, key)
				if err != nil {
					if id < stable || !errors.Is(err, tiermem.ErrNotFound) {
						fail(fmt.Errorf("reader %d: %s: %v", r, key, err))
						return
					}
					continue
				}
				ver, err := check(key, id, a)
				if err != nil {
					fail(fmt.Errorf("reader %d: %v", r, err))
					return
				}
				if id < stable {
					if ver < last[id] {
						fail(fmt.Errorf("reader %d: %s: version %d after %d", r, key, ver, last[id]))
						return
					}
					last[id] = ver
				}
				// Plain Retrieve too: the bytes path.
				if _, err := m.Retrieve(key); err != nil && (id < stable || !errors.Is(err, tiermem.ErrNotFound)) {
					fail(fmt.Errorf("reader %d: Retrieve %s: %v", r, key, err))
					return
				}
			}
		})
	}
	time.Sleep(2 * time.Second)
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

// countingCold is the cold tier's disk store, counting the GetMeta calls
// for one key and running hook inside the first one (while the read is
// in flight).
type countingCold struct {
	*disk.Store
	key   string
	calls atomic.Int64
	hook  func()
}

func (s *countingCold) GetMeta(key string, dst []byte) ([]byte, []byte, error) {
	if key == s.key && s.calls.Add(1) == 1 && s.hook != nil {
		s.hook()
	}
	return s.Store.GetMeta(key, dst)
}

// TestColdReadIsNotRepeatedForANeighboursWrite: a Retrieve of a cold value
// reads it from the store once, also when another key of its stripe is
// written while the read runs (a read without the lock would have to be
// done again: for a large cold value, or a glacier one, a GET from the
// object store, the cost would double under writes to unrelated keys).
func TestColdReadIsNotRepeatedForANeighboursWrite(t *testing.T) {
	ds, err := disk.Open(t.TempDir(), nil)
	must(t, err)
	cold := &countingCold{Store: ds, key: "slow"}
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20, Store: cold}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1,
	})
	var l keylock.Locks
	neighbour := ""
	for i := 0; neighbour == ""; i++ {
		if k := fmt.Sprint("n", i); l.Of(k) == l.Of("slow") {
			neighbour = k
		}
	}
	must(t, m.Store("slow", make([]byte, 1<<20), tiermem.InTier(tiermem.Cold)))
	done := make(chan error, 1)
	cold.hook = func() { // the write waits for the read, which holds the stripe
		go func() { done <- m.Store(neighbour, []byte("x"), tiermem.InTier(tiermem.Hot)) }()
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := m.Retrieve("slow"); err != nil {
		t.Fatal(err)
	}
	must(t, <-done)
	if n := cold.calls.Load(); n != 1 {
		t.Errorf("one Retrieve of a 1 MiB cold value read it %d times from the store (a Store of %q, another key of its stripe, came during the first)", n, neighbour)
	}
}
