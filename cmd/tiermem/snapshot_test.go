package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
)

// managerDir returns a Manager directory holding two keys, closed.
func managerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Store("greeting", []byte("hello"), tiermem.Pinned()); err != nil {
		t.Fatal(err)
	}
	if err := m.StoreArray("matrix", tiermem.Float64Array([]float64{1, 2, 3, 4}, 2, 2)); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSnapshotCommands runs create, info, get, verify and restore on a
// directory, with progress bars drawn.
func TestSnapshotCommands(t *testing.T) {
	defer drawAtOnce()()
	dir := managerDir(t)
	file := filepath.Join(t.TempDir(), "app.snapshot")
	var out, errOut bytes.Buffer
	if err := runSnapshotCreate(&out, &errOut, snapshotFlags{dir: dir, file: file, memory: "16MiB", progress: "always"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 keys") || !strings.Contains(out.String(), "cold 2") {
		t.Errorf("create printed %q", out.String())
	}
	if !strings.Contains(errOut.String(), "copying") {
		t.Errorf("create drew no copying bar: %q", errOut.String())
	}

	out.Reset()
	if err := runSnapshotInfo(&out, file); err != nil || !strings.Contains(out.String(), "2, ") {
		t.Errorf("info: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runBundleInfo(&out, file, true); err != nil || !strings.Contains(out.String(), "ok:") {
		t.Errorf("bundle info on a snapshot: %v\n%s", err, out.String())
	}
	out.Reset()
	errOut.Reset()
	if err := runSnapshotGet(&out, &errOut, file, "greeting"); err != nil || out.String() != "hello" || !strings.Contains(errOut.String(), "pinned") {
		t.Errorf("get: %v, %q, %q", err, out.String(), errOut.String())
	}
	if err := runSnapshotGet(&out, &errOut, file, "absent"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("get absent: %v", err)
	}
	out.Reset()
	if err := runSnapshotVerify(&out, file); err != nil || !strings.Contains(out.String(), "ok") {
		t.Errorf("verify: %v, %q", err, out.String())
	}

	target := t.TempDir()
	out.Reset()
	errOut.Reset()
	if err := runSnapshotRestore(&out, &errOut, snapshotFlags{dir: target, file: file, mode: "replace", progress: "always"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "restored 2 keys") {
		t.Errorf("restore printed %q", out.String())
	}
	m, err := tiermem.Open(target, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if v, err := m.Retrieve("greeting"); err != nil || string(v) != "hello" {
		t.Errorf("greeting after restore: %q, %v", v, err)
	}
	if a, err := m.RetrieveArray("matrix"); err != nil || a.Shape[1] != 2 {
		t.Errorf("matrix after restore: %v, %v", a, err)
	}
}

// TestSnapshotCommandsRefuseDamage: verify and restore refuse a damaged
// file, and restore leaves the directory as it was.
func TestSnapshotCommandsRefuseDamage(t *testing.T) {
	dir := managerDir(t)
	file := filepath.Join(t.TempDir(), "app.snapshot")
	var out bytes.Buffer
	if err := runSnapshotCreate(&out, &out, snapshotFlags{dir: dir, file: file, memory: "16MiB", progress: "never"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runSnapshotVerify(&out, file); !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
		t.Errorf("verify of a damaged file: %v", err)
	}
	target := managerDir(t)
	err = runSnapshotRestore(&out, &out, snapshotFlags{dir: target, file: file, mode: "replace", progress: "never"})
	if !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
		t.Fatalf("restore of a damaged file: %v", err)
	}
	m, err := tiermem.Open(target, &tiermem.Options{MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if v, err := m.Retrieve("greeting"); err != nil || string(v) != "hello" {
		t.Errorf("greeting after a refused restore: %q, %v", v, err)
	}
	if err := runSnapshotRestore(&out, &out, snapshotFlags{dir: target, file: file, mode: "sideways", progress: "never"}); !errors.Is(err, tiermem.ErrOptions) {
		t.Errorf("--mode sideways: %v", err)
	}
}
