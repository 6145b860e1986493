package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// boundaryKeys: keys at and around every keyedN boundary, each sharing a
// prefix with its neighbours so that a wrong length or a wrong copy shows.
func boundaryKeys() []string {
	var keys []string
	for _, n := range []int{1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 4096, disk.MaxKeyLen} {
		b := bytes.Repeat([]byte{'k'}, n)
		keys = append(keys, string(b))
		b[n-1] = 'z'
		keys = append(keys, string(b))
		if n > 1 {
			b[0] = 0 // a NUL byte in the key
			keys = append(keys, string(b))
		}
	}
	return keys
}

func boundaryValue(key string, v int) []byte {
	return []byte(fmt.Sprintf("%d/%d/%x;%s", len(key), v, key[len(key)-1], strings.Repeat("v", v%97)))
}

// TestIndexKeyBoundaries: keys of every boundary length, stored from a
// buffer the caller then overwrites, rewritten, deleted, compacted away
// (tombstones dropped), stored again, reopened and crashed: every Get is
// right and every key string handed out earlier (Scan, Oldest,
// WrittenBefore) keeps its bytes.
func TestIndexKeyBoundaries(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 8 << 10, CompactThreshold: -1}
	s := openStore(t, dir, opts)
	keys := boundaryKeys()
	model := map[string][]byte{}
	type held struct{ s, want string }
	var handed []held
	hold := func(k string) { handed = append(handed, held{k, strings.Clone(k)}) }
	check := func(stage string) {
		t.Helper()
		for _, h := range handed {
			if h.s != h.want {
				t.Fatalf("%s: a key handed out earlier changed: %q... (len %d) now %q...", stage, h.want[:min(20, len(h.want))], len(h.want), h.s[:min(20, len(h.s))])
			}
		}
		for _, k := range keys {
			got, err := s.Get(k, nil)
			want, ok := model[k]
			if ok != (err == nil) || ok && !bytes.Equal(got, want) || !ok && !errors.Is(err, tier.ErrNotFound) {
				t.Fatalf("%s: Get(len %d, last %x) = %q, %v; want %q, %v", stage, len(k), k[len(k)-1], got, err, want, ok)
			}
		}
		seen := map[string]int{}
		if err := s.Scan(func(k string, meta []byte, _ int64) error {
			seen[strings.Clone(k)]++
			if string(meta) != fmt.Sprint(len(k)) {
				return fmt.Errorf("meta of key of len %d = %q", len(k), meta)
			}
			hold(k)
			return nil
		}); err != nil {
			t.Fatalf("%s: Scan: %v", stage, err)
		}
		if len(seen) != len(model) {
			t.Fatalf("%s: Scan saw %d keys, want %d", stage, len(seen), len(model))
		}
		for k, n := range seen {
			if _, ok := model[k]; !ok || n != 1 {
				t.Fatalf("%s: Scan saw key len %d %d times, in model %v", stage, len(k), n, ok)
			}
		}
		if k, ok := s.Oldest(1<<20, nil); ok {
			hold(k)
		}
		s.WrittenBefore(s.LastSeq()+1, func(k string, _ []byte) bool { hold(k); return true })
		if s.Len() != int64(len(model)) {
			t.Fatalf("%s: Len %d, want %d", stage, s.Len(), len(model))
		}
	}
	put := func(k string, v int) {
		t.Helper()
		buf := []byte(k)
		val := boundaryValue(k, v)
		mustPut(t, s, unsafe.String(&buf[0], len(buf)), val, []byte(fmt.Sprint(len(k))))
		for i := range buf {
			buf[i] = '#'
		}
		model[k] = val
	}
	del := func(k string) {
		t.Helper()
		buf := []byte(k)
		if _, err := s.Delete(unsafe.String(&buf[0], len(buf))); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		for i := range buf {
			buf[i] = '#'
		}
		delete(model, k)
	}
	for i, k := range keys {
		put(k, i)
	}
	check("first puts")
	for i, k := range keys {
		put(k, i+1000)
	}
	check("rewrites")
	for i, k := range keys {
		if i%2 == 0 {
			del(k)
		}
	}
	check("deletes")
	for range 3 {
		if err := s.Compact(); err != nil {
			t.Fatal(err)
		}
	}
	check("compacted")
	for i, k := range keys {
		if i%2 == 0 {
			put(k, i+2000)
		}
	}
	check("stored again")
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	check("compacted again")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	check("reopened")
	for i, k := range keys {
		if i%3 == 0 {
			del(k)
		} else {
			put(k, i+3000)
		}
	}
	crash(t, s)
	s = openStore(t, dir, opts)
	check("crashed")
	runtimeGC()
	check("after GC")
}

