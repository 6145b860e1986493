package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestHostileEveryMethodTogether: every method of Store is safe for
// concurrent use with every other, Close included. It runs them all at
// once under -race (Put, Delete, SetMeta through the copy path,
// PutStaged, Get, ViewStored, OpenRaw+Verify+ReadAt, Scan, Compact, Sync,
// SetSync, ReleaseMapped, Oldest, WrittenBefore, Stats) with background
// compaction and small segments, then closes while they run: every read
// must be a value some put stored, and a reopen must read a stored value
// for every key the closed store held.
func TestHostileEveryMethodTogether(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 16 << 10, CompactThreshold: 0.2, Compression: disk.NoCompression}
	s := openStore(t, dir, opts)
	defer disk.SetCopyBuffered(512)() // SetMeta copies values from segment to segment
	var version atomic.Int64
	var wg sync.WaitGroup
	var stop atomic.Bool
	errs := make(chan error, 64)
	key := func(r *rand.Rand) string { return fmt.Sprint("key", r.IntN(32)) }
	closedOK := func(err error) error {
		if err == nil || errors.Is(err, tier.ErrNotFound) || errors.Is(err, tier.ErrClosed) {
			return nil
		}
		return err
	}
	worker := func(seed uint64, op func(r *rand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, seed))
			for !stop.Load() {
				if err := closedOK(op(r)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 3 {
		worker(uint64(i), func(r *rand.Rand) error {
			k := key(r)
			_, err := s.Put(k, valueOf(k, int(version.Add(1))), []byte(k))
			return err
		})
	}
	worker(3, func(r *rand.Rand) error {
		k := key(r)
		v := valueOf(k, int(version.Add(1)))
		st, err := s.Stage(bytes.NewReader(v), int64(len(v)))
		if err != nil {
			return err
		}
		defer st.Discard()
		_, err = s.PutStaged(k, st, []byte(k))
		return err
	})
	worker(4, func(r *rand.Rand) error {
		_, err := s.Delete(key(r))
		return err
	})
	worker(5, func(r *rand.Rand) error {
		_, err := s.SetMeta(key(r), []byte("x"), 1<<20)
		return err
	})
	worker(6, func(r *rand.Rand) error {
		k := key(r)
		v, err := s.Get(k, nil)
		if err != nil {
			return err
		}
		return checkVersioned(k, v)
	})
	worker(7, func(r *rand.Rand) error {
		k := key(r)
		return s.ViewStored(k, func(v tier.Stored) error {
			if v.Zstd {
				return nil
			}
			return checkVersioned(k, v.Value)
		})
	})
	worker(8, func(r *rand.Rand) error {
		k := key(r)
		v, ok, err := s.OpenRaw(k)
		if err != nil || !ok {
			return err
		}
		defer v.Close()
		time.Sleep(time.Millisecond)
		if err := v.Verify(); err != nil {
			return fmt.Errorf("Verify of %q: %w", k, err)
		}
		b := make([]byte, v.Size())
		if _, err := v.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return checkVersioned(k, b)
	})
	worker(9, func(r *rand.Rand) error {
		time.Sleep(5 * time.Millisecond)
		if err := s.Compact(); err != nil {
			return err
		}
		s.ReleaseMapped()
		return s.Sync()
	})
	worker(10, func(r *rand.Rand) error {
		time.Sleep(7 * time.Millisecond)
		modes := []disk.SyncMode{disk.SyncNone, disk.SyncAlways, disk.SyncEvery(3 * time.Millisecond)}
		return s.SetSync(modes[r.IntN(len(modes))])
	})
	worker(11, func(r *rand.Rand) error {
		s.Oldest(5, nil)
		s.WrittenBefore(s.LastSeq(), func(string, []byte) bool { return true })
		s.Stats()
		return s.Scan(func(k string, meta []byte, _ int64) error {
			if string(meta) != k && string(meta) != "x" {
				return fmt.Errorf("meta of %q is %q", k, meta)
			}
			return nil
		})
	})
	time.Sleep(1500 * time.Millisecond)
	cerr := s.Close() // while every worker runs
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if cerr != nil {
		t.Fatal(cerr)
	}
	s2 := openStore(t, dir, opts)
	if err := s2.Scan(func(k string, _ []byte, _ int64) error {
		v, err := s2.Get(k, nil)
		if err != nil {
			return err
		}
		return checkVersioned(k, v)
	}); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Compactions == 0 {
		t.Errorf("no compaction ran: %+v", st)
	}
}
