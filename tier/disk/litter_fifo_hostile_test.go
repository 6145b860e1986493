//go:build linux

package disk_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/disk"
)

// TestHostileFifoNamedLikeAHint: a FIFO with a hint file's name (an
// orphan's, or that of a live segment's hint) is litter: Open must not
// open it (opening a FIFO for reading blocks until a writer comes), but
// finish, scan the segment whose hint it stands for, and read every key.
// Repair must ignore it too.
func TestHostileFifoNamedLikeAHint(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(map[bool]string{false: "orphan", true: "live segment's"}[live], func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, hostileOpts)
			keys := fill(t, s, 10)
			id := locate(t, s, keys[0]).SegmentID
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if !live {
				id = 77
			}
			fifo := disk.HintFile(dir, id)
			os.Remove(fifo)
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			checkOpensAround(t, dir, fifo, keys)
		})
	}
}

// TestHostileNotRegularNamedLikeASegment: a FIFO or a directory with a
// segment file's name is litter, which Open and Repair leave alone.
func TestHostileNotRegularNamedLikeASegment(t *testing.T) {
	for _, kind := range []string{"fifo", "directory"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, hostileOpts)
			keys := fill(t, s, 10)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			name := disk.SegmentFile(dir, 0xab)
			var err error
			if kind == "fifo" {
				err = syscall.Mkfifo(name, 0o644)
			} else {
				err = os.Mkdir(name, 0o755)
			}
			if err != nil {
				t.Skipf("making a %s: %v", kind, err)
			}
			checkOpensAround(t, dir, name, keys)
		})
	}
}

// checkOpensAround runs Repair and then Open on dir, which holds litter
// that is not a regular file: each must return within 3 s, without
// error, Repair finding nothing, and the store must read every key.
func checkOpensAround(t *testing.T, dir, litter string, keys []string) {
	t.Helper()
	type opened struct {
		s   *disk.Store
		rep disk.RepairReport
		err error
	}
	done := make(chan opened, 1)
	go func() {
		rep, err := disk.Repair(dir, nil)
		if err != nil || !rep.Clean() {
			done <- opened{rep: rep, err: err}
			return
		}
		s, err := disk.Open(dir, hostileOpts)
		done <- opened{s: s, rep: rep, err: err}
	}()
	var o opened
	select {
	case o = <-done:
	case <-time.After(3 * time.Second):
		// Unblock an open of a FIFO so that the goroutine ends, then report.
		if fd, err := syscall.Open(litter, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
		if o = <-done; o.s != nil {
			o.s.Close()
		}
		t.Fatalf("Repair and Open with %s in the directory did not return in 3 s", filepath.Base(litter))
	}
	if o.err != nil || !o.rep.Clean() {
		t.Fatalf("with %s in the directory: %v (Repair found %+v)", filepath.Base(litter), o.err, o.rep.Damage)
	}
	defer o.s.Close()
	checkAll(t, o.s, keys)
	if _, err := os.Lstat(litter); err != nil {
		t.Errorf("the litter was not left alone: %v", err)
	}
}
