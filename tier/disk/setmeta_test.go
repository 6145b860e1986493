package disk_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// A header change (SetMeta) of a value synced long ago kills that value's
// old record, and the background compactor may then remove the old
// segment while the new record still waits in the write buffer: it syncs
// the log first, so a process killed then keeps the value (it lost it
// altogether before).
func TestCrashAfterSetMetaAndCompactionKeepsTheValue(t *testing.T) {
	compactionCrash(t, func(s *disk.Store, val []byte) error { _, err := s.SetMeta("k", []byte("m2"), 1<<20); return err })
}

// The same with a Put of the same value.
func TestCrashAfterPutAndCompactionKeepsTheValue(t *testing.T) {
	compactionCrash(t, func(s *disk.Store, val []byte) error { _, err := s.Put("k", val, []byte("m2")); return err })
}

func compactionCrash(t *testing.T, change func(s *disk.Store, val []byte) error) {
	dir := t.TempDir()
	o := &disk.Options{Sync: disk.SyncEvery(time.Hour), SegmentSize: 64 << 10, Compression: disk.NoCompression}
	s, err := disk.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	val := make([]byte, 40<<10)
	for i := range val {
		val[i] = byte(rand.IntN(256))
	}
	if _, err := s.Put("k", val, []byte("m1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("f", val, nil); err != nil { // rotates: k's segment is sealed and written
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil { // k is durable
		t.Fatal(err)
	}
	loc, _ := s.Locate("k")
	if err := change(s, val); err != nil {
		t.Fatal(err)
	}
	old := disk.SegmentFile(dir, loc.SegmentID)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Skip("the compactor did not remove k's old segment")
		}
		time.Sleep(time.Millisecond)
	}
	s.Crash()
	s, err = disk.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get("k", nil)
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("after a SetMeta, a compaction and a killed process, k (synced before): %d bytes, %v (tier.ErrNotFound: %v)", len(got), err, errors.Is(err, tier.ErrNotFound))
	}
}

// SetMeta in a loop against a writer that Puts, PutStaged's and Deletes the
// key and reads it back at once, with compaction running: the writer must
// always read back what it wrote last (never a value SetMeta read before),
// under each sync mode.
func TestSetMetaNeverResurrects(t *testing.T) {
	setMetaNeverResurrects(t)
}

func setMetaNeverResurrects(t *testing.T) {
	for _, mode := range []disk.SyncMode{disk.SyncNone, disk.SyncAlways} {
		dir := t.TempDir()
		s, err := disk.Open(dir, &disk.Options{Sync: mode, SegmentSize: 16 << 10, CompactThreshold: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan struct{}, 3)
		for g := range 2 {
			go func() {
				defer func() { done <- struct{}{} }()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					_, err := s.SetMeta("k", []byte{byte(g), byte(i)}, 1<<20)
					if err != nil && !errors.Is(err, tier.ErrNotFound) {
						t.Error("SetMeta:", err)
						return
					}
				}
			}()
		}
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := s.Compact(); err != nil {
					t.Error("Compact:", err)
					return
				}
			}
		}()
		n := 800
		for i := range n {
			v := bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 500+i%700)
			switch i % 4 {
			case 0, 1:
				if _, err := s.Put("k", v, []byte("put")); err != nil {
					t.Fatal(err)
				}
			case 2:
				st, err := s.Stage(bytes.NewReader(v), int64(len(v)))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.PutStaged("k", st, []byte("staged")); err != nil {
					t.Fatal(err)
				}
				st.Discard()
			case 3:
				if _, err := s.Delete("k"); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Get("k", nil); !errors.Is(err, tier.ErrNotFound) {
					t.Fatalf("mode %v, step %d: after Delete, Get: %v", mode, i, err)
				}
				continue
			}
			if got, err := s.Get("k", nil); err != nil || !bytes.Equal(got, v) {
				t.Fatalf("mode %v, step %d: read back %d bytes (want %d), %v", mode, i, len(got), len(v), err)
			}
		}
		close(stop)
		for range 3 {
			<-done
		}
		if s.Len() > 1 {
			t.Errorf("Len %d", s.Len())
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
