package trace_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tiermem/tiermem/internal/trace"
)

func TestNamedTraces(t *testing.T) {
	for _, name := range []string{"OLTP", "P3", "gli", "loop", "scarab", "Mixed"} {
		if parts, ok := trace.Named("d", name); !ok || len(parts) == 0 {
			t.Errorf("Named(%q) = %v, %v", name, parts, ok)
		}
	}
	if parts, ok := trace.Named("d", "mixed"); ok {
		t.Errorf("Named(mixed) = %v: names are exact", parts)
	}
	if m, _ := trace.Named("d", "Mixed"); len(m) != 3 || m[0] != m[2] || m[1].Format != trace.LIRS {
		t.Errorf("Mixed is %v, want corda, loop, corda", m)
	}
}

// TestReadKeysInOrder reads parts one after the other, a repeated part
// again in its place, and fails on a missing file with fs.ErrNotExist.
func TestReadKeysInOrder(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(a, []byte("1\n2\n"), 0o644))
	must(os.WriteFile(b, []byte("3\n"), 0o644))
	pa, pb := trace.Part{Path: a, Format: trace.LIRS}, trace.Part{Path: b, Format: trace.LIRS}
	keys, err := trace.ReadKeys([]trace.Part{pa, pb, pa})
	must(err)
	if want := []uint64{1, 2, 3, 1, 2}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if _, err := trace.ReadKeys([]trace.Part{pa, {Path: filepath.Join(dir, "none"), Format: trace.LIRS}}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing part: %v, want fs.ErrNotExist", err)
	}
}
