package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

type modelKV struct {
	val, meta []byte
	size      int64
}

func checkAllKV(t *testing.T, s *disk.Store, model map[string]*modelKV, when string) {
	t.Helper()
	var live int64
	for k, e := range model {
		var got, meta []byte
		err := s.ViewMeta(k, func(v, m []byte) error { got, meta = bytes.Clone(v), bytes.Clone(m); return nil })
		if err != nil {
			t.Fatalf("%s: ViewMeta(%q): %v", when, k, err)
		}
		if !bytes.Equal(got, e.val) || !bytes.Equal(meta, e.meta) {
			t.Fatalf("%s: %q: %d bytes (equal %v), meta %q want %q", when, k, len(got), bytes.Equal(got, e.val), meta, e.meta)
		}
		live += e.size
	}
	st := s.Stats()
	if st.Keys != int64(len(model)) || s.Len() != int64(len(model)) {
		t.Fatalf("%s: Keys %d, Len %d, want %d", when, st.Keys, s.Len(), len(model))
	}
	if st.LiveBytes != live {
		t.Fatalf("%s: LiveBytes %d, want %d", when, st.LiveBytes, live)
	}
	if st.DiskBytes-int64(st.Segments)*disk.SegmentHeaderSize != st.LiveBytes+st.DeadBytes {
		t.Fatalf("%s: disk %d in %d segments; live %d + dead %d", when, st.DiskBytes, st.Segments, st.LiveBytes, st.DeadBytes)
	}
}

