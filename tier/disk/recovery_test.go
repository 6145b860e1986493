package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// flipByte flips the bits of the byte at off in file name.
func flipByte(t *testing.T, name string, off int64) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0xff
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func locate(t *testing.T, s *disk.Store, key string) disk.Location {
	t.Helper()
	loc, ok := s.Locate(key)
	if !ok {
		t.Fatalf("%q is not in the index", key)
	}
	return loc
}

// fill stores n keys "k0".."k<n-1>" at version 0 and returns them.
func fill(t *testing.T, s *disk.Store, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		mustPut(t, s, keys[i], valueOf(keys[i], 0), nil)
	}
	return keys
}

// checkAll fails unless every key but those in missing reads its version-0
// value, and those in missing are not found.
func checkAll(t *testing.T, s *disk.Store, keys []string, missing ...string) {
	t.Helper()
	for _, k := range keys {
		got, err := s.Get(k, nil)
		switch {
		case contains(missing, k) && !errors.Is(err, tier.ErrNotFound):
			t.Fatalf("Get(%q) = %v, want ErrNotFound", k, err)
		case !contains(missing, k) && (err != nil || !bytes.Equal(got, valueOf(k, 0))):
			t.Fatalf("Get(%q) = %d bytes, %v", k, len(got), err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// crash syncs s and abandons it as a killed process would, leaving segments
// without hint files.
func crash(t *testing.T, s *disk.Store) {
	t.Helper()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	s.Crash()
}

func TestFlippedValueByte(t *testing.T) {
	for _, clean := range []bool{true, false} {
		t.Run(fmt.Sprintf("hinted=%v", clean), func(t *testing.T) {
			dir := t.TempDir()
			opts := &disk.Options{SegmentSize: 16 << 10, Compression: disk.NoCompression}
			s := openStore(t, dir, opts)
			keys := fill(t, s, 100)
			victim := "k10" // in the middle of a sealed segment
			loc := locate(t, s, victim)
			if clean {
				s.Close()
			} else {
				crash(t, s)
			}
			flipByte(t, loc.File, loc.ValueOff+loc.Stored/2)
			s = openStore(t, dir, opts)
			if _, err := s.Get(victim, nil); !errors.Is(err, tier.ErrCorrupt) {
				t.Fatalf("Get of the flipped value = %v, want ErrCorrupt", err)
			}
			if err := s.View(victim, func([]byte) error { return nil }); !errors.Is(err, tier.ErrCorrupt) {
				t.Fatalf("View of the flipped value = %v, want ErrCorrupt", err)
			}
			checkAll(t, s, slicesWithout(keys, victim))
		})
	}
}

func slicesWithout(keys []string, drop string) []string {
	var out []string
	for _, k := range keys {
		if k != drop {
			out = append(out, k)
		}
	}
	return out
}

func TestFlippedCompressedByte(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	text := bytes.Repeat([]byte("compressible "), 1000)
	mustPut(t, s, "text", text, nil)
	mustPut(t, s, "after", []byte("x"), nil)
	loc := locate(t, s, "text")
	if !loc.Compressed {
		t.Fatal("text was not compressed")
	}
	s.Close()
	flipByte(t, loc.File, loc.ValueOff+3)
	s = openStore(t, dir, nil)
	if _, err := s.Get("text", nil); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Get = %v, want ErrCorrupt", err)
	}
	mustGet(t, s, "after", []byte("x"))
}

// wantCorruptOpen fails unless Open of dir fails with a *CorruptError
// wrapping tier.ErrCorrupt that names file at off.
func wantCorruptOpen(t *testing.T, dir string, opts *disk.Options, file string, off int64) {
	t.Helper()
	s, err := disk.Open(dir, opts)
	if err == nil {
		s.Close()
		t.Fatalf("Open succeeded over damage in %s at %d", filepath.Base(file), off)
	}
	var ce *disk.CorruptError
	if !errors.Is(err, tier.ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("Open = %v, want a *disk.CorruptError", err)
	}
	if ce.File != filepath.Base(file) || ce.Off != off || !strings.Contains(err.Error(), "tiermem repair") {
		t.Fatalf("Open = %v, want %s at byte %d", err, filepath.Base(file), off)
	}
}

func TestFlippedHeaderByteFailsOpen(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 1 << 20}
	s := openStore(t, dir, opts)
	fill(t, s, 50)
	loc := locate(t, s, "k20")
	crash(t, s)
	flipByte(t, loc.File, loc.Off+9) // the key length
	wantCorruptOpen(t, dir, opts, loc.File, loc.Off)
}

// TestFlippedNewestRecord is the bug this rule exists for: a key is
// overwritten (or deleted), one bit of the newest record's header or key
// flips, and the hint files are gone, as they are for the active segment
// after a crash. Skipping the damaged record served the old value (or the
// deleted one) with a nil error; Open must fail instead.
func TestFlippedNewestRecord(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(t *testing.T, s *disk.Store)
		at    func(loc disk.Location) int64
	}{
		{"overwrite header", overwrite, func(loc disk.Location) int64 { return loc.Off + 17 }},      // the sequence number
		{"overwrite key", overwrite, func(loc disk.Location) int64 { return loc.Off + 48 }},         // the key's first byte
		{"overwrite checksum", overwrite, func(loc disk.Location) int64 { return loc.Off + 1 }},     // the header checksum
		{"delete header", deleteLast, func(loc disk.Location) int64 { return loc.Off + 4 }},         // the kind
		{"delete key", deleteLast, func(loc disk.Location) int64 { return loc.Off + loc.Size - 1 }}, // the key's last byte
		{"delete key length", deleteLast, func(loc disk.Location) int64 { return loc.Off + 9 }},
	} {
		for _, sealed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/sealed=%v", c.name, sealed), func(t *testing.T) {
				dir := t.TempDir()
				opts := &disk.Options{SegmentSize: 16 << 10, Compression: disk.NoCompression, CompactThreshold: -1}
				s := openStore(t, dir, opts)
				c.write(t, s)
				loc := locate(t, s, "k")
				if sealed { // push the record into a sealed segment
					fill(t, s, 20)
				}
				s.Close()
				for _, h := range mustGlob(t, filepath.Join(dir, "*.hint")) {
					os.Remove(h)
				}
				flipBit(t, loc.File, c.at(loc), 2)
				wantCorruptOpen(t, dir, opts, loc.File, loc.Off)
			})
		}
	}
}

