package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

func byteSlices(ss ...string) [][]byte {
	b := make([][]byte, len(ss))
	for i, s := range ss {
		b[i] = []byte(s)
	}
	return b
}

// smallNoGlacier is a Manager whose tiers hold 1, 1 and 2 MiB, with no
// glacier: a full cold tier is full.
func smallNoGlacier(t *testing.T, dir string, d tiermem.Durability) *tiermem.Manager {
	t.Helper()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Durability: d,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 2 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	return m
}

// TestStoreManyAllOrNothing: a StoreMany whose values do not all fit
// stores none of them and leaves the value a key had; one that needs
// room made (the hot tier holds one of its values at a time) stores
// them all, each where a Store would have put it; a key named twice
// takes its last value.
func TestStoreManyAllOrNothing(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			m := smallNoGlacier(t, t.TempDir(), d)
			defer m.Close()
			old := seededNoise(300<<10, 1)
			must(t, m.Store("old", old, tiermem.InTier(tiermem.Cold)))
			v := [][]byte{seededNoise(700<<10, 2), seededNoise(700<<10, 3), seededNoise(700<<10, 4), seededNoise(700<<10, 5), seededNoise(700<<10, 6)}
			err := m.StoreMany(byteSlices("n1", "n2", "old", "n3", "n4"), v)
			if !errors.Is(err, tiermem.ErrNoSpace) || !strings.Contains(err.Error(), "none stored") {
				t.Fatalf("StoreMany of 3.5 MiB into 3.7 MiB of tiers holding 300 KiB: %v, want ErrNoSpace saying none was stored", err)
			}
			for _, k := range []string{"n1", "n2", "n3", "n4"} {
				if _, err := m.Tier(k); !errors.Is(err, tiermem.ErrNotFound) {
					t.Errorf("a failed StoreMany left %s: %v", k, err)
				}
			}
			if got, err := m.Retrieve("old"); err != nil || !bytes.Equal(got, old) {
				t.Errorf("a failed StoreMany changed old: %d bytes, %v", len(got), err)
			}
			for level, u := range m.Usage() {
				if u.Used > u.Capacity {
					t.Errorf("%v: %d bytes used of %d", tiermem.Tier(level), u.Used, u.Capacity)
				}
			}
			// With Durability Always the cold log holds a copy of every
			// value: 3 × 500 KiB and old's 300 KiB fit its 2 MiB.
			w := [][]byte{seededNoise(500<<10, 7), seededNoise(500<<10, 8), seededNoise(500<<10, 9), seededNoise(500<<10, 10)}
			must(t, m.StoreMany(byteSlices("a", "b", "a", "c"), w))
			for k, want := range map[string][]byte{"a": w[2], "b": w[1], "c": w[3], "old": old} {
				if got, err := m.Retrieve(k); err != nil || !bytes.Equal(got, want) {
					t.Errorf("after StoreMany, %s: %d bytes, %v", k, len(got), err)
				}
			}
		})
	}
}

// TestStoreManyRefusesBeforeStoring: an invalid key, a value no tier
// holds, mismatched lengths and OnlyIf are refused with nothing stored.
func TestStoreManyRefusesBeforeStoring(t *testing.T) {
	m := smallNoGlacier(t, t.TempDir(), tiermem.None)
	defer m.Close()
	for _, c := range []struct {
		keys, values [][]byte
		opts         []tiermem.StoreOption
		want         error
	}{
		{byteSlices("k1", ""), byteSlices("1", "2"), nil, tiermem.ErrInvalidKey},
		{byteSlices("k1", strings.Repeat("x", 1<<16)), byteSlices("1", "2"), nil, tiermem.ErrInvalidKey},
		{byteSlices("k1", "k2"), [][]byte{[]byte("1"), make([]byte, 3<<20)}, nil, tiermem.ErrTooLarge},
		{byteSlices("k1", "k2"), [][]byte{[]byte("1"), make([]byte, 2<<20)}, []tiermem.StoreOption{tiermem.InTier(tiermem.Hot)}, tiermem.ErrTooLarge},
		{byteSlices("k1", "k2"), byteSlices("1"), nil, tiermem.ErrOptions},
		{byteSlices("k1"), byteSlices("1"), []tiermem.StoreOption{tiermem.OnlyIf(func(*tiermem.Current) error { return nil })}, tiermem.ErrOptions},
		{byteSlices("k1"), byteSlices("1"), []tiermem.StoreOption{tiermem.InTier(9)}, tiermem.ErrUnknownTier},
	} {
		if err := m.StoreMany(c.keys, c.values, c.opts...); !errors.Is(err, c.want) {
			t.Errorf("StoreMany(%d keys, %d values): %v, want %v", len(c.keys), len(c.values), err, c.want)
		}
		if _, err := m.Tier("k1"); !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("a refused StoreMany stored k1: %v", err)
		}
	}
}

