package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
)

// TestTakeValueFromEveryTier: TakeValue hands over each tier's value, small
// and large (a large hot one lent, a large warm one in its own mapping, a
// raw cold one from its segment), and the key is gone from every tier;
// the reader keeps the bytes it took after the key is stored again and
// after the Manager closes.
func TestTakeValueFromEveryTier(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 16 << 20}, Warm: tiermem.TierOptions{Size: 16 << 20},
		Cold: tiermem.TierOptions{Size: 256 << 20}})
	must(t, err)
	cases := []struct {
		name string
		tier tiermem.Tier
		size int
	}{
		{"hot-small", tiermem.Hot, 100}, {"hot-large", tiermem.Hot, 1 << 20},
		{"warm-small", tiermem.Warm, 100}, {"warm-large", tiermem.Warm, 1 << 20},
		{"cold-small", tiermem.Cold, 100}, {"cold-large", tiermem.Cold, 3 << 20},
		{"glacier", tiermem.Glacier, 5000},
	}
	var readers []*tiermem.ValueReader
	for i, c := range cases {
		want := seededNoise(c.size, byte(i+1))
		must(t, m.Store(c.name, want, tiermem.InTier(c.tier)))
		if c.name == "cold-large" { // raw in its segment, as a streamed value is
			must(t, m.StoreFrom(c.name, bytes.NewReader(want), int64(len(want)), tiermem.InTier(tiermem.Cold)))
		}
		v, err := m.TakeValue(c.name)
		if err != nil {
			t.Fatalf("%s: TakeValue: %v", c.name, err)
		}
		readers = append(readers, v)
		if v.Tier() != c.tier || v.Size() != int64(c.size) {
			t.Errorf("%s: taken from %v, %d bytes; want %v, %d", c.name, v.Tier(), v.Size(), c.tier, c.size)
		}
		for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
			if tiermem.HeldIn(m, tr, c.name) {
				t.Errorf("%s: still in the %v tier after TakeValue", c.name, tr)
			}
		}
		if _, err := m.Retrieve(c.name); !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("%s: Retrieve after TakeValue = %v, want ErrNotFound", c.name, err)
		}
		must(t, m.Store(c.name, bytes.Repeat([]byte{'x'}, c.size), tiermem.InTier(c.tier))) // stored again
	}
	must(t, m.Close())
	for i, c := range cases {
		got, err := readValue(readers[i])
		if err != nil || !bytes.Equal(got, seededNoise(c.size, byte(i+1))) {
			t.Errorf("%s: the taken value read after a new Store and Close: %d bytes, %v", c.name, len(got), err)
		}
		if readers[i].Checksum() == 0 {
			t.Errorf("%s: no checksum", c.name)
		}
		readers[i].Close()
	}
}

// TestTakeValueOfAnAbsentOrExpiredKey: an absent key is ErrNotFound; an
// expired one too, and it is deleted, so Expiring no longer counts it.
func TestTakeValueOfAnAbsentOrExpiredKey(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{MigrateInterval: -1})
	if _, err := m.TakeValue("none"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("TakeValue of an absent key = %v, want ErrNotFound", err)
	}
	must(t, m.Store("k", []byte("v"), tiermem.WithTTL(time.Minute)))
	clock.Advance(2 * time.Minute)
	if _, err := m.TakeValue("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("TakeValue of an expired key = %v, want ErrNotFound", err)
	}
	if n := m.Expiring(); n != 0 {
		t.Errorf("Expiring() = %d after the expired key was read", n)
	}
}

// TestTakeValueIsOneStep: goroutines take the same keys while others store
// them again: every value stored is taken at most once, whole, and a take
// that finds the key never finds it half-deleted (each stored value is
// either taken or still there at the end).
func TestTakeValueIsOneStep(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 256 << 10},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	const keys, rounds = 4, 300
	var taken sync.Map // value's id → times taken
	var stored atomic.Int64
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() { // writers: each value names itself
			for i := range rounds {
				id := fmt.Sprintf("w%d-%d", w, i)
				value := bytes.Repeat([]byte(id+";"), 1+i%2000)
				if err := m.Store(fmt.Sprint("k", i%keys), value); err != nil {
					t.Errorf("Store: %v", err)
					return
				}
				stored.Add(1)
			}
		})
	}
	for range 3 {
		wg.Go(func() { takeEach(t, m, keys, rounds*2, &taken) })
	}
	wg.Wait()
	n := 0
	taken.Range(func(_, _ any) bool { n++; return true })
	left, err := m.Len()
	must(t, err)
	if int64(n) > stored.Load() || left > keys {
		t.Errorf("%d values taken, %d stored, %d keys left", n, stored.Load(), left)
	}
}