// Copied SetMetas of values that straddle the 2 MiB flush boundaries and
// the segment's end (rotation while copying: the source in the segment
// just sealed), under every sync mode, compressed or not; then Close and
// reopen, and Crash and reopen.
func TestSetMetaCopiedRotationAndModes(t *testing.T) {
	modes := []disk.SyncMode{disk.SyncNone, disk.SyncAlways, disk.SyncEvery(5 * time.Millisecond)}
	for mi, mode := range modes {
		for _, compressed := range []bool{false, true} {
			t.Run(fmt.Sprint(mi, compressed), func(t *testing.T) {
				dir := t.TempDir()
				o := &disk.Options{Sync: mode, SegmentSize: 5 << 20}
				if !compressed {
					o.Compression = disk.NoCompression
				}
				s, err := disk.Open(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(uint64(mi), 1))
				model := map[string]*modelKV{}
				put := func(k string, n int) {
					var v []byte
					if compressed {
						v = append(randomBytes(n/2, rng.Uint64()), make([]byte, n-n/2)...)
					} else {
						v = randomBytes(n, rng.Uint64())
					}
					m := []byte(fmt.Sprint("m", rng.IntN(1000)))
					size, err := s.Put(k, v, m)
					if err != nil {
						t.Fatal(err)
					}
					model[k] = &modelKV{v, m, size}
				}
				rounds := 15
				if raceEnabled {
					rounds = 6
				}
				for i := 0; i < rounds; i++ {
					// Small records move the log's end to odd offsets, big
					// ones straddle the 2 MiB boundaries and the segment end.
					put(fmt.Sprint("small", rng.IntN(30)), rng.IntN(70000))
					if i%3 == 0 {
						put(fmt.Sprint("big", rng.IntN(4)), 1<<20+rng.IntN(3<<20))
					}
					for k := range model {
						if rng.IntN(3) != 0 {
							continue
						}
						m := bytes.Repeat([]byte{byte(rng.Uint32())}, rng.IntN(200))
						if len(m) == 0 {
							m = nil
						}
						size, err := s.SetMeta(k, m, 1<<20)
						if err != nil {
							t.Fatalf("SetMeta(%q): %v", k, err)
						}
						model[k].meta, model[k].size = m, size
					}
					checkAllKV(t, s, model, fmt.Sprint("step ", i))
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				s, err = disk.Open(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				checkAllKV(t, s, model, "reopened")
				// One more round, then a crash: under SyncAlways every change
				// must survive it; under the others, what is read back must
				// be a whole value with some meta it had.
				for k := range model {
					m := []byte("after " + k)
					size, err := s.SetMeta(k, m, 1<<20)
					if err != nil {
						t.Fatal(err)
					}
					model[k].meta, model[k].size = m, size
				}
				s.Crash()
				s, err = disk.Open(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if mode == disk.SyncAlways {
					checkAllKV(t, s, model, "after crash")
				} else {
					for k, e := range model {
						got, err := s.Get(k, nil)
						if err != nil && !errors.Is(err, tier.ErrNotFound) {
							t.Fatalf("after crash: Get(%q): %v", k, err)
						}
						if err == nil && !bytes.Equal(got, e.val) {
							t.Fatalf("after crash: %q reads %d bytes, not its value", k, len(got))
						}
					}
				}
			})
		}
	}
}

// A Close racing a copied SetMeta of a large value: it waits for the copy,
// and whatever SetMeta returned is what a reopened store holds.
func TestCloseDuringCopiedSetMeta(t *testing.T) {
	for i := 0; i < 4; i++ {
		dir := t.TempDir()
		o := &disk.Options{Sync: disk.SyncNone, Compression: disk.NoCompression, SegmentSize: 64 << 20}
		s, err := disk.Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		val := randomBytes(24<<20, uint64(i))
		if _, err := s.Put("big", val, []byte("old")); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var serr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, serr = s.SetMeta("big", []byte("new"), 1<<20)
		}()
		time.Sleep(time.Duration(i) * time.Millisecond)
		cerr := s.Close()
		wg.Wait()
		if cerr != nil {
			t.Fatalf("Close: %v", cerr)
		}
		want := "old"
		switch {
		case serr == nil:
			want = "new"
		case errors.Is(serr, tier.ErrClosed):
		default:
			t.Fatalf("SetMeta: %v", serr)
		}
		s, err = disk.Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		var got, meta []byte
		err = s.ViewMeta("big", func(v, m []byte) error { got, meta = bytes.Clone(v), bytes.Clone(m); return nil })
		if err != nil || !bytes.Equal(got, val) || string(meta) != want {
			t.Fatalf("reopened: %d bytes (equal %v), meta %q want %q, %v", len(got), bytes.Equal(got, val), meta, want, err)
		}
		s.Close()
	}
}

// Copied SetMetas race Puts, PutStaged, Deletes of other keys, Gets and
// Compact, with a small segment size so that rotation and compaction
// retire the source segments; the SetMeta key's value never changes, so
// it must always read whole.
func TestCopiedSetMetaRacesCompaction(t *testing.T) {
	defer disk.SetCopyBuffered(0)()
	dir := t.TempDir()
	o := &disk.Options{Sync: disk.SyncNone, SegmentSize: 256 << 10, CompactThreshold: 0.1, Compression: disk.NoCompression}
	s, err := disk.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]byte{}
	for i := 0; i < 4; i++ {
		k := fmt.Sprint("stable", i)
		vals[k] = randomBytes(20000+i*30000, uint64(i))
		if _, err := s.Put(k, vals[k], nil); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprint("stable", rng.IntN(4))
				m := bytes.Repeat([]byte{'m'}, rng.IntN(100))
				if _, err := s.SetMeta(k, m, 1<<20); err != nil {
					errc <- fmt.Errorf("SetMeta: %w", err)
					return
				}
				got, err := s.Get(k, nil)
				if err != nil || !bytes.Equal(got, vals[k]) {
					errc <- fmt.Errorf("Get(%q) after SetMeta: %d bytes, %v", k, len(got), err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(7, 7))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprint("churn", rng.IntN(20))
			switch rng.IntN(4) {
			case 0:
				s.Delete(k)
			case 1:
				v := randomBytes(rng.IntN(40000), uint64(i))
				st, err := s.Stage(bytes.NewReader(v), int64(len(v)))
				if err == nil {
					s.PutStaged(k, st, nil)
					st.Discard()
				}
			default:
				s.Put(k, randomBytes(rng.IntN(40000), uint64(i)), nil)
			}
			if i%50 == 0 {
				if err := s.Compact(); err != nil {
					errc <- fmt.Errorf("Compact: %w", err)
					return
				}
			}
		}
	}()
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.DiskBytes-int64(st.Segments)*disk.SegmentHeaderSize != st.LiveBytes+st.DeadBytes {
		t.Errorf("disk %d in %d segments; live %d + dead %d", st.DiskBytes, st.Segments, st.LiveBytes, st.DeadBytes)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = disk.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for k, v := range vals {
		got, err := s.Get(k, nil)
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("reopened: %q: %d bytes, %v", k, len(got), err)
		}
	}
}
