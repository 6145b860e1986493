package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// checkVersioned fails unless value is valueOf(key, v) for the v it names.
func checkVersioned(key string, value []byte) error {
	prefix, _, ok := strings.Cut(string(value[:min(len(value), 64)]), ";")
	k, vs, ok2 := strings.Cut(prefix, "/")
	v, err := strconv.Atoi(vs)
	if !ok || !ok2 || k != key || err != nil || !bytes.Equal(value, valueOf(key, v)) {
		return fmt.Errorf("%q holds %d bytes that no Put stored", key, len(value))
	}
	return nil
}

// TestConcurrentOperations runs Put, Get, View, Delete, Scan, Compact and
// Reserve together with background compaction, under each sync mode (group commit
// with SyncAlways, reads from the write buffer with SyncNone); run it with
// -race. Every read must return a value some Put stored under that key.
func TestConcurrentOperations(t *testing.T) {
	for _, mode := range []disk.SyncMode{disk.SyncAlways, disk.SyncNone} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			opts := &disk.Options{Sync: mode, SegmentSize: 32 << 10, CompactThreshold: 0.3}
			s := openStore(t, dir, opts)
			runConcurrently(t, s, 400*time.Millisecond)
			final := snapshot(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openStore(t, dir, opts)
			if got := snapshot(t, s); len(got) != len(final) {
				t.Fatalf("reopen holds %d keys, closed with %d", len(got), len(final))
			} else {
				for k, v := range final {
					if !bytes.Equal(got[k], v) {
						t.Fatalf("%q changed across reopen", k)
					}
				}
			}
		})
	}
}

func runConcurrently(t *testing.T, s *disk.Store, d time.Duration) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	var version atomic.Int64
	errs := make(chan error, 100)
	key := func(r *rand.Rand) string { return fmt.Sprint("key", r.IntN(64)) }
	worker := func(seed uint64, op func(r *rand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, seed))
			for !stop.Load() {
				if err := op(r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 4 {
		worker(uint64(i), func(r *rand.Rand) error {
			k := key(r)
			_, err := s.Put(k, valueOf(k, int(version.Add(1))), []byte(k))
			return err
		})
	}
	worker(10, func(r *rand.Rand) error {
		_, err := s.Delete(key(r))
		return ignoreNotFound(err)
	})
	worker(11, func(r *rand.Rand) error {
		k := key(r)
		v, err := s.Get(k, nil)
		if err != nil {
			return ignoreNotFound(err)
		}
		return checkVersioned(k, v)
	})
	worker(12, func(r *rand.Rand) error {
		k := key(r)
		return ignoreNotFound(s.View(k, func(v []byte) error { return checkVersioned(k, v) }))
	})
	worker(13, func(r *rand.Rand) error {
		return s.Scan(func(k string, meta []byte, _ int64) error {
			if string(meta) != k {
				return fmt.Errorf("meta of %q is %q", k, meta)
			}
			return nil
		})
	})
	worker(14, func(r *rand.Rand) error {
		time.Sleep(20 * time.Millisecond)
		return s.Compact()
	})
	worker(15, func(r *rand.Rand) error { // the index's maps remade under the others
		time.Sleep(time.Millisecond)
		s.Reserve(r.IntN(1 << 12))
		return nil
	})
	// Run for d at least, and on past it until compaction has run at least
	// twice over many writes: a slow disk (fsyncs of 100 ms and more on a
	// loaded CI machine) can leave d with a handful of writes.
	exercised := func() bool {
		st := s.Stats()
		return st.Compactions >= 2 && st.Writes >= 100
	}
	time.Sleep(d)
	for deadline := time.Now().Add(60 * time.Second); !exercised() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !exercised() {
		t.Errorf("in a minute the run did not exercise compaction and writes: %+v", s.Stats())
	}
}

func ignoreNotFound(err error) error {
	if errors.Is(err, tier.ErrNotFound) {
		return nil
	}
	return err
}

// snapshot reads every key of s.
func snapshot(t *testing.T, s *disk.Store) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := s.Scan(func(k string, _ []byte, _ int64) error {
		v, err := s.Get(k, nil)
		m[k] = v
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGroupCommit checks that concurrent SyncAlways writers share fsyncs.
func TestGroupCommit(t *testing.T) {
	s := openStore(t, "", &disk.Options{Sync: disk.SyncAlways})
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("w%d-%d", w, i)
				if _, err := s.Put(key, valueOf(key, 0), nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	t.Logf("%d writes in %d commits with %d fsyncs", st.Writes, st.Commits, st.Fsyncs)
	if st.Writes != writers*each || st.Fsyncs >= st.Writes*3/4 {
		t.Fatalf("%d writers shared no fsyncs: %+v", writers, st)
	}
}
