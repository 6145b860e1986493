package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// openRoomy opens a Manager whose memory tiers hold 16 MiB each and cold
// 256 MiB, with no background loop: room for a value of a few MiB in any
// tier.
func openRoomy(t *testing.T) *tiermem.Manager {
	return open(t, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 16 << 20}, Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}})
}

// expireIn is an UpdateHeader function that gives a present key a TTL of d.
func expireIn(d time.Duration) func(e *tiermem.Entry) (bool, error) {
	return func(e *tiermem.Entry) (bool, error) {
		e.Expires = time.Now().Add(d)
		return e.Found, nil
	}
}

// TestUpdateHeaderOpenInEveryTier: the reader holds the value as it was
// when its TTL changed, in every tier, and keeps it after the key is
// stored again; the TTL is set, and the key stays in its tier.
func TestUpdateHeaderOpenInEveryTier(t *testing.T) {
	m := openRoomy(t)
	for i, c := range []struct {
		name string
		tier tiermem.Tier
		size int
		raw  bool
	}{
		{"hot-small", tiermem.Hot, 100, false}, {"hot-large", tiermem.Hot, 1 << 20, false},
		{"warm-small", tiermem.Warm, 100, false}, {"warm-large", tiermem.Warm, 1 << 20, true},
		{"cold-small", tiermem.Cold, 100, false}, {"cold-large", tiermem.Cold, 3 << 20, true},
		{"glacier", tiermem.Glacier, 5000, false},
	} {
		want := seededNoise(c.size, byte(i+1))
		if c.raw {
			must(t, m.StoreFrom(c.name, bytes.NewReader(want), int64(len(want)), tiermem.InTier(c.tier)))
		} else {
			must(t, m.Store(c.name, want, tiermem.InTier(c.tier)))
		}
		v, err := m.UpdateHeaderOpen(c.name, expireIn(time.Hour))
		if err != nil || v == nil {
			t.Fatalf("%s: UpdateHeaderOpen = %v, %v", c.name, v, err)
		}
		must(t, m.Store(c.name, []byte("next"), tiermem.InTier(c.tier)))
		got := make([]byte, v.Size())
		v.ReadAt(got, 0)
		v.Close()
		if !bytes.Equal(got, want) || v.Tier() != c.tier {
			t.Errorf("%s: read %d bytes from %v, want the %d stored in %v (equal %v)", c.name, len(got), v.Tier(), len(want), c.tier, bytes.Equal(got, want))
		}
		must(t, m.Store(c.name, want, tiermem.InTier(c.tier)))
		v, err = m.UpdateHeaderOpen(c.name, expireIn(time.Hour))
		must(t, err)
		v.Close()
		if at, err := m.ExpireTime(c.name); err != nil || time.Until(at) < 50*time.Minute {
			t.Errorf("%s: expires %v, %v; want in an hour", c.name, at, err)
		}
		if tr := tierOf(t, m, c.name); tr != c.tier && c.tier != tiermem.Glacier {
			t.Errorf("%s: moved to %v", c.name, tr)
		}
	}
	if v, err := m.UpdateHeaderOpen("absent", expireIn(time.Hour)); v != nil || err != nil {
		t.Errorf("absent key: %v, %v; want nil, nil", v, err)
	}
	// A change that ends the key hands over the value it had.
	must(t, m.Store("ending", []byte("last words"), tiermem.InTier(tiermem.Cold)))
	v, err := m.UpdateHeaderOpen("ending", func(e *tiermem.Entry) (bool, error) { return false, nil })
	if err != nil || v == nil {
		t.Fatalf("a change that deletes: %v, %v", v, err)
	}
	got := make([]byte, v.Size())
	v.ReadAt(got, 0)
	if string(got) != "last words" {
		t.Errorf("a change that deletes handed over %q", got)
	}
	if _, err := m.Retrieve("ending"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("after a change that deletes: %v", err)
	}
}