func overwrite(t *testing.T, s *disk.Store) {
	mustPut(t, s, "k", []byte("old value"), nil)
	mustPut(t, s, "k", []byte("new value"), nil)
}

func deleteLast(t *testing.T, s *disk.Store) {
	mustPut(t, s, "k", []byte("old value"), nil)
	if _, err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
}

// flipBit flips bit b of the byte at off in file name.
func flipBit(t *testing.T, name string, off int64, b uint) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 1 << b
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTruncatedSegment cuts the segment at every offset inside its last
// records. Unsealed, as a crash leaves the tail, recovery keeps every
// complete record, with or without a hint file (a hint for another size is
// ignored). Sealed, as a clean Close leaves it, the cut is damage, even on
// a record boundary: Open fails with ErrCorrupt, with or without the hint.
func TestTruncatedSegment(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 1 << 20}
	s := openStore(t, dir, opts)
	keys := fill(t, s, 20)
	tail := keys[len(keys)-3:]
	locs := make([]disk.Location, len(tail))
	for i, k := range tail {
		locs[i] = locate(t, s, k)
	}
	f, err := os.Open(locs[0].File)
	if err != nil {
		t.Fatal(err)
	}
	unsealed := make([]byte, disk.SegmentHeaderSize) // the header as appends left it
	if _, err := f.ReadAt(unsealed, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s.Close()
	seg, err := os.ReadFile(locs[0].File)
	if err != nil {
		t.Fatal(err)
	}
	hint, _ := os.ReadFile(disk.HintFile(dir, locs[0].SegmentID))
	for _, sealed := range []bool{false, true} {
		file := slices.Clone(seg)
		if !sealed {
			copy(file, unsealed)
		}
		for cut := locs[0].Off; cut < int64(len(seg)); cut++ {
			for _, withHint := range []bool{false, true} {
				d := t.TempDir()
				os.WriteFile(filepath.Join(d, filepath.Base(locs[0].File)), file[:cut], 0o644)
				if withHint {
					os.WriteFile(disk.HintFile(d, locs[0].SegmentID), hint, 0o644)
				}
				s, err := disk.Open(d, opts)
				if sealed {
					if !errors.Is(err, tier.ErrCorrupt) {
						t.Fatalf("Open of the sealed segment cut at %d (hint %v): %v, want ErrCorrupt", cut, withHint, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Open after a cut at %d: %v", cut, err)
				}
				var missing []string
				for i, k := range tail {
					if locs[i].Off+locs[i].Size > cut {
						missing = append(missing, k)
					}
				}
				checkAll(t, s, keys, missing...)
				s.Close()
			}
		}
	}
}

func TestTornTail(t *testing.T) {
	for _, c := range []struct {
		name string
		lost bool // the last record is torn, not only followed by garbage
		tear func(t *testing.T, file string, last disk.Location)
	}{
		{"partial record", true, func(t *testing.T, file string, last disk.Location) {
			os.Truncate(file, last.Off+last.Size-1)
		}},
		{"zeros after", false, func(t *testing.T, file string, last disk.Location) {
			f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
			f.Write(make([]byte, 3000))
			f.Close()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, nil)
			keys := fill(t, s, 30)
			last := locate(t, s, "k29")
			crash(t, s)
			c.tear(t, last.File, last)
			s = openStore(t, dir, nil)
			end := last.Off + last.Size
			if c.lost {
				checkAll(t, s, keys, "k29")
				end = last.Off
			} else {
				checkAll(t, s, keys)
			}
			if st := s.Stats(); st.TruncatedBytes == 0 {
				t.Fatalf("nothing truncated: %+v", st)
			}
			if fi, _ := os.Stat(last.File); fi.Size() != end {
				t.Fatalf("segment is %d bytes after recovery, want %d", fi.Size(), end)
			}
			mustPut(t, s, "k29", valueOf("k29", 0), nil)
			crash(t, s)
			s = openStore(t, dir, nil)
			checkAll(t, s, keys)
		})
	}
}

func TestBadHintFile(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 16 << 10}
	s := openStore(t, dir, opts)
	keys := fill(t, s, 200)
	id := locate(t, s, "k0").SegmentID
	s.Close()
	flipByte(t, disk.HintFile(dir, id), 40)
	s = openStore(t, dir, opts)
	st := s.Stats()
	if st.HintedSegments != st.RecoveredSegments-1 {
		t.Fatalf("hinted %d of %d segments, want all but one", st.HintedSegments, st.RecoveredSegments)
	}
	checkAll(t, s, keys)
	s.Close()
	s = openStore(t, dir, opts)
	if st := s.Stats(); st.HintedSegments != st.RecoveredSegments {
		t.Fatalf("Close did not rewrite the bad hint: %+v", st)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestTombstonesSurviveCompaction compacts the segment holding a delete
// while an older segment still holds the deleted put: the tombstone must
// survive, or the put would come back after a restart. A full Compact then
// drops both.
func TestTombstonesSurviveCompaction(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 8 << 10, Compression: disk.NoCompression}
	s := openStore(t, dir, opts)
	mustPut(t, s, "victim", []byte("old value"), nil)
	victimSegment := locate(t, s, "victim").SegmentID
	for i := 0; ; i++ { // fill the victim's segment with live keys, until it is sealed
		key := fmt.Sprint("live", i)
		mustPut(t, s, key, make([]byte, 500), nil)
		if locate(t, s, key).SegmentID != victimSegment {
			break
		}
	}
	if _, err := s.Delete("victim"); err != nil {
		t.Fatal(err)
	}
	for i := range 40 { // overwrites: the tombstone's segment turns mostly dead
		mustPut(t, s, "churn", make([]byte, 400+i), nil)
	}
	waitFor(t, "background compaction", func() bool { return s.Stats().Compactions > 0 })
	if st := s.Stats(); st.Tombstones != 1 {
		t.Fatalf("the tombstone was dropped while the old put remains: %+v", st)
	}
	crash(t, s)
	s = openStore(t, dir, opts)
	if _, err := s.Get("victim", nil); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("deleted key after compaction and restart: %v", err)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Tombstones != 0 || st.DeadBytes != 0 {
		t.Fatalf("full compaction left %+v", st)
	}
	s.Close()
	s = openStore(t, dir, opts)
	if _, err := s.Get("victim", nil); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("deleted key after full compaction and reopen: %v", err)
	}
}

