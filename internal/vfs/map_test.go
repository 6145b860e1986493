//go:build unix

package vfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem/internal/vfs"
)

func TestMap(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	f, err := vfs.Default.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	m, err := vfs.Map(f, 1<<20) // past the end: filled in as the file grows
	if err != nil {
		t.Fatal(err)
	}
	defer vfs.Unmap(m)
	if _, err := f.WriteAt([]byte("world"), 8192); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		off  int
		want string
	}{{0, "hello"}, {8192, "world"}} {
		if got, err := vfs.AppendMapped([]byte("<"), m[c.off:c.off+5]); err != nil || string(got) != "<"+c.want {
			t.Fatalf("AppendMapped at %d = %q, %v; want %q", c.off, got, err, "<"+c.want)
		}
	}
	if err := os.Truncate(name, 4096); err != nil {
		t.Fatal(err)
	}
	if got, err := vfs.AppendMapped([]byte("<"), m[8192:8197]); !errors.Is(err, vfs.ErrMappingFault) || string(got) != "<" {
		t.Fatalf("AppendMapped past the end of the cut file = %q, %v; want %q, ErrMappingFault", got, err, "<")
	}
	if got, err := vfs.AppendMapped(nil, m[:5]); err != nil || string(got) != "hello" {
		t.Fatalf("AppendMapped before the cut = %q, %v", got, err)
	}
}

func TestMapNeedsAnOSFile(t *testing.T) {
	fs := vfs.NewFault(vfs.Default)
	f, err := fs.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := vfs.Map(f, 4096); !errors.Is(err, vfs.ErrNotMappable) {
		t.Fatalf("Map of a Fault file = %v, want ErrNotMappable", err)
	}
}
