package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// corruptColdStore makes DIR/cold a cold store whose newest record of "k"
// has a damaged value and whose delete of "gone" has a damaged header, and
// returns DIR.
func corruptColdStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cold := filepath.Join(dir, "cold")
	s, err := disk.Open(cold, &disk.Options{Compression: disk.NoCompression})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"k", "old value"}, {"gone", "deleted"}, {"k", "new value"}} {
		if _, err := s.Put(kv[0], []byte(kv[1]), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("keep", []byte("kept"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	hints, _ := filepath.Glob(filepath.Join(cold, "*.hint"))
	for _, h := range hints {
		os.Remove(h)
	}
	segs, _ := filepath.Glob(filepath.Join(cold, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	b[bytes.LastIndex(b, []byte("new value"))] ^= 0x10
	tomb := bytes.LastIndex(b, []byte("gone")) - 48 // the delete: a 48-byte header, then the key
	b[tomb+9] ^= 0xff                               // its key length: beyond one bit's correction
	if err := os.WriteFile(segs[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRepairCommand(t *testing.T) {
	dir := corruptColdStore(t)
	cold := filepath.Join(dir, "cold")
	if _, err := disk.Open(cold, nil); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Open before repair = %v", err)
	}
	out := mustRun(t, "repair", "--dry-run", dir)
	for _, want := range []string{"dry run", "damaged: ", `"k"`, "lost keys", "WARNING", "bytes dropped"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if _, err := disk.Open(cold, nil); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("the dry run changed the store: Open = %v", err)
	}
	out = mustRun(t, "repair", cold) // the cold directory itself works too
	t.Logf("tiermem repair %s:\n%s", cold, out)
	if !strings.Contains(out, "rewritten: ") {
		t.Errorf("repair output:\n%s", out)
	}
	s, err := disk.Open(cold, nil)
	if err != nil {
		t.Fatalf("Open after repair: %v", err)
	}
	defer s.Close()
	if _, err := s.Get("k", nil); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("the damaged key reads %v, want not found", err)
	}
	if v, err := s.Get("keep", nil); err != nil || string(v) != "kept" {
		t.Errorf("an intact key reads %q, %v", v, err)
	}
}

func TestRepairCommandRefusesAnOpenStore(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(filepath.Join(dir, "cold"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := run(t, "repair", dir)
	if !errors.Is(err, disk.ErrLocked) {
		t.Fatalf("repair of an open store = %v\n%s", err, out)
	}
}

func TestRepairCommandCleanStore(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Put("a", []byte("b"), nil)
	s.Close()
	if out := mustRun(t, "repair", dir); !strings.Contains(out, "no damage found") {
		t.Errorf("output:\n%s", out)
	}
}
