package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
)

// TestFailedCloseHalfwayTakesBackOnlyItsCopies fills the disk while Close
// writes hundreds of memory values to cold: Close fails with ErrNoSpace,
// the copies it wrote are taken back, a copy the cold tier held before
// (Copy) stays, every value reads back, and once space returns Close
// succeeds and the next Open finds every value.
func TestFailedCloseHalfwayTakesBackOnlyItsCopies(t *testing.T) {
	o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}
	dir := t.TempDir()
	m, fault := openOnFault(t, dir, o)
	var keys []string
	for i := range 2000 {
		tr := tiermem.Warm
		if i%10 == 0 {
			tr = tiermem.Hot
		}
		key := fmt.Sprintf("k%04d", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tr)))
		keys = append(keys, key)
	}
	for _, key := range keys[:20] { // hot and warm keys with a copy in cold
		must(t, m.Copy(key, tiermem.Cold))
	}
	for i := range 10 {
		key := fmt.Sprintf("cold%d", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tiermem.Cold)))
		keys = append(keys, key)
	}
	coldBefore := m.Usage()[tiermem.Cold].Items
	if coldBefore != 30 {
		t.Fatalf("the cold tier holds %d keys before Close, want 30", coldBefore)
	}
	fault.SetSpace(256 << 10) // a few hundred of the 2000 values
	if err := m.Close(); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Close on a disk that fills = %v, want ErrNoSpace", err)
	}
	checkKeys(t, m, keys)
	// The copies Close wrote are taken back where their tombstones found
	// room (on a full disk, none may: those stay, with the same values);
	// the copies cold held before stay in any case.
	if got := m.Usage()[tiermem.Cold].Items; got < coldBefore {
		t.Errorf("after the failed Close the cold tier holds %d keys, fewer than the %d it held", got, coldBefore)
	} else {
		t.Logf("after the failed Close the cold tier holds %d keys (%d before)", got, coldBefore)
	}
	for _, key := range keys[:20] {
		if tr, err := m.Tier(key); err != nil || tr == tiermem.Cold {
			t.Fatalf("%q is in %v (%v) after the failed Close, want a memory tier", key, tr, err)
		}
		if !tiermem.HeldIn(m, tiermem.Cold, key) {
			t.Fatalf("the cold tier lost the copy of %q it held before the failed Close", key)
		}
	}
	fault.SetSpace(-1)
	must(t, m.Close())
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	checkKeys(t, m, keys)
	if n, err := m.Len(); err != nil || n != int64(len(keys)) {
		t.Errorf("after reopening: %d keys (%v), want %d", n, err, len(keys))
	}
}

// TestFailedCloseHalfwayOnARealFullDisk is the same on a real file system:
// a 4 MiB tmpfs (root only) under 8 MiB of memory values, so that Close
// fills it halfway through. Close fails with ErrNoSpace and every value
// reads back (copies Close could not take back, since a tombstone needs
// room too, stay in cold with the same values); once the tmpfs grows,
// Close succeeds and the next Open finds every value.
func TestFailedCloseHalfwayOnARealFullDisk(t *testing.T) {
	mnt := tmpfs.Mount(t, "4m")
	dir := filepath.Join(mnt, "data")
	o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 4 << 20},
		Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	var keys []string
	for i := range 400 { // about 8 MiB of random bytes: nothing compresses them into 4 MiB
		key := fmt.Sprintf("k%03d", i)
		v := make([]byte, 20<<10)
		rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)}).Read(v)
		must(t, m.Store(key, v, tiermem.InTier(tiermem.Tier(i%2))))
		keys = append(keys, key)
	}
	coldBefore := m.Usage()[tiermem.Cold].Items
	if err := m.Close(); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Close of 8 MiB onto a 4 MiB disk = %v, want ErrNoSpace", err)
	}
	check := func(m *tiermem.Manager) {
		t.Helper()
		for i, key := range keys {
			v := make([]byte, 20<<10)
			rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)}).Read(v)
			if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, v) {
				t.Fatalf("%s: %d bytes, %v", key, len(got), err)
			}
		}
	}
	check(m)
	t.Logf("after the failed Close the cold tier holds %d keys (%d before): the copies whose tombstones found no room stay, with the same values",
		m.Usage()[tiermem.Cold].Items, coldBefore)
	tmpfs.Grow(t, mnt, "64m")
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	check(m)
}

// TestCloseKeepsAValueCorruptInMemoryCorrupt: a warm value that fails its
// check at Close (a compressed value that no longer decodes) does not stop
// Close. Every other value is written, and after reopening the broken key
// is ErrCorrupt, not lost without a word. Without the warm store's scan
// (the key-by-key path) the same holds.
func TestCloseKeepsAValueCorruptInMemoryCorrupt(t *testing.T) {
	for _, scan := range []bool{true, false} {
		t.Run(fmt.Sprint("scan=", scan), func(t *testing.T) { closeWithValueBrokenInMemory(t, scan) })
	}
}

