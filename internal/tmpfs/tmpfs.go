// Package tmpfs gives tests a small file system of its own to fill up: a
// real full disk, for the tests of what a store does when writes and
// fsyncs fail with ENOSPC. Mounting needs root; elsewhere the tests skip,
// and fault-injecting file systems (internal/vfs) cover the same ground.
package tmpfs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size (as mount takes it: "4m") on a temporary
// directory for the test and returns the directory, unmounted when the
// test ends. It skips the test where it cannot mount.
func Mount(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root; the fault-injecting FS tests cover the same ground")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	return mnt
}

// Grow remounts the tmpfs at mnt with the larger size, making room on a
// full disk without touching its files.
func Grow(t testing.TB, mnt, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, mnt).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs at %s to %s: %v: %s", mnt, size, err, out)
	}
}

// Fill writes a file named filler in dir until the file system is full,
// and returns its path: removing it frees the space.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return name
		}
	}
}
