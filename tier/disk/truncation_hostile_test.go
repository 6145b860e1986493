package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// hostileOpts makes segments small enough that a few puts seal one.
var hostileOpts = &disk.Options{SegmentSize: 4 << 10, Compression: disk.NoCompression, CompactThreshold: -1}

// buildOverwrittenInMiddle builds a store of four segments: k's first
// value and x in the first, filler in the second, k's second value and
// x's tombstone as the last records of the third (sealed, not the
// newest), and more filler in the fourth; then Close. It returns the
// directory, the path of the third segment and the offset where k's
// second record starts.
func buildOverwrittenInMiddle(t *testing.T) (dir, seg2 string, cut int64) {
	t.Helper()
	dir = t.TempDir()
	s := openStore(t, dir, hostileOpts)
	mustPut(t, s, "k", []byte("old value of k"), nil)
	mustPut(t, s, "x", []byte("value of x, deleted later"), nil)
	mustPut(t, s, "pad1", bytes.Repeat([]byte("a"), 3900), nil) // seals segment 1
	mustPut(t, s, "pad2", bytes.Repeat([]byte("b"), 3000), nil) // segment 2
	mustPut(t, s, "k", []byte("new value of k"), nil)
	if _, err := s.Delete("x"); err != nil {
		t.Fatal(err)
	}
	loc := locate(t, s, "k")
	mustPut(t, s, "pad3", bytes.Repeat([]byte("c"), 3900), nil) // seals segment 2
	mustPut(t, s, "pad4", []byte("in the newest segment"), nil)
	if locate(t, s, "pad4").SegmentID == loc.SegmentID {
		t.Fatal("k's second value is in the newest segment: the layout changed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, loc.File, loc.Off
}

// TestHostileColdTruncatedOlderSegmentAtRecordBoundary cuts a sealed
// segment that is not the newest exactly where k's second record starts
// (a boundary between records), as a lost size update of a file
// (SyncNone/SyncEvery machine crash) or an outside tool leaves it. The
// format says damage anywhere but in the newest segment's torn tail makes
// Open fail with ErrCorrupt, "never an older value": Open succeeded, k
// read its first value and the deleted x came back. The segment's hint
// file, which names the size it was sealed at, tells; so does, with the
// hint file gone, the record count its header was sealed with (format 2).
func TestHostileColdTruncatedOlderSegmentAtRecordBoundary(t *testing.T) {
	for _, withHint := range []bool{true, false} {
		t.Run(fmt.Sprintf("hint %v", withHint), func(t *testing.T) {
			dir, seg2, cut := buildOverwrittenInMiddle(t)
			if err := os.Truncate(seg2, cut); err != nil {
				t.Fatal(err)
			}
			if !withHint {
				if err := os.Remove(strings.TrimSuffix(seg2, ".seg") + ".hint"); err != nil {
					t.Fatal(err)
				}
			}
			s, err := disk.Open(dir, hostileOpts)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tier.ErrCorrupt) || !strings.Contains(err.Error(), filepath.Base(seg2)) {
				t.Fatalf("Open after segment %s was cut at %d: %v, want ErrCorrupt naming it", filepath.Base(seg2), cut, err)
			}
		})
	}
}

// TestHostileColdTruncateOlderSegmentEveryLength cuts the sealed segment
// that is not the newest at every length of its first and last 200 bytes,
// with its hint file (which then names another size) and without it: Open
// must fail with ErrCorrupt. (Before the seal in the header, cuts at 32,
// the header alone, and at the record boundaries before k's and x's newest
// records passed Open without the hint, and k read an older value.)
func TestHostileColdTruncateOlderSegmentEveryLength(t *testing.T) {
	for _, withHint := range []bool{true, false} {
		t.Run(fmt.Sprintf("hint %v", withHint), func(t *testing.T) { truncateEveryLength(t, withHint) })
	}
}

func truncateEveryLength(t *testing.T, withHint bool) {
	dir, seg2, _ := buildOverwrittenInMiddle(t)
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".seg") || strings.HasSuffix(e.Name(), ".hint") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = b
		}
	}
	var bad []int
	work := t.TempDir()
	size := len(files[filepath.Base(seg2)])
	for cut := 0; cut < size; cut++ {
		if cut == 200 {
			cut = max(cut, size-200)
		}
		d := filepath.Join(work, "d")
		os.RemoveAll(d)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if name == filepath.Base(seg2) {
				b = b[:cut]
			}
			if !withHint && name == strings.TrimSuffix(filepath.Base(seg2), ".seg")+".hint" {
				continue
			}
			if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s, err := disk.Open(d, hostileOpts)
		if err != nil {
			if !errors.Is(err, tier.ErrCorrupt) {
				t.Fatalf("cut at %d: Open: %v", cut, err)
			}
			continue
		}
		s.Crash()
		bad = append(bad, cut)
	}
	if len(bad) > 0 {
		t.Fatalf("after cutting %s (sealed, not the newest segment) at %v bytes, Open succeeded", filepath.Base(seg2), bad)
	}
}

// TestHostileColdLitterHintWithHugeID: an orphan hint file whose name holds
// an id near 2^64 (litter, which Open removes) still sets the next segment
// id, so the ids wrap around after two rotations and the store creates
// segment files over its own segments (created with O_TRUNC), destroying
// the keys they held.
func TestHostileColdLitterHintWithHugeID(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, hostileOpts)
	keys := fill(t, s, 30) // several segments: 1, 2, ...
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fffffffffffffffe.hint"), []byte("litter"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, hostileOpts)
	for i := range 12 { // rotates past id 2^64-1 to 0, 1, 2
		mustPut(t, s, fmt.Sprint("more", i), bytes.Repeat([]byte("m"), 2000), nil)
	}
	for _, k := range keys {
		if got, err := s.Get(k, nil); err != nil || !bytes.Equal(got, valueOf(k, 0)) {
			t.Fatalf("after litter named fffffffffffffffe.hint: Get(%q) = %d bytes, %v", k, len(got), err)
		}
	}
}