func TestReopenAfterCompaction(t *testing.T) {
	for _, clean := range []bool{true, false} {
		t.Run(fmt.Sprintf("clean=%v", clean), func(t *testing.T) {
			dir := t.TempDir()
			opts := &disk.Options{SegmentSize: 16 << 10, CompactThreshold: -1}
			s := openStore(t, dir, opts)
			keys := fill(t, s, 300)
			var deleted []string
			for i, k := range keys {
				switch i % 3 {
				case 0:
					s.Delete(k)
					deleted = append(deleted, k)
				case 1:
					mustPut(t, s, k, valueOf(k, 1), nil)
					mustPut(t, s, k, valueOf(k, 0), nil)
				}
			}
			before := s.Stats()
			if err := s.Compact(); err != nil {
				t.Fatal(err)
			}
			after := s.Stats()
			if after.DeadBytes != 0 || after.DiskBytes >= before.DiskBytes || after.Reclaimed == 0 {
				t.Fatalf("compaction: before %+v after %+v", before, after)
			}
			checkAll(t, s, keys, deleted...)
			if clean {
				s.Close()
			} else {
				crash(t, s)
			}
			s = openStore(t, dir, opts)
			checkAll(t, s, keys, deleted...)
			if st := s.Stats(); st.LiveBytes != after.LiveBytes || st.Keys != after.Keys {
				t.Fatalf("reopen after compaction: %+v, want %+v", st, after)
			}
		})
	}
}

