package tiermem_test

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

// TestOpenValueLendsLargeHotValues opens a 4 MiB hot value: the open
// allocates far less than the value (it reads the tier's memory, not a
// copy), and the reader keeps reading what it opened while the key is
// replaced by a value of the same size (which a small entry would take in
// place), Retrieve sees the new one, the key is deleted and the Manager
// closed.
func TestOpenValueLendsLargeHotValues(t *testing.T) {
	m := openUnclosed(t, t.TempDir(), 64<<20)
	want := seededNoise(4<<20, 7)
	if err := m.Store("k", want, tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	var v *tiermem.ValueReader
	var err error
	grew := allocatedBy(func() { v, err = m.OpenValue("k") })
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if grew > 64<<10 {
		t.Errorf("opening a 4 MiB hot value allocated %d bytes: it was copied", grew)
	}
	if v.Tier() != tiermem.Hot || v.Streamed() || v.Size() != int64(len(want)) {
		t.Fatalf("tier %v, streamed %v, size %d", v.Tier(), v.Streamed(), v.Size())
	}
	next := seededNoise(4<<20, 8)
	if err := m.Store("k", next, tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, next) {
		t.Fatalf("Retrieve after the replacement: %d bytes, %v", len(got), err)
	}
	if got, err := readValue(v); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the open value after its key was replaced: %d bytes, %v", len(got), err)
	}
	if err := m.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	if got, err := readValue(v); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after Delete and Close: %d bytes, %v", len(got), err)
	}
}

