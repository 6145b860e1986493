package tiermem_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

// currentSeen is what a condition was shown of a key.
type currentSeen struct {
	found, readable bool
	sum             uint64
}

// lookAtCurrent returns a condition that records what it is shown into s and
// refuses the change, so that nothing is written.
func lookAtCurrent(s *currentSeen) func(*tiermem.Current) error {
	return func(c *tiermem.Current) error {
		*s = currentSeen{c.Found(), c.Readable(), c.Checksum()}
		return errStale
	}
}

// TestCurrentReadable: Current.Readable tells a value that cannot be read
// (a cold value whose stored bytes rot) from one whose checksum is 0 and
// from none at all: false for a missing key and for the corrupt value,
// whose Checksum is 0 then, true for an intact value in every tier. A
// condition comparing a checksum a client gave (an HTTP If-Match of
// "0000000000000000") needs it, or a corrupt value matches that checksum.
func TestCurrentReadable(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, glacierOptions(1<<30))
	must(t, err)
	t.Cleanup(func() { m.Close() })
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		key := "intact-" + tr.String()
		v := valueFor(key)
		must(t, m.Store(key, v, tiermem.InTier(tr)))
		var s currentSeen
		if err := m.DeleteIf(key, lookAtCurrent(&s)); !errors.Is(err, errStale) {
			t.Fatalf("%s: DeleteIf with a refusing condition: %v", key, err)
		}
		if want := (currentSeen{true, true, xxh3.Hash(v)}); s != want {
			t.Errorf("%s: the condition saw %+v, want %+v", key, s, want)
		}
	}
	var s currentSeen
	if err := m.Store("missing", []byte("x"), tiermem.OnlyIf(lookAtCurrent(&s))); !errors.Is(err, errStale) {
		t.Fatalf("Store with a refusing condition: %v", err)
	}
	if s != (currentSeen{}) {
		t.Errorf("missing key: the condition saw %+v, want nothing found, not readable, checksum 0", s)
	}

	// A compressible value: the cold tier stores it compressed and must
	// decode it, checking its checksum, to open it. Its stored bytes are
	// not the value's, so the bit flipped is found from its key: the
	// record's payload follows the key.
	v := bytes.Repeat([]byte("compressible text, compressible text. "), 2000)
	const key = "damaged-compressed"
	must(t, m.Store(key, v, tiermem.InTier(tiermem.Cold)))
	flipPastProbe(t, dir, []byte(key), 12)
	if _, err := m.Retrieve(key); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("Retrieve of the damaged value: %v, want ErrCorrupt", err)
	}
	s = currentSeen{}
	if err := m.DeleteIf(key, lookAtCurrent(&s)); !errors.Is(err, errStale) {
		t.Fatalf("DeleteIf of the damaged value with a refusing condition: %v", err)
	}
	if want := (currentSeen{found: true}); s != want {
		t.Errorf("damaged value: the condition saw %+v, want %+v (found, not readable, checksum 0)", s, want)
	}
}

// flipPastProbe flips the bits of the byte off bytes past the first copy of
// probe in dir's cold segments, waiting up to 10 s for the cold log's
// write buffer to reach the file.
func flipPastProbe(t *testing.T, dir string, probe []byte, off int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		files, err := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
		must(t, err)
		for _, seg := range files {
			data, err := os.ReadFile(seg)
			must(t, err)
			at := bytes.Index(data, probe)
			if at < 0 || at+len(probe)+off >= len(data) {
				continue
			}
			at += len(probe) + off
			f, err := os.OpenFile(seg, os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt([]byte{^data[at]}, int64(at))
			must(t, err)
			must(t, f.Close())
			return
		}
	}
	t.Fatalf("%q is in no cold segment", probe)
}
