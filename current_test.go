package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

var errStale = errors.New("stale")

// ifSum is a condition that the key holds a value whose checksum is sum
// (found) or holds none (!found).
func ifSum(found bool, sum uint64) func(*tiermem.Current) error {
	return func(c *tiermem.Current) error {
		if c.Found() != found || found && c.Checksum() != sum {
			return errStale
		}
		return nil
	}
}

// TestOnlyIfInEveryTier: a condition sees the key's value as it is in each
// tier (its checksum, the XXH3-64 of its bytes; its size), and a Store,
// StoreFrom or DeleteIf whose condition fails changes nothing.
func TestOnlyIfInEveryTier(t *testing.T) {
	m := openRoomy(t)
	cases := []struct {
		name   string
		tier   tiermem.Tier
		size   int
		stream bool
	}{
		{"hot-small", tiermem.Hot, 100, false}, {"hot-large", tiermem.Hot, 1 << 20, false},
		{"warm-small", tiermem.Warm, 100, false}, {"warm-large", tiermem.Warm, 1 << 20, true},
		{"cold-small", tiermem.Cold, 100, false}, {"cold-large", tiermem.Cold, 3 << 20, true},
		{"glacier", tiermem.Glacier, 5000, false},
	}
	for i, c := range cases {
		old := seededNoise(c.size, byte(i+1))
		must(t, m.Store(c.name, old, tiermem.InTier(c.tier)))
		if c.stream {
			must(t, m.StoreFrom(c.name, bytes.NewReader(old), int64(len(old)), tiermem.InTier(c.tier)))
		}
		sum := xxh3.Hash(old)
		var seen []string
		look := func(cur *tiermem.Current) error {
			seen = append(seen, fmt.Sprint(cur.Found(), cur.Checksum() == sum, cur.Size()))
			return errStale
		}
		next := seededNoise(c.size, byte(i+100))
		if err := m.Store(c.name, next, tiermem.OnlyIf(look), tiermem.InTier(c.tier)); !errors.Is(err, errStale) {
			t.Errorf("%s: Store with a failing condition = %v", c.name, err)
		}
		if err := m.StoreFrom(c.name, bytes.NewReader(next), int64(len(next)), tiermem.OnlyIf(look), tiermem.InTier(c.tier)); !errors.Is(err, errStale) {
			t.Errorf("%s: StoreFrom with a failing condition = %v", c.name, err)
		}
		if err := m.DeleteIf(c.name, look); !errors.Is(err, errStale) {
			t.Errorf("%s: DeleteIf with a failing condition = %v", c.name, err)
		}
		want := fmt.Sprint(true, true, c.size)
		if len(seen) != 3 || slices.ContainsFunc(seen, func(s string) bool { return s != want }) {
			t.Errorf("%s: the conditions saw %q; want %q three times", c.name, seen, want)
		}
		if got, err := m.Retrieve(c.name); err != nil || !bytes.Equal(got, old) {
			t.Fatalf("%s: after failed conditional writes: %d bytes, %v; want the old value", c.name, len(got), err)
		}
		if tr := tierOf(t, m, c.name); tr != c.tier {
			t.Errorf("%s: moved to %v by failed conditional writes", c.name, tr)
		}
		must(t, m.Store(c.name, next, tiermem.OnlyIf(ifSum(true, sum)), tiermem.InTier(c.tier)))
		if got, err := m.Retrieve(c.name); err != nil || !bytes.Equal(got, next) {
			t.Fatalf("%s: after a conditional Store that holds: %d bytes, %v", c.name, len(got), err)
		}
		must(t, m.DeleteIf(c.name, ifSum(true, xxh3.Hash(next))))
		if _, err := m.Retrieve(c.name); !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("%s: after DeleteIf: %v", c.name, err)
		}
		if err := m.DeleteIf(c.name, ifSum(false, 0)); !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("%s: DeleteIf of an absent key = %v, want ErrNotFound", c.name, err)
		}
		must(t, m.StoreFrom(c.name, bytes.NewReader(old), int64(len(old)), tiermem.OnlyIf(ifSum(false, 0)), tiermem.InTier(c.tier)))
		if err := m.StoreFrom(c.name, bytes.NewReader(next), int64(len(next)), tiermem.OnlyIf(ifSum(false, 0))); !errors.Is(err, errStale) {
			t.Errorf("%s: create-only StoreFrom over a present key = %v", c.name, err)
		}
	}
	for level, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("%v: %d bytes still held for streams after conditional writes", level, u.Streaming)
		}
	}
}

// TestOnlyIfArray: a condition sees an array's element type and shape,
// and a plain value has neither.
func TestOnlyIfArray(t *testing.T) {
	m := open(t, nil)
	must(t, m.StoreArray("a", tiermem.Float32Array(make([]float32, 6), 2, 3)))
	must(t, m.Store("b", []byte("bytes")))
	for _, key := range []string{"a", "b", "none"} {
		var got string
		m.DeleteIf(key, func(c *tiermem.Current) error {
			dt, shape, ok := c.Array()
			got = fmt.Sprint(dt, shape, ok)
			return errStale
		})
		want := map[string]string{"a": fmt.Sprint(tiermem.Float32, []int{2, 3}, true), "b": fmt.Sprint(tiermem.DType(0), []int(nil), false)}[key]
		if key == "none" {
			want = fmt.Sprint(tiermem.DType(0), []int(nil), false)
		}
		if got != want {
			t.Errorf("%s: Array() = %s, want %s", key, got, want)
		}
	}
}

// TestOnlyIfCompareAndSet: goroutines increment one counter with
// read-then-conditional-Store, retrying when the condition fails; with a
// Move and a pass of other keys beside them, no increment is lost.
func TestOnlyIfCompareAndSet(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("n", []byte("0")))
	const workers, each = 6, 60
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		tiers := []tiermem.Tier{tiermem.Warm, tiermem.Cold, tiermem.Hot}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m.Move("n", tiers[i%len(tiers)])
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				v, err := m.Retrieve("n")
				if err != nil {
					t.Error(err)
					return
				}
				var n int
				fmt.Sscan(string(v), &n)
				err = m.Store("n", fmt.Appendf(nil, "%d", n+1), tiermem.OnlyIf(ifSum(true, xxh3.Hash(v))))
				switch {
				case err == nil:
					done++
				case !errors.Is(err, errStale):
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if v, err := m.Retrieve("n"); err != nil || string(v) != fmt.Sprint(workers*each) {
		t.Errorf("counter = %q, %v; want %d", v, err, workers*each)
	}
}

// A compare-and-set: the Store lands only if the key still holds the value
// read before it.
func ExampleOnlyIf() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("config", []byte("v1"))
	read, _ := m.Retrieve("config")
	unchanged := tiermem.OnlyIf(func(c *tiermem.Current) error {
		if !c.Found() || c.Checksum() != xxh3.Hash(read) {
			return errors.New("config changed since it was read")
		}
		return nil
	})
	m.Store("config", []byte("v2 by someone else"))
	err = m.Store("config", []byte("v2"), unchanged)
	now, _ := m.Retrieve("config")
	fmt.Printf("%v; config is %q\n", err, now)
	// Output: config changed since it was read; config is "v2 by someone else"
}

func ExampleManager_DeleteIf() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("lock:job", []byte("worker-7"))
	mine := func(c *tiermem.Current) error {
		if c.Checksum() != xxh3.HashString("worker-3") {
			return errors.New("not our lock")
		}
		return nil
	}
	fmt.Println(m.DeleteIf("lock:job", mine))
	// Output: not our lock
}
