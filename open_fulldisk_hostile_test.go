package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
)

// TestHostileOpenOnAFullDisk: a Manager whose data directory's disk filled
// up opens again and serves every value it acknowledged; Stores into cold
// fail with ErrNoSpace while the disk stays full and work once room comes
// back, and a reopen finds them all. (The cold tier's part, a last
// segment with no room left, which made Open fail, is tier/disk's
// TestHostileOpenOnAFullDisk.)
func TestHostileOpenOnAFullDisk(t *testing.T) {
	mnt := tmpfs.Mount(t, "4m")
	dir := filepath.Join(mnt, "data")
	o := &tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always, Glacier: tiermem.GlacierOptions{Disabled: true},
		Cold: tiermem.TierOptions{Size: 64 << 20}}
	m, err := tiermem.Open(dir, o)
	must(t, err)
	values := map[string][]byte{}
	for i := range 40 {
		key := fmt.Sprint("k", i)
		values[key] = bytes.Repeat([]byte{byte(i)}, 20<<10)
		must(t, m.Store(key, values[key], tiermem.InTier(tiermem.Cold)))
	}
	must(t, m.Close())
	filler := tmpfs.Fill(t, mnt)

	m, err = tiermem.Open(dir, o)
	if err != nil {
		t.Fatalf("Open on a full disk: %v", err)
	}
	defer func() { m.Close() }()
	for key, want := range values {
		got, err := m.Retrieve(key)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Retrieve(%q) on a full disk: %d bytes, %v", key, len(got), err)
		}
	}
	big := make([]byte, 256<<10)
	rand.NewChaCha8([32]byte{1}).Read(big) // random: no compression shrinks it to nothing
	if err := m.Store("new", big, tiermem.InTier(tiermem.Cold)); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Store into cold on a full disk = %v, want ErrNoSpace", err)
	}
	must(t, os.Remove(filler))
	must(t, m.Store("new", big, tiermem.InTier(tiermem.Cold)))
	must(t, m.Close())
	m, err = tiermem.Open(dir, o)
	must(t, err)
	values["new"] = big
	for key, want := range values {
		if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Retrieve(%q) after room came back and a reopen: %d bytes, %v", key, len(got), err)
		}
	}
}
