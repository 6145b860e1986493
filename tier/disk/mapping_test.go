package disk_test

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// Reads copy out of a mapping of each segment, made at the segment's first
// read. The active segment's mapping must see records written after it was
// made, through the same file.
func TestMappingSeesLaterWrites(t *testing.T) {
	s := openStore(t, "", &disk.Options{Compression: disk.NoCompression})
	mustPut(t, s, "first", valueOf("first", 0), nil)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "first", valueOf("first", 0)) // maps the active segment
	keys := fill(t, s, 200)
	if err := s.Sync(); err != nil { // out of the write buffer, into the file
		t.Fatal(err)
	}
	if loc := locate(t, s, "k199"); loc.SegmentSealed {
		t.Fatal("k199 is in a sealed segment; the test wants the active one")
	}
	checkAll(t, s, keys)
	mustGet(t, s, "first", valueOf("first", 0))
}

// Something outside the store cuts a segment file short while the store
// has it mapped: reads of the values that are gone fail with ErrCorrupt
// (they would raise SIGBUS if the fault were not caught), and the values
// before the cut still read.
func TestSegmentCutShortUnderMapping(t *testing.T) {
	opts := &disk.Options{SegmentSize: 64 << 10, Compression: disk.NoCompression}
	s := openStore(t, "", opts)
	keys := fill(t, s, 200)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s, keys) // maps every segment
	victim := locate(t, s, "k40")
	cut := victim.ValueOff &^ 4095 // the page that holds the victim's first byte and all after it
	if cut <= disk.SegmentHeaderSize {
		t.Fatalf("k40's value starts at %d; the test wants it past the first page", victim.ValueOff)
	}
	if err := os.Truncate(victim.File, cut); err != nil {
		t.Fatal(err)
	}
	var before, gone int
	for _, k := range keys {
		loc := locate(t, s, k)
		if loc.SegmentID != victim.SegmentID {
			continue
		}
		_, err := s.Get(k, nil)
		switch {
		case loc.ValueOff+loc.Stored <= cut:
			before++
			if err != nil {
				t.Errorf("Get(%q), before the cut: %v", k, err)
			}
		case loc.ValueOff >= cut:
			gone++
			if !errors.Is(err, tier.ErrCorrupt) {
				t.Errorf("Get(%q), past the cut: %v, want ErrCorrupt", k, err)
			}
			if err := s.View(k, func([]byte) error { return nil }); !errors.Is(err, tier.ErrCorrupt) {
				t.Errorf("View(%q), past the cut: %v, want ErrCorrupt", k, err)
			}
		}
	}
	if before == 0 || gone == 0 {
		t.Fatalf("%d values before the cut and %d past it; the test wants both", before, gone)
	}
}

// A byte changed on disk under a live mapping is seen by the next read and
// fails its checksum: never wrong bytes.
func TestByteChangedUnderMapping(t *testing.T) {
	s := openStore(t, "", &disk.Options{SegmentSize: 64 << 10, Compression: disk.NoCompression})
	keys := fill(t, s, 100)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s, keys)
	loc := locate(t, s, "k3")
	flipByte(t, loc.File, loc.ValueOff+loc.Stored/2)
	if _, err := s.Get("k3", nil); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Get of the changed value = %v, want ErrCorrupt", err)
	}
	checkAll(t, s, slicesWithout(keys, "k3"))
}

// TestReleaseMappedKeepsReadsRight checks that values read before and after
// ReleaseMapped, with reads and writes going on beside it, are the values
// stored.
func TestReleaseMappedKeepsReadsRight(t *testing.T) {
	s := openStore(t, "", &disk.Options{Compression: disk.NoCompression, SegmentSize: 256 << 10})
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 8<<10) }
	for i := range 200 {
		if _, err := s.Put(strconv.Itoa(i), value(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				s.ReleaseMapped()
			}
		}
	}()
	for round := range 20 {
		for i := range 200 {
			got, err := s.Get(strconv.Itoa(i), nil)
			if err != nil || !bytes.Equal(got, value(i)) {
				close(stop)
				wg.Wait()
				t.Fatalf("round %d: Get(%d) = %d bytes, %v", round, i, len(got), err)
			}
		}
		if _, err := s.Put(strconv.Itoa(200+round), value(round), nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