// TestIndexUnderConcurrentReaders: Put/Delete/Compact racing Scan, Oldest,
// WrittenBefore and Get on boundary-length keys; every key string handed out
// is one of the keys and keeps its bytes. Run with -race.
func TestIndexUnderConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 16 << 10, CompactThreshold: 0.2}
	s := openStore(t, dir, opts)
	var keys []string
	for _, k := range boundaryKeys() {
		if len(k) <= 4096 {
			keys = append(keys, k)
		}
	}
	valid := map[string]bool{}
	for _, k := range keys {
		valid[k] = true
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
		stop.Store(true)
	}
	type held struct{ s, want string }
	var mu sync.Mutex
	var handed []held
	hold := func(k string) {
		if !valid[k] {
			fail(fmt.Errorf("handed out a key that was never stored: len %d", len(k)))
			return
		}
		mu.Lock()
		if len(handed) < 200000 {
			handed = append(handed, held{k, strings.Clone(k)})
		}
		mu.Unlock()
	}
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := 0; !stop.Load(); i++ {
				k := keys[r.IntN(len(keys))]
				if r.IntN(3) == 0 {
					if _, err := s.Delete(k); err != nil && !errors.Is(err, tier.ErrNotFound) {
						fail(err)
					}
				} else if _, err := s.Put(k, boundaryValue(k, i), []byte(fmt.Sprint(len(k)))); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if err := s.Compact(); err != nil {
				fail(err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for !stop.Load() {
			s.Scan(func(k string, meta []byte, _ int64) error {
				if string(meta) != fmt.Sprint(len(k)) {
					fail(fmt.Errorf("Scan: meta %q for key of len %d", meta, len(k)))
				}
				hold(k)
				return nil
			})
			if k, ok := s.Oldest(16, func(k string, meta []byte) bool {
				if string(meta) != fmt.Sprint(len(k)) {
					fail(fmt.Errorf("Oldest: meta %q for key of len %d", meta, len(k)))
				}
				return false
			}); ok {
				hold(k)
			}
			s.WrittenBefore(s.LastSeq(), func(k string, meta []byte) bool {
				if string(meta) != fmt.Sprint(len(k)) {
					fail(fmt.Errorf("WrittenBefore: meta %q for key of len %d", meta, len(k)))
				}
				hold(k)
				return true
			})
			for _, k := range keys {
				v, err := s.Get(k, nil)
				if err == nil && !bytes.HasPrefix(v, []byte(fmt.Sprintf("%d/", len(k)))) {
					fail(fmt.Errorf("Get(len %d) = %q", len(k), v[:min(len(v), 30)]))
				}
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	runtimeGC()
	for _, h := range handed {
		if h.s != h.want {
			t.Fatalf("a key handed out changed: len %d", len(h.want))
		}
	}
	t.Logf("%d keys handed out, %d compactions", len(handed), s.Stats().Compactions)
	final := map[string][]byte{}
	for _, k := range keys {
		if v, err := s.Get(k, nil); err == nil {
			final[k] = v
		}
	}
	if int64(len(final)) != s.Len() {
		t.Fatalf("Len %d, Get finds %d", s.Len(), len(final))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	for _, k := range keys {
		v, err := s.Get(k, nil)
		if want, ok := final[k]; ok != (err == nil) || !bytes.Equal(v, want) {
			t.Fatalf("reopen: key len %d: %d bytes, %v; want %d bytes, %v", len(k), len(v), err, len(want), ok)
		}
	}
}

func runtimeGC() { runtime.GC(); runtime.GC() }