// TestOpenValueCopiesSmallHotValues opens a 1 KiB hot value, which the hot
// tier may write over in place when the key is replaced: the reader has a
// copy and still reads what it opened.
func TestOpenValueCopiesSmallHotValues(t *testing.T) {
	m := openUnclosed(t, t.TempDir(), 64<<20)
	defer m.Close()
	want := seededNoise(1<<10, 9)
	if err := m.Store("k", want, tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	v, err := m.OpenValue("k")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := m.Store("k", seededNoise(1<<10, 10), tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	if got, err := readValue(v); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after the key was written over: %d bytes, %v", len(got), err)
	}
}

// TestRetrieveSharedSharesOnlyLargeHotValues checks which values
// RetrieveShared returns without a copy: a large hot one (not appended to
// dst, allocating nothing, unchanged after the key is replaced and
// deleted), while a small hot one and large warm and cold ones are
// appended to dst.
func TestRetrieveSharedSharesOnlyLargeHotValues(t *testing.T) {
	m := openUnclosed(t, t.TempDir(), 64<<20)
	defer m.Close()
	values := map[string][]byte{"big": seededNoise(1<<20, 11), "small": seededNoise(100, 12),
		"warm": seededNoise(1<<20, 13), "cold": seededNoise(1<<20, 14)}
	tiers := map[string]tiermem.Tier{"big": tiermem.Hot, "small": tiermem.Hot, "warm": tiermem.Warm, "cold": tiermem.Cold}
	for key, v := range values {
		if err := m.Store(key, v, tiermem.InTier(tiers[key])); err != nil {
			t.Fatal(err)
		}
	}
	dst := make([]byte, 3, 4<<20)
	for key, want := range values {
		got, shared, err := m.RetrieveShared(dst, key)
		if err != nil {
			t.Fatal(err)
		}
		if wantShared := key == "big"; shared != wantShared {
			t.Errorf("%s: shared %v, want %v", key, shared, wantShared)
		}
		if !shared && (!bytes.Equal(got[:3], dst) || &got[0] != &dst[0]) {
			t.Errorf("%s: the copy was not appended to dst", key)
		}
		if shared {
			got = append(dst, got...) // compare as the others
		}
		if !bytes.Equal(got[3:], want) {
			t.Errorf("%s: wrong bytes", key)
		}
	}
	var kept []byte
	var shared bool
	var err error
	grew := allocatedBy(func() { kept, shared, err = m.RetrieveShared(nil, "big") })
	if err != nil || !shared {
		t.Fatalf("big: shared %v, %v", shared, err)
	}
	if grew > 64<<10 {
		t.Errorf("a shared 1 MiB value allocated %d bytes", grew)
	}
	if err := m.Store("big", seededNoise(1<<20, 15), tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("big"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept, values["big"]) {
		t.Fatal("a shared value changed after its key was replaced and deleted")
	}
	if _, _, err := m.RetrieveShared(dst, "big"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("deleted: %v, want ErrNotFound", err)
	}
}

// TestOpenValueReadsLargeWarmValuesWhereTheyLie opens a 4 MiB warm value:
// the open allocates far less than the value, and the reader reads what it
// opened after the key is replaced and deleted and the Manager closed.
func TestOpenValueReadsLargeWarmValuesWhereTheyLie(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := seededNoise(4<<20, 16)
	if err := m.Store("k", want, tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	var v *tiermem.ValueReader
	grew := allocatedBy(func() { v, err = m.OpenValue("k") })
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if grew > 64<<10 {
		t.Errorf("opening a 4 MiB warm value allocated %d bytes: it was copied", grew)
	}
	if v.Tier() != tiermem.Warm || v.Size() != int64(len(want)) {
		t.Fatalf("tier %v, size %d", v.Tier(), v.Size())
	}
	if err := m.Store("k", seededNoise(4<<20, 17), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := readValue(v); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after a replacement, Delete and Close: %d bytes, %v", len(got), err)
	}
	if v.Checksum() != xxh3.Hash(want) {
		t.Fatal("wrong checksum")
	}
	v.Close()
	if _, err := v.ReadAt(make([]byte, 1), 0); err == nil {
		t.Fatal("ReadAt after Close: no error")
	}
}

// TestStoreFromReadsIntoWarmMemory streams an 8 MiB value into the warm
// tier: the Go heap takes far less than the value (it is read into the
// mapping the tier keeps), and the value reads back whole.
func TestStoreFromReadsIntoWarmMemory(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := seededNoise(8<<20, 18)
	grew := allocatedBy(func() { err = m.StoreFrom("k", bytes.NewReader(want), int64(len(want)), tiermem.InTier(tiermem.Warm)) })
	if err != nil {
		t.Fatal(err)
	}
	if grew > 1<<20 {
		t.Errorf("streaming 8 MiB into warm allocated %d bytes: it was buffered", grew)
	}
	if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Retrieve: %d bytes, %v", len(got), err)
	}
	if tr, err := m.Tier("k"); err != nil || tr != tiermem.Warm {
		t.Fatalf("tier %v, %v", tr, err)
	}
}

// TestRetrieveArraySharedKeepsItsBytes reads a 256 KiB hot array shared
// and a warm one copied; the shared one allocates far less than its data
// and keeps its bytes and shape after the key is replaced and deleted.
func TestRetrieveArraySharedKeepsItsBytes(t *testing.T) {
	m := openUnclosed(t, t.TempDir(), 64<<20)
	defer m.Close()
	xs := make([]float64, 32<<10)
	for i := range xs {
		xs[i] = float64(i)
	}
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		if err := m.StoreArray("a", tiermem.Float64Array(xs, 128, 256), tiermem.InTier(tier)); err != nil {
			t.Fatal(err)
		}
		var a tiermem.Array
		var shared bool
		var err error
		grew := allocatedBy(func() { a, shared, err = m.RetrieveArrayShared("a") })
		if err != nil || shared != (tier == tiermem.Hot) {
			t.Fatalf("%v: shared %v, %v", tier, shared, err)
		}
		if shared && grew > 64<<10 {
			t.Errorf("a shared 256 KiB array allocated %d bytes", grew)
		}
		if err := m.StoreArray("a", tiermem.Float64Array(make([]float64, 32<<10), 256, 128), tiermem.InTier(tier)); err != nil {
			t.Fatal(err)
		}
		must(t, m.Delete("a"))
		got, err := a.Float64s()
		if err != nil || len(got) != len(xs) || got[len(xs)-1] != float64(len(xs)-1) || a.Shape[0] != 128 || a.Shape[1] != 256 {
			t.Fatalf("%v: the array read changed after its key was replaced: %v, %v", tier, a, err)
		}
	}
	if err := m.Store("v", []byte("not an array")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.RetrieveArrayShared("v"); !errors.Is(err, tiermem.ErrType) {
		t.Fatalf("a plain value: %v, want ErrType", err)
	}
}

// TestViewArrayOfALargeHotArrayIsNotCopied views a 1 MiB float64 array in
// the hot tier under a 1-byte key: its data is aligned where the tier
// holds it, so the view allocates far less than the array.
func TestViewArrayOfALargeHotArrayIsNotCopied(t *testing.T) {
	m := openUnclosed(t, t.TempDir(), 64<<20)
	defer m.Close()
	must(t, m.StoreArray("a", tiermem.Float64Array(make([]float64, 128<<10)), tiermem.InTier(tiermem.Hot)))
	var err error
	grew := allocatedBy(func() {
		err = m.ViewArray("a", func(a tiermem.Array) error {
			xs, err := a.Float64s()
			if len(xs) != 128<<10 {
				t.Errorf("%d elements", len(xs))
			}
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if grew > 64<<10 {
		t.Errorf("viewing a 1 MiB hot array allocated %d bytes: its data was copied to align it", grew)
	}
}

// allocatedBy returns the bytes of Go memory allocated while fn ran.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