// TestStoreManyCloseInTheMiddle: many goroutines store batches while the
// Manager closes; each batch is either stored whole (and found whole
// after a reopen, with Durability Always) or, refused with ErrClosed,
// not at all.
func TestStoreManyCloseInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	o := &tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always,
		Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10}, Cold: tiermem.TierOptions{Size: 64 << 20}}
	m, err := tiermem.Open(dir, o)
	must(t, err)
	var mu sync.Mutex
	stored, refused := map[int]bool{}, map[int]bool{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := g*100000 + i
				keys := byteSlices(fmt.Sprint(id, "/a"), fmt.Sprint(id, "/b"), fmt.Sprint(id, "/c"))
				err := m.StoreMany(keys, [][]byte{seededNoise(5000, byte(id)), seededNoise(40000, byte(id)), seededNoise(100, byte(id))})
				mu.Lock()
				switch {
				case err == nil:
					stored[id] = true
				case errors.Is(err, tiermem.ErrClosed):
					refused[id] = true
				default:
					t.Errorf("batch %d: %v", id, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		mu.Lock()
		n := len(stored)
		mu.Unlock()
		if n >= 40 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	must(t, m.Close())
	wg.Wait()
	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	for id := range stored {
		for i, sfx := range []string{"/a", "/b", "/c"} {
			want := seededNoise([]int{5000, 40000, 100}[i], byte(id))
			if got, err := m.Retrieve(fmt.Sprint(id, sfx)); err != nil || !bytes.Equal(got, want) {
				t.Errorf("batch %d acknowledged, after reopen %s: %d bytes, %v", id, sfx, len(got), err)
			}
		}
	}
	for id := range refused {
		for _, sfx := range []string{"/a", "/b", "/c"} {
			if _, err := m.Tier(fmt.Sprint(id, sfx)); !errors.Is(err, tiermem.ErrNotFound) {
				t.Errorf("batch %d refused with ErrClosed, yet %s is there: %v", id, sfx, err)
			}
		}
	}
}

// ExampleManager_StoreMany stores several values together: all of them,
// or, when the tiers have no room for them all, none.
func ExampleManager_StoreMany() {
	dir, _ := os.MkdirTemp("", "storemany")
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 20},
		Glacier: tiermem.GlacierOptions{Disabled: true}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	keys := [][]byte{[]byte("user:1"), []byte("user:2")}
	err = m.StoreMany(keys, [][]byte{[]byte("ada"), []byte("grace")})
	fmt.Println("stored:", err)

	huge := make([]byte, 2<<20) // more than any tier's budget
	err = m.StoreMany([][]byte{[]byte("user:3"), []byte("blob")}, [][]byte{[]byte("alan"), huge})
	_, missing := m.Tier("user:3")
	fmt.Println("refused whole:", errors.Is(err, tiermem.ErrTooLarge), errors.Is(missing, tiermem.ErrNotFound))
	// Output:
	// stored: <nil>
	// refused whole: true true
}

// TestStoreManyBudgetsUnderConcurrency: batches and single Stores racing
// over tiny tiers never take a tier past its budget, and each batch that
// returns nil is readable whole (no later write names its keys).
func TestStoreManyBudgetsUnderConcurrency(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 200 << 10}, Warm: tiermem.TierOptions{Size: 300 << 10},
		Cold: tiermem.TierOptions{Size: 8 << 20}})
	must(t, err)
	defer m.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	hostileLoop(&wg, stop, func(i int) { // single Stores of shared keys, to be demoted around the batches
		if err := m.Store(fmt.Sprint("shared", i%50), seededNoise(20000, byte(i))); err != nil {
			t.Error(err)
		}
	})
	for g := 1; g < 4; g++ {
		hostileLoop(&wg, stop, func(i int) {
			id := fmt.Sprint(g, "/", i)
			keys := byteSlices(id+"a", id+"b", id+"c", id+"d")
			values := [][]byte{seededNoise(30000, byte(i)), seededNoise(60000, byte(i+1)), seededNoise(100, byte(i+2)), seededNoise(90000, byte(i+3))}
			if err := m.StoreMany(keys, values); err != nil {
				t.Errorf("batch %s: %v", id, err)
				return
			}
			for j, k := range keys {
				if got, err := m.Retrieve(string(k)); err != nil || !bytes.Equal(got, values[j]) {
					t.Errorf("batch %s, key %s: %d bytes, %v", id, k, len(got), err)
				}
			}
		})
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		for level, u := range m.Usage() {
			if u.Capacity > 0 && u.Used > u.Capacity {
				t.Errorf("%v: %d bytes used of %d", tiermem.Tier(level), u.Used, u.Capacity)
			}
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
}

// BenchmarkMSet10 stores 10 pairs of 100 bytes in the hot tier, as one
// StoreMany (an MSET) and as 10 Stores, for the cost of all-or-none.
func BenchmarkMSet10(b *testing.B) {
	m, err := tiermem.Open(b.TempDir(), &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	keys, values := make([][]byte, 10), make([][]byte, 10)
	for i := range keys {
		keys[i], values[i] = []byte(fmt.Sprintf("key:%012d", i)), seededNoise(100, byte(i))
	}
	b.Run("StoreMany", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(1000)
		for b.Loop() {
			if err := m.StoreMany(keys, values); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Stores", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(1000)
		for b.Loop() {
			for i := range keys {
				if err := m.StoreBytes(keys[i], values[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
