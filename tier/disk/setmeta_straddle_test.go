package disk_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier/disk"
)

// A source value whose end lies just before, at or after the 2 MiB
// boundary the write buffer flushes at (so part of it is in the file and
// part in the buffer), copied by SetMeta in the same segment; then Crash
// after a Sync, and reopen.
func TestCopiedSourceStraddlesTheFlushBoundary(t *testing.T) {
	for _, mode := range []disk.SyncMode{disk.SyncNone, disk.SyncAlways} {
		for _, delta := range []int64{-70000, -65536, -4097, -100, -1, 0, 1, 100, 4096, 65536, 70000} {
			t.Run(fmt.Sprint(mode, delta), func(t *testing.T) {
				dir := t.TempDir()
				o := &disk.Options{Sync: mode, Compression: disk.NoCompression, SegmentSize: 64 << 20}
				s, err := disk.Open(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				const n = 1<<20 + 12345
				hdr := int64(disk.RecordHeaderSize + len("big") + len("old"))
				// Filler so that big's value ends at 4 MiB + delta.
				end := int64(4<<20) + delta
				start := end - n - hdr
				fill := start - disk.SegmentHeaderSize - int64(disk.RecordHeaderSize+len("fill"))
				fv := randomBytes(int(fill), 1)
				if _, err := s.Put("fill", fv, nil); err != nil {
					t.Fatal(err)
				}
				val := randomBytes(n, 2)
				if _, err := s.Put("big", val, []byte("old")); err != nil {
					t.Fatal(err)
				}
				if loc, _ := s.Locate("big"); loc.ValueOff+loc.Stored != end {
					t.Fatalf("big ends at %d, want %d", loc.ValueOff+loc.Stored, end)
				}
				for i, m := range []string{"new", "a much longer meta than before", ""} {
					if _, err := s.SetMeta("big", []byte(m), 1<<20); err != nil {
						t.Fatalf("SetMeta %d: %v", i, err)
					}
					var got, meta []byte
					err := s.ViewMeta("big", func(v, mm []byte) error { got, meta = bytes.Clone(v), bytes.Clone(mm); return nil })
					if err != nil || !bytes.Equal(got, val) || string(meta) != m {
						t.Fatalf("SetMeta %d: %d bytes (equal %v), meta %q, %v", i, len(got), bytes.Equal(got, val), meta, err)
					}
				}
				if err := s.Sync(); err != nil {
					t.Fatal(err)
				}
				s.Crash()
				s, err = disk.Open(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				var got, meta []byte
				err = s.ViewMeta("big", func(v, mm []byte) error { got, meta = bytes.Clone(v), bytes.Clone(mm); return nil })
				if err != nil || !bytes.Equal(got, val) || len(meta) != 0 {
					t.Fatalf("after crash: %d bytes (equal %v), meta %q, %v", len(got), bytes.Equal(got, val), meta, err)
				}
				if g, err := s.Get("fill", nil); err != nil || !bytes.Equal(g, fv) {
					t.Fatalf("after crash: fill %d bytes, %v", len(g), err)
				}
				if st := s.Stats(); st.TruncatedBytes != 0 || st.Keys != 2 {
					t.Fatalf("after crash: %+v", st)
				}
			})
		}
	}
}