// TestOpenSurvivesLitter: files a crash or a stranger leaves that hold no
// record are removed or ignored.
func TestOpenSurvivesLitter(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	keys := fill(t, s, 10)
	s.Close()
	for name, content := range map[string][]byte{
		"00000000000000f1.seg":     []byte("\x89TMCOLD\n short"), // the newest segment, its creation torn
		"00000000000000f3.hint":    randomBytes(100, 2),          // orphan hint
		"00000000000000f4.seg.tmp": randomBytes(100, 3),          // a compaction that died
		"notes.txt":                []byte("not ours"),
	} {
		os.WriteFile(filepath.Join(dir, name), content, 0o644)
	}
	s = openStore(t, dir, nil)
	checkAll(t, s, keys)
	mustPut(t, s, "new", []byte("v"), nil)
	s.Close()
	s = openStore(t, dir, nil)
	mustGet(t, s, "new", []byte("v"))
	for _, gone := range []string{"00000000000000f1.seg", "00000000000000f3.hint", "00000000000000f4.seg.tmp"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s survived Open: %v", gone, err)
		}
	}
}

// TestGarbageSegmentFailsOpen: a segment whose header does not verify may
// have held anything, so Open refuses it unless it is the newest and holds
// no byte past its header.
func TestGarbageSegmentFailsOpen(t *testing.T) {
	for name, content := range map[string][]byte{
		"00000000000000f0.seg": randomBytes(5000, 1), // garbage
		"00000000000000f1.seg": nil,                  // empty, but not the newest
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, nil)
			fill(t, s, 10)
			s.Close()
			os.WriteFile(filepath.Join(dir, name), content, 0o644)
			os.WriteFile(filepath.Join(dir, "00000000000000f2.seg"), nil, 0o644)
			wantCorruptOpen(t, dir, nil, name, 0)
		})
	}
}

// TestGarbageAfterTheLastRecord: bytes that are not zero after the last
// record are not what a crash leaves, but what damage to a last record
// (a delete, say) leaves, so Open refuses them.
func TestGarbageAfterTheLastRecord(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	fill(t, s, 30)
	last := locate(t, s, "k29")
	crash(t, s)
	f, _ := os.OpenFile(last.File, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(bytes.Repeat([]byte{0, 0x7f, 0xee}, 1000))
	f.Close()
	wantCorruptOpen(t, dir, nil, last.File, last.Off+last.Size)
}

// TestFlippedValueOfLastRecord: a value that fails its checksum at the end
// of the tail segment is not a torn write to drop (that would serve the
// older value): the key reads ErrCorrupt.
func TestFlippedValueOfLastRecord(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{Compression: disk.NoCompression}
	s := openStore(t, dir, opts)
	overwrite(t, s)
	loc := locate(t, s, "k")
	crash(t, s)
	flipBit(t, loc.File, loc.ValueOff+2, 0)
	s = openStore(t, dir, opts)
	if _, err := s.Get("k", nil); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Get = %v, want ErrCorrupt", err)
	}
	mustPut(t, s, "k", []byte("newer"), nil)
	crash(t, s)
	s = openStore(t, dir, opts)
	mustGet(t, s, "k", []byte("newer"))
}

func TestNewerFormatRefused(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	fill(t, s, 3)
	id := locate(t, s, "k0").SegmentID
	s.Close()
	name := disk.SegmentFile(dir, id)
	b, _ := os.ReadFile(name)
	b[10] = 9                                     // minimum reader version 9
	copy(b[28:32], disk.SegmentHeaderChecksum(b)) // keep the header checksum valid
	os.WriteFile(name, b, 0o644)
	if _, err := disk.Open(dir, nil); !errors.Is(err, disk.ErrVersion) {
		t.Fatalf("Open = %v, want ErrVersion", err)
	}
}