func closeWithValueBrokenInMemory(t *testing.T, scan bool) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &brokenOptions)
	must(t, err)
	var keys []string
	for i := range 200 {
		key := fmt.Sprintf("k%04d", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tiermem.Warm)))
		if key != "k0042" {
			keys = append(keys, key)
		}
	}
	tiermem.BreakInWarm(m, "k0042", scan)
	if _, err := m.Retrieve("k0042"); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("Retrieve of the broken value before Close = %v, want ErrCorrupt", err)
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, &brokenOptions)
	must(t, err)
	defer func() { must(t, m.Close()) }()
	checkKeys(t, m, keys)
	_, err = m.Retrieve("k0042")
	if !errors.Is(err, tiermem.ErrCorrupt) || !strings.Contains(err.Error(), "corrupt in memory") {
		t.Fatalf("after reopening, Retrieve of the value broken in memory = %v, want ErrCorrupt saying so", err)
	}
}

var brokenOptions = tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
	Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}

// TestCloseKeepsTheGoodCopyOfAValueCorruptInMemory: when the warm value is
// broken but another tier holds a copy of it (Copy), Close keeps that copy
// (the hot one written to cold, the cold one left as it is) and the next
// Open reads the value, instead of the mark of a corrupt one.
func TestCloseKeepsTheGoodCopyOfAValueCorruptInMemory(t *testing.T) {
	for _, other := range []tiermem.Tier{tiermem.Hot, tiermem.Cold} {
		t.Run(fmt.Sprint("copy in ", other), func(t *testing.T) {
			dir := t.TempDir()
			m, err := tiermem.Open(dir, &brokenOptions)
			must(t, err)
			must(t, m.Store("k", valueFor("k"), tiermem.InTier(tiermem.Warm)))
			must(t, m.Copy("k", other))
			tiermem.BreakInWarm(m, "k", true)
			must(t, m.Close())
			m, err = tiermem.Open(dir, &brokenOptions)
			must(t, err)
			defer func() { must(t, m.Close()) }()
			checkKeys(t, m, []string{"k"})
		})
	}
}

// TestCloseLetsGoAnExpiredValueCorruptInMemory: a broken value whose TTL
// has run out reads as absent after the next Open, not as corrupt.
func TestCloseLetsGoAnExpiredValueCorruptInMemory(t *testing.T) {
	clock := tiermem.NewFakeClock()
	dir := t.TempDir()
	o := brokenOptions
	tiermem.SetClock(&o, clock)
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	must(t, m.Store("ttl", valueFor("ttl"), tiermem.InTier(tiermem.Warm), tiermem.WithTTL(time.Hour)))
	tiermem.BreakInWarm(m, "ttl", true)
	clock.Advance(2 * time.Hour)
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer func() { must(t, m.Close()) }()
	if _, err := m.Retrieve("ttl"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Retrieve of a key whose TTL ran out = %v, want ErrNotFound", err)
	}
	if n, _ := m.Len(); n != 0 {
		t.Errorf("Len = %d after the only key's TTL ran out, want 0", n)
	}
}

// TestFailedCloseTakesBackAKeyBothMemoryTiersHold: Close writes a key that
// hot and warm both hold (Copy) from each; the second write replaces the
// first, which is no copy the cold tier held before: a failed Close takes
// it back like any other, and keeps the copy cold did hold.
func TestFailedCloseTakesBackAKeyBothMemoryTiersHold(t *testing.T) {
	m, fault := openOnFault(t, t.TempDir(), brokenOptions)
	must(t, m.Store("both", valueFor("both"), tiermem.InTier(tiermem.Hot)))
	must(t, m.Copy("both", tiermem.Warm))
	must(t, m.Store("warm", valueFor("warm"), tiermem.InTier(tiermem.Warm)))
	must(t, m.Store("copied", valueFor("copied"), tiermem.InTier(tiermem.Warm)))
	must(t, m.Copy("copied", tiermem.Cold))
	fault.FailSyncs(syscall.ENOSPC) // every value written, then the cold tier's sync fails
	if err := m.Close(); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Close = %v, want ErrNoSpace", err)
	}
	fault.FailSyncs(nil)
	if got := m.Usage()[tiermem.Cold].Items; got != 1 || !tiermem.HeldIn(m, tiermem.Cold, "copied") {
		t.Errorf("after the failed Close the cold tier holds %d keys, want the 1 it held", got)
	}
	checkKeys(t, m, []string{"both", "warm", "copied"})
	must(t, m.Close())
}
