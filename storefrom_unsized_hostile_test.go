package tiermem_test

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
)

// s32Gated sends first, then waits for release before it sends rest
// and ends.
type s32Gated struct {
	first, rest []byte
	reached     chan struct{}
	release     chan struct{}
	stage       int
}

func (g *s32Gated) Read(p []byte) (int, error) {
	switch g.stage {
	case 0:
		g.stage = 1
		return copy(p, g.first), nil
	case 1:
		close(g.reached)
		<-g.release
		g.stage = 2
		return copy(p, g.rest), nil
	}
	return 0, io.EOF
}

// TestCloseDuringUnsizedStoreFrom: a Close while a stream of
// unknown length is being staged does not wait for it; the StoreFrom
// then fails with ErrClosed, stores nothing, and leaves no staging file
// in the cold tier's directory; a reopen finds the key as it was.
func TestCloseDuringUnsizedStoreFrom(t *testing.T) {
	dir := t.TempDir()
	o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Close())
	for _, size := range []int{100, 3 << 20} {
		m, err = tiermem.Open(dir, &o)
		must(t, err)
		g := &s32Gated{first: seededNoise(size/2, 1), rest: seededNoise(size-size/2, 2),
			reached: make(chan struct{}), release: make(chan struct{})}
		done := make(chan error, 1)
		go func() { done <- m.StoreFrom("k", g, -1) }()
		<-g.reached
		must(t, m.Close())
		close(g.release)
		if err := <-done; !errors.Is(err, tiermem.ErrClosed) {
			t.Errorf("%d bytes: StoreFrom(-1) whose stream ended after Close: %v, want ErrClosed", size, err)
		}
		noStagingFiles(t, dir)
	}
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	if v, err := m.Retrieve("k"); err != nil || string(v) != "old" {
		t.Errorf("after StoreFroms cut by Close: %q, %v; want \"old\"", v, err)
	}
}

// TestUnsizedStoreFromOnAFullDisk: a stream of unknown length
// that fills the disk while it is staged fails with ErrNoSpace, an error
// that says it was staging; it leaves no staging file, holds no room, and
// the key keeps its value; once there is room again the same stream is
// stored.
func TestUnsizedStoreFromOnAFullDisk(t *testing.T) {
	mnt := tmpfs.Mount(t, "8m")
	dir := filepath.Join(mnt, "data")
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	must(t, m.Store("k", []byte("old")))
	value := seededNoise(12<<20, 3) // more than the disk holds
	err = m.StoreFrom("k", bytes.NewReader(value), -1)
	if !errors.Is(err, tiermem.ErrNoSpace) || !strings.Contains(err.Error(), "stag") {
		t.Errorf("StoreFrom(-1) of 12 MiB onto an 8 MiB disk: %v, want ErrNoSpace saying it was staging", err)
	}
	if v, err := m.Retrieve("k"); err != nil || string(v) != "old" {
		t.Errorf("after a full disk: %q, %v", v, err)
	}
	for level, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("%v: %d bytes held for streams", level, u.Streaming)
		}
	}
	noStagingFiles(t, dir)
	must(t, m.StoreFrom("k", bytes.NewReader(value[:2<<20]), -1))
	if v, err := m.Retrieve("k"); err != nil || !bytes.Equal(v, value[:2<<20]) {
		t.Errorf("after room came back: %d bytes, %v", len(v), err)
	}
}

// s32Failing fails every read with err.
type s32Failing struct{ err error }

func (f s32Failing) Read([]byte) (int, error) { return 0, f.err }

// TestUnsizedCutStreamSaysWhat: a stream of unknown length cut
// short (an HTTP body cut inside a chunk: io.ErrUnexpectedEOF) fails with
// an error that says how far it got, and no length it never had (the
// HTTP client reads it in its 400).
func TestUnsizedCutStreamSaysWhat(t *testing.T) {
	m := open(t, nil)
	for _, n := range []int{100, 3 << 20} {
		err := m.StoreFrom("k", io.MultiReader(bytes.NewReader(make([]byte, n)), s32Failing{io.ErrUnexpectedEOF}), -1)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%d bytes then a cut: %v, want io.ErrUnexpectedEOF", n, err)
		}
		if msg := err.Error(); strings.Contains(msg, "-1") || !strings.Contains(msg, "k") {
			t.Errorf("%d bytes then a cut: %q: it names a length of -1 bytes, which the stream never had", n, msg)
		}
	}
}

// TestUnsizedStoreFromStagingCountsInTheColdBudget: a stream of unknown
// length is staged on the cold tier's disk, and that file counts against
// the cold tier's budget while it grows (Usage shows it as Streaming):
// a stream larger than the whole budget fails with ErrTooLarge and
// stores nothing, however much room the hot tier it would go to has;
// one that fits is stored, and its room is given back.
func TestUnsizedStoreFromStagingCountsInTheColdBudget(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 4 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	err = m.StoreFrom("big", bytes.NewReader(seededNoise(8<<20, 4)), -1)
	if !errors.Is(err, tiermem.ErrTooLarge) || !strings.Contains(err.Error(), "stag") {
		t.Errorf("StoreFrom(-1) of 8 MiB with a 4 MiB cold budget: %v, want ErrTooLarge saying it was staging", err)
	}
	if _, err := m.Tier("big"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("a failed stream left key big: %v", err)
	}
	g := &s32Gated{first: seededNoise(1<<20, 5), rest: seededNoise(1<<20, 6),
		reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- m.StoreFrom("k", g, -1) }()
	<-g.reached
	if u := m.Usage()[tiermem.Cold]; u.Streaming < 1<<20 {
		t.Errorf("while 1 MiB of a stream was staged the cold tier held %d bytes for streams, want at least 1 MiB", u.Streaming)
	}
	close(g.release)
	must(t, <-done)
	if v, err := m.Retrieve("k"); err != nil || len(v) != 2<<20 {
		t.Errorf("Retrieve(k) = %d bytes, %v; want the 2 MiB streamed", len(v), err)
	}
	for level, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("%v: %d bytes still held for streams", level, u.Streaming)
		}
	}
	noStagingFiles(t, dir)
}
