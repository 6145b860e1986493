package tiermem_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestSnapshotHostileEdgeKeysAndValues: the longest key a Manager takes (65535
// bytes), keys of any bytes, an empty value and an empty array come back
// from a snapshot as stored, also through the pre-images of writers that
// change them while it runs.
func TestSnapshotHostileEdgeKeysAndValues(t *testing.T) {
	long := strings.Repeat("L", 1<<16-1)
	bin := "\x00\xff\n\r key"
	for _, changed := range []bool{false, true} {
		m := open(t, nil)
		must(t, m.Store(long, []byte("long"), tiermem.InTier(tiermem.Cold)))
		must(t, m.Store(bin, []byte("bin"), tiermem.InTier(tiermem.Warm)))
		must(t, m.Store("empty", nil, tiermem.InTier(tiermem.Hot)))
		must(t, m.StoreArray("empty-array", tiermem.Float32Array(nil, 0, 4), tiermem.InTier(tiermem.Warm)))
		must(t, m.StoreArray("bools", tiermem.NewArray([]bool{true, false, true}), tiermem.InTier(tiermem.Cold)))
		if changed {
			tiermem.AfterSnapshotInstant(func() {
				for _, k := range []string{long, bin, "empty", "empty-array", "bools"} {
					must(t, m.Store(k, []byte("changed after the instant")))
				}
			})
		}
		path := filepath.Join(t.TempDir(), "s")
		info, err := m.Snapshot(path, nil)
		tiermem.AfterSnapshotInstant(nil)
		must(t, err)
		if changed && info.PreImages != 5 {
			t.Errorf("PreImages = %d; want 5", info.PreImages)
		}
		o := open(t, nil)
		_, err = o.Restore(path, nil)
		must(t, err)
		for k, want := range map[string]string{long: "long", bin: "bin", "empty": ""} {
			if v, err := o.Retrieve(k); err != nil || string(v) != want {
				t.Errorf("changed=%v: key of %d bytes = %q, %v; want %q", changed, len(k), v, err, want)
			}
		}
		if a, err := o.RetrieveArray("empty-array"); err != nil || !slices.Equal(a.Shape, []int{0, 4}) || a.DType != tiermem.Float32 {
			t.Errorf("changed=%v: empty-array = %v, %v", changed, a, err)
		}
		if a, err := o.RetrieveArray("bools"); err != nil || !bytes.Equal(a.Data, []byte{1, 0, 1}) || a.DType != tiermem.Bool {
			t.Errorf("changed=%v: bools = %v %v, %v", changed, a, a.Data, err)
		}
	}
}
