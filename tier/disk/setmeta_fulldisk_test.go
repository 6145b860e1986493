package disk_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// A copied SetMeta (a value over 1 MiB) on a real disk that fills (an
// 8 MiB tmpfs, root only), with 10 KiB to 1.2 MiB left, the disk filling
// during the buffer's flush, the copy, or the rotation into a new segment:
// it fails with ErrNoSpace, and every acknowledged write, the buffered ones
// included, stays readable, and durable once space returns.
func TestSetMetaCopiedOnAFullDisk(t *testing.T) {
	root := tmpfs.Mount(t, "8m")
	for _, mode := range []disk.SyncMode{disk.SyncNone, disk.SyncAlways} {
		for _, free := range []int64{10 << 10, 300 << 10, 700 << 10, 1200 << 10} {
			for _, segSize := range []int64{2 << 20, 16 << 20} {
				t.Run(fmt.Sprint(mode, "-", free, "-", segSize), func(t *testing.T) {
					dir, err := os.MkdirTemp(root, "s")
					if err != nil {
						t.Fatal(err)
					}
					defer os.RemoveAll(dir)
					o := &disk.Options{Sync: mode, Compression: disk.NoCompression, SegmentSize: segSize}
					s, err := disk.Open(dir, o)
					if err != nil {
						t.Fatal(err)
					}
					model := map[string]*modelKV{}
					put := func(k string, v, m []byte) error {
						size, err := s.Put(k, v, m)
						if err == nil {
							model[k] = &modelKV{v, m, size}
						}
						return err
					}
					big := randomBytes(1<<20+300<<10, 5)
					if err := put("big", big, []byte("old")); err != nil {
						t.Fatal(err)
					}
					for i := 0; i < 20; i++ {
						if err := put(fmt.Sprint("s", i), randomBytes(1500, uint64(i)), []byte("x")); err != nil {
							t.Fatal(err)
						}
					}
					// Fill the disk to leave about free bytes.
					filler := filepath.Join(root, "filler-"+filepath.Base(dir))
					avail := statfsAvail(t, root)
					if avail > free {
						if err := os.WriteFile(filler, make([]byte, avail-free), 0o644); err != nil && !errors.Is(err, os.ErrExist) {
							t.Logf("filler: %v", err)
						}
					}
					defer os.Remove(filler)
					_, err = s.SetMeta("big", []byte("new meta"), 1<<20)
					switch {
					case err == nil:
						model["big"].meta = []byte("new meta")
						model["big"].size = int64(disk.RecordHeaderSize + len("big") + len("new meta") + len(big))
					case errors.Is(err, tier.ErrNoSpace):
						t.Logf("SetMeta: %v", err)
					default:
						t.Fatalf("SetMeta on a full disk: %v, want ErrNoSpace", err)
					}
					checkAllKV(t, s, model, "after SetMeta")
					// A later small Put: buffered or refused, never damaging.
					if err := put("after", []byte("after"), nil); err != nil && !errors.Is(err, tier.ErrNoSpace) {
						t.Fatalf("Put after: %v", err)
					}
					checkAllKV(t, s, model, "after a later Put")
					os.Remove(filler)
					// With room again, SetMeta works.
					if _, err := s.SetMeta("big", []byte("third"), 1<<20); err != nil {
						t.Fatalf("SetMeta with room again: %v", err)
					}
					model["big"].meta = []byte("third")
					model["big"].size = int64(disk.RecordHeaderSize + len("big") + len("third") + len(big))
					checkAllKV(t, s, model, "with room again")
					if err := s.Close(); err != nil {
						t.Fatalf("Close: %v", err)
					}
					s, err = disk.Open(dir, o)
					if err != nil {
						t.Fatal(err)
					}
					defer s.Close()
					checkAllKV(t, s, model, "reopened")
					if st := s.Stats(); st.TruncatedBytes != 0 {
						t.Errorf("reopened: %d bytes truncated", st.TruncatedBytes)
					}
				})
			}
		}
	}
}

// statfsAvail returns the bytes free for an unprivileged writer on dir's
// file system.
func statfsAvail(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
