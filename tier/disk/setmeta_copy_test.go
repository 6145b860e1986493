package disk_test

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// The conformance suite again, with every SetMeta copying its value from
// segment to segment under the log's lock (the path of values over 1 MiB):
// values of every size, meta longer and shorter, racing Puts and Deletes,
// Close, and reopening.
func TestConformanceSetMetaCopied(t *testing.T) {
	defer disk.SetCopyBuffered(0)()
	testConformance(t, &disk.Options{Compression: disk.NoCompression, SegmentSize: 1 << 20})
}

// A TTL on a value of 64 MiB must not cost 64 MiB of memory: SetMeta copies
// it from segment to segment through one buffer (it read it whole before).
func TestSetMetaOfALargeValueIsNotHeldInMemory(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(dir, &disk.Options{Sync: disk.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	val := randomBytes(64<<20, 7)
	st, err := s.Stage(bytes.NewReader(val), int64(len(val)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutStaged("big", st, []byte("old")); err != nil {
		t.Fatal(err)
	}
	st.Discard()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	charged, err := s.SetMeta("big", []byte("a longer meta"), 1<<20)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("SetMeta of a 64 MiB value allocated %d MiB; want its one 1 MiB buffer, not the value", got>>20)
	}
	if want := int64(disk.RecordHeaderSize + len("big") + len("a longer meta") + len(val)); charged != want {
		t.Errorf("SetMeta charged %d bytes, want %d", charged, want)
	}
	check := func(s *disk.Store, when string) {
		t.Helper()
		var got []byte
		var meta []byte
		err := s.ViewMeta("big", func(v, m []byte) error {
			got, meta = bytes.Clone(v), bytes.Clone(m)
			return nil
		})
		if err != nil || !bytes.Equal(got, val) || string(meta) != "a longer meta" {
			t.Fatalf("%s: %d bytes (equal %v), meta %q, %v", when, len(got), bytes.Equal(got, val), meta, err)
		}
	}
	check(s, "after SetMeta")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = disk.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s, "reopened")
}

// A value whose tail still waits in the write buffer (SyncNone, written
// just before) is copied whole: SetMeta flushes the buffer before it reads
// from the file.
func TestSetMetaCopiesAValueStillBuffered(t *testing.T) {
	defer disk.SetCopyBuffered(0)()
	for _, n := range []int{0, 1, 100, 64<<10 + 3, 3<<20 + 37} {
		s, err := disk.Open(t.TempDir(), &disk.Options{Sync: disk.SyncNone, Compression: disk.NoCompression})
		if err != nil {
			t.Fatal(err)
		}
		val := randomBytes(n, 7)
		for i, m := range []string{"first", "a second, longer meta", ""} {
			if i == 0 {
				if _, err := s.Put("k", val, []byte(m)); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if _, err := s.SetMeta("k", []byte(m), 1<<10); err != nil {
				t.Fatalf("%d bytes, SetMeta %d: %v", n, i, err)
			}
			var got, meta []byte
			err := s.ViewMeta("k", func(v, mm []byte) error { got, meta = bytes.Clone(v), bytes.Clone(mm); return nil })
			if err != nil || !bytes.Equal(got, val) || string(meta) != m {
				t.Fatalf("%d bytes, after SetMeta %d: %d bytes (equal %v), meta %q, %v", n, i, len(got), bytes.Equal(got, val), meta, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A large value whose bytes rotted is never copied forward: SetMeta fails
// with ErrCorrupt and appends nothing, so the key's record stays the
// damaged one (reads keep failing) and no new record carries the bytes
// under their old checksum.
func TestSetMetaOfACorruptLargeValue(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		dir := t.TempDir()
		o := &disk.Options{Sync: disk.SyncAlways}
		if !compressed {
			o.Compression = disk.NoCompression
		}
		s, err := disk.Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		// Half random, half zeros: compressible, yet over 1 MiB compressed.
		val := append(randomBytes(3<<20, 7), make([]byte, 3<<20)...)
		if _, err := s.Put("k", val, []byte("m")); err != nil {
			t.Fatal(err)
		}
		loc, _ := s.Locate("k")
		if loc.Compressed != compressed || loc.Stored <= 1<<20 {
			t.Fatalf("compressed %v: stored %d bytes, compressed %v; want over 1 MiB", compressed, loc.Stored, loc.Compressed)
		}
		f, err := os.OpenFile(loc.File, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		b := []byte{0}
		at := loc.ValueOff + loc.Stored*2/3
		if _, err := f.ReadAt(b, at); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0x10
		if _, err := f.WriteAt(b, at); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, err := s.SetMeta("k", []byte("new"), 1<<20); !errors.Is(err, tier.ErrCorrupt) {
			t.Fatalf("compressed %v: SetMeta of a damaged value: %v, want ErrCorrupt", compressed, err)
		}
		if now, _ := s.Locate("k"); now != loc {
			t.Errorf("compressed %v: the failed SetMeta moved k's record: %+v, was %+v", compressed, now, loc)
		}
		if _, err := s.Get("k", nil); !errors.Is(err, tier.ErrCorrupt) {
			t.Errorf("compressed %v: Get after the failed SetMeta: %v, want ErrCorrupt", compressed, err)
		}
		// The cut-back append leaves the log usable.
		if _, err := s.Put("other", []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Copied SetMetas race Puts, PutStaged's and Deletes of the key with
// compaction running: the writer always reads back what it wrote last.
func TestSetMetaCopiedNeverResurrects(t *testing.T) {
	defer disk.SetCopyBuffered(0)()
	setMetaNeverResurrects(t)
}
