//go:build linux

package bundle_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/procstatus"
)

// rssFile returns the bytes of file-backed pages mapped in the process.
func rssFile(t *testing.T) int64 {
	t.Helper()
	v, err := procstatus.Bytes("RssFile")
	if err != nil {
		t.Skip(err)
	}
	return v[0]
}

// TestReleaseBehindBoundsResidentMemory reads a 256 MiB bundle whole with
// Verify and All and checks that, with ReleaseBehind, the file's pages
// mapped in the process stay near 64 MiB rather than the file's size, and
// that every value read (kept across releases) is still right.
func TestReleaseBehindBoundsResidentMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 256 MiB")
	}
	path := filepath.Join(t.TempDir(), "big.bundle")
	b, err := bundle.NewBuilder(path, &bundle.Options{Streamed: true})
	if err != nil {
		t.Fatal(err)
	}
	value := make([]byte, 1<<20)
	for i := range 256 {
		value[0], value[len(value)-1] = byte(i), byte(i)
		if err := b.Add([]byte(strconv.Itoa(i)), value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	bd := open(t, path)
	bd.ReleaseBehind()
	base := rssFile(t)
	peak := int64(0)
	if err := bd.Verify(); err != nil {
		t.Fatal(err)
	}
	peak = max(peak, rssFile(t)-base)
	var kept [][]byte
	for r, err := range bd.All() {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, r.Value)
		peak = max(peak, rssFile(t)-base)
	}
	for _, v := range kept {
		if v[0] != v[len(v)-1] || !bytes.Equal(v[1:len(v)-1], value[1:len(v)-1]) {
			t.Fatal("a value read before a release reads other bytes after it")
		}
	}
	if peak > 100<<20 {
		t.Fatalf("%d MiB of the file resident at the peak, want about 64", peak>>20)
	}
	t.Logf("peak file-backed RSS above the start: %d MiB of a 256 MiB file", peak>>20)
}

// TestReleaseBehindUnderConcurrentReads runs several All passes (each
// releasing the mapping's pages as it goes) beside goroutines doing Gets,
// and checks that every value read, before or after any release, is the
// one added.
func TestReleaseBehindUnderConcurrentReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.bundle")
	b, err := bundle.NewBuilder(path, &bundle.Options{Streamed: true})
	if err != nil {
		t.Fatal(err)
	}
	valueOf := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 256<<10) }
	const n = 512 // 128 MiB: two releases a pass
	for i := range n {
		if err := b.Add([]byte(strconv.Itoa(i)), valueOf(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	bd := open(t, path)
	bd.ReleaseBehind()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 2 {
		wg.Go(func() {
			for r, err := range bd.All() {
				i, _ := strconv.Atoi(string(r.Key))
				if err != nil || !bytes.Equal(r.Value, valueOf(i)) {
					errs <- fmt.Errorf("All: key %q: %d bytes, %v", r.Key, len(r.Value), err)
					return
				}
			}
		})
	}
	for g := range 2 {
		wg.Go(func() {
			for i := g; i < n; i += 2 {
				v, err := bd.Get([]byte(strconv.Itoa(i)))
				if err != nil || !bytes.Equal(v, valueOf(i)) {
					errs <- fmt.Errorf("Get(%d): %d bytes, %v", i, len(v), err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