// takeEach takes keys k0 to k(keys-1) in turn, n times in all, whose
// values repeat their id and ";": each taken value must be whole, and no
// id taken twice (taken counts them, by id).
func takeEach(t *testing.T, m *tiermem.Manager, keys, n int, taken *sync.Map) {
	for i := range n {
		v, err := m.TakeValue(fmt.Sprint("k", i%keys))
		if errors.Is(err, tiermem.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Errorf("TakeValue: %v", err)
			return
		}
		got, err := readValue(v)
		v.Close()
		id, _, ok := bytes.Cut(got, []byte(";"))
		if err != nil || !ok || !bytes.Equal(got, bytes.Repeat(append(id, ';'), len(got)/(len(id)+1))) {
			t.Errorf("a torn value taken: %d bytes, %v", len(got), err)
			return
		}
		if c, _ := taken.LoadOrStore(string(id), new(atomic.Int64)); c.(*atomic.Int64).Add(1) > 1 {
			t.Errorf("value %s taken twice", id)
		}
	}
}

// TestTakeValueOfAFlippedBit: a raw cold value with one bit flipped in its
// segment is ErrCorrupt, never its bytes, and the key is gone (it had no
// value left to give).
func TestTakeValueOfAFlippedBit(t *testing.T) {
	dir := t.TempDir()
	m := openUnclosed(t, dir, 1<<20)
	defer m.Close()
	want := seededNoise(3<<20, 9)
	must(t, m.StoreFrom("k", bytes.NewReader(want), int64(len(want)), tiermem.InTier(tiermem.Cold)))
	v, err := m.OpenValue("k") // writes the value out of the cold log's buffer
	if err != nil || !v.Streamed() {
		t.Fatalf("OpenValue before the flip: %v", err)
	}
	v.Close()
	if flipInSegments(t, dir, want, 1<<20, 0x10) == 0 {
		t.Fatal("the value is in no segment file")
	}
	if v, err := m.TakeValue("k"); !errors.Is(err, tiermem.ErrCorrupt) {
		if v != nil {
			v.Close()
		}
		t.Fatalf("TakeValue of a flipped value = %v, want ErrCorrupt", err)
	}
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Retrieve after the corrupt take = %v, want ErrNotFound", err)
	}
}

// ExampleManager_TakeValue hands a queued job's payload to one worker and
// deletes it, in one step: two workers never get the same job. A large
// cold payload is read from disk as the worker goes.
func ExampleManager_TakeValue() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("job:1", []byte("resize image 42"))
	v, err := m.TakeValue("job:1")
	if err != nil {
		panic(err)
	}
	defer v.Close()
	payload := make([]byte, v.Size())
	v.ReadAt(payload, 0)
	_, err = m.TakeValue("job:1")
	fmt.Printf("%s; again: %v\n", payload, errors.Is(err, tiermem.ErrNotFound))
	// Output: resize image 42; again: true
}

// TestTakeValueOnAFullDisk: with Durability Always, on a real disk that
// is full (a 4 MiB tmpfs, root only), a TakeValue of a cold key cannot
// make its delete durable: it fails, hands over nothing, and the key keeps
// its value; once there is room it takes the value whole.
func TestTakeValueOnAFullDisk(t *testing.T) {
	mnt := tmpfs.Mount(t, "4m")
	m, err := tiermem.Open(filepath.Join(mnt, "data"), &tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	must(t, err)
	defer m.Close()
	want := seededNoise(64<<10, 3)
	must(t, m.Store("k", want, tiermem.InTier(tiermem.Cold)))
	filler := tmpfs.Fill(t, mnt)
	for i := 0; ; i++ { // use up the segment's last page: records of the size of k's delete
		if err := m.Store("x", nil, tiermem.InTier(tiermem.Cold)); err != nil {
			break
		}
		if i > 1<<16 {
			t.Fatal("the full disk took 65536 records")
		}
	}
	if v, err := m.TakeValue("k"); err == nil {
		v.Close()
		t.Fatal("TakeValue on a full disk succeeded: its delete was written nowhere")
	}
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after the failed take: %d bytes, %v; want the value", len(got), err)
	}
	must(t, os.Remove(filler))
	v, err := m.TakeValue("k")
	must(t, err)
	defer v.Close()
	if got, err := readValue(v); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the take once there is room: %d bytes, %v", len(got), err)
	}
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Retrieve after the take = %v, want ErrNotFound", err)
	}
}