// TestUpdateHeaderOpenOfALargeColdValue: a 64 MiB value stored raw in
// cold is opened where it lies, not read into memory whole; a flipped bit
// in it is ErrCorrupt.
func TestUpdateHeaderOpenOfALargeColdValue(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}})
	must(t, err)
	defer m.Close()
	want := seededNoise(64<<20, 9)
	must(t, m.StoreFrom("big", bytes.NewReader(want), int64(len(want)), tiermem.InTier(tiermem.Cold)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v, err := m.UpdateHeaderOpen("big", expireIn(time.Hour))
	runtime.ReadMemStats(&after)
	must(t, err)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("opening a 64 MiB cold value with its TTL change allocated %d MiB", grew>>20)
	}
	if !v.Streamed() {
		t.Errorf("the cold value is not read from its segment")
	}
	part := make([]byte, 1<<20)
	v.ReadAt(part, 32<<20)
	v.Close()
	if !bytes.Equal(part, want[32<<20:33<<20]) {
		t.Errorf("the middle of the value differs")
	}
	if flipInSegments(t, dir, want, 40<<20, 0x10) == 0 {
		t.Fatal("the value was not found in a segment")
	}
	if v, err := m.UpdateHeaderOpen("big", expireIn(2*time.Hour)); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Errorf("a flipped bit: %v, %v; want ErrCorrupt", v, err)
	}
}

// A GETEX: a session's value read as its TTL is renewed, in one step.
func ExampleManager_UpdateHeaderOpen() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("session:7", []byte("cart: 3 items"), tiermem.InTier(tiermem.Cold), tiermem.WithTTL(time.Minute))
	v, err := m.UpdateHeaderOpen("session:7", func(e *tiermem.Entry) (bool, error) {
		e.Expires = time.Now().Add(30 * time.Minute)
		return true, nil
	})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	b := make([]byte, v.Size())
	v.ReadAt(b, 0)
	at, _ := m.ExpireTime("session:7")
	fmt.Printf("%s, from %v; expires in %.0f minutes\n", b, v.Tier(), time.Until(at).Minutes())
	// Output: cart: 3 items, from cold; expires in 30 minutes
}

// TestUpdateHeaderViewLarge: values up to SmallValueMax, and large hot
// ones, go to view; a larger one in warm's own mapping or raw in cold
// comes back opened, view not called; each with its TTL changed.
func TestUpdateHeaderViewLarge(t *testing.T) {
	m := openRoomy(t)
	for i, c := range []struct {
		name   string
		tier   tiermem.Tier
		size   int
		opened bool
	}{
		{"hot-large", tiermem.Hot, 2 << 20, false}, {"warm-small", tiermem.Warm, 100, false},
		{"warm-1MiB", tiermem.Warm, tiermem.SmallValueMax, false}, {"warm-large", tiermem.Warm, 2 << 20, true},
		{"cold-small", tiermem.Cold, 100, false}, {"cold-large", tiermem.Cold, 3 << 20, true},
		{"glacier", tiermem.Glacier, 5000, false},
	} {
		want := seededNoise(c.size, byte(i+1))
		must(t, m.Store(c.name, want, tiermem.InTier(c.tier)))
		var viewed []byte
		v, err := m.UpdateHeaderViewLarge(c.name, expireIn(time.Hour), func(value []byte, _ bool) error {
			viewed = bytes.Clone(value)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := viewed
		if v != nil {
			got = make([]byte, v.Size())
			v.ReadAt(got, 0)
			v.Close()
		}
		if (v != nil) != c.opened || viewed != nil == c.opened || !bytes.Equal(got, want) {
			t.Errorf("%s: opened %v (want %v), viewed %v, %d bytes right %v", c.name, v != nil, c.opened, viewed != nil, len(got), bytes.Equal(got, want))
		}
		if at, err := m.ExpireTime(c.name); err != nil || at.IsZero() {
			t.Errorf("%s: TTL %v, %v", c.name, at, err)
		}
	}
	v, err := m.UpdateHeaderViewLarge("absent", expireIn(time.Hour), func([]byte, bool) error { t.Error("view of an absent key"); return nil })
	if v != nil || err != nil {
		t.Errorf("absent: %v, %v", v, err)
	}
}
