// Package buckettest checks that an object.Bucket keeps the contract its
// doc states, from each implementation's tests:
//
//	func TestBucket(t *testing.T) {
//		buckettest.Run(t, func(t *testing.T) object.Bucket { return object.NewMem() })
//	}
//
// open must return an empty bucket (or an empty prefix of one).
package buckettest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier/object"
)

// Run runs every check, each on a bucket open returns.
func Run(t *testing.T, open func(t *testing.T) object.Bucket) {
	t.Run("PutGet", func(t *testing.T) { putGet(t, open(t)) })
	t.Run("Ranges", func(t *testing.T) { ranges(t, open(t)) })
	t.Run("Missing", func(t *testing.T) { missing(t, open(t)) })
	t.Run("List", func(t *testing.T) { list(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { deleting(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { concurrent(t, open(t)) })
	t.Run("Canceled", func(t *testing.T) { canceled(t, open(t)) })
	t.Run("CreateObject", func(t *testing.T) { creating(t, open(t)) })
}

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantGet checks that n bytes of name from off are want.
func wantGet(t *testing.T, b object.Bucket, name string, off, n int64, want []byte) {
	t.Helper()
	got, err := b.Get(ctx, name, off, n)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get(%q, %d, %d) = %q, %v; want %q", name, off, n, got, err, want)
	}
}

// putGet: an object reads back whole, a Put replaces it, the caller's
// buffer is not retained, and an empty object exists.
func putGet(t *testing.T, b object.Bucket) {
	data := []byte("hello, glacier")
	must(t, b.Put(ctx, "pack/a.pack", data))
	data[0] = 'X' // Put must have copied or written it
	wantGet(t, b, "pack/a.pack", 0, 14, []byte("hello, glacier"))
	must(t, b.Put(ctx, "pack/a.pack", []byte("replaced")))
	wantGet(t, b, "pack/a.pack", 0, 8, []byte("replaced"))
	must(t, b.Put(ctx, "empty", nil))
	wantGet(t, b, "empty", 0, 0, []byte{})
	if b.String() == "" {
		t.Error("String is empty")
	}
}

// ranges: every range of an object reads its bytes.
func ranges(t *testing.T, b object.Bucket) {
	data := make([]byte, 10000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	must(t, b.Put(ctx, "r", data))
	for _, r := range [][2]int64{{0, 1}, {0, 10000}, {9999, 1}, {4096, 4096}, {1, 9998}, {5000, 0}} {
		wantGet(t, b, "r", r[0], r[1], data[r[0]:r[0]+r[1]])
	}
	if got, err := b.Get(ctx, "r", 9990, 20); err == nil {
		t.Errorf("Get past the end returned %d bytes without error", len(got))
	}
}

// missing: a missing object's Get wraps ErrNotExist.
func missing(t *testing.T, b object.Bucket) {
	if _, err := b.Get(ctx, "pack/none", 0, 10); !errors.Is(err, object.ErrNotExist) {
		t.Fatalf("Get of a missing object = %v, want ErrNotExist", err)
	}
}

// list: List finds exactly the objects under a prefix, with their sizes.
func list(t *testing.T, b object.Bucket) {
	want := map[string]int64{"pack/1.pack": 3, "pack/1.idx": 1, "pack/sub/2.pack": 5}
	for name, n := range want {
		must(t, b.Put(ctx, name, bytes.Repeat([]byte{'x'}, int(n))))
	}
	must(t, b.Put(ctx, "other/3.pack", []byte("no")))
	must(t, b.Put(ctx, "packs", []byte("no")))
	got := map[string]int64{}
	must(t, b.List(ctx, "pack/", func(name string, size int64) error { got[name] = size; return nil }))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("List(pack/) = %v, want %v", got, want)
	}
	var names []string
	must(t, b.List(ctx, "pack/1", func(name string, _ int64) error { names = append(names, name); return nil }))
	sort.Strings(names)
	if fmt.Sprint(names) != "[pack/1.idx pack/1.pack]" {
		t.Fatalf("List(pack/1) = %v", names)
	}
	must(t, b.List(ctx, "nothing/", func(name string, _ int64) error { return fmt.Errorf("listed %q", name) }))
	stop := errors.New("stop")
	if err := b.List(ctx, "pack/", func(string, int64) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("List returned %v, want fn's error", err)
	}
}

// deleting: a deleted object is gone; deleting it again succeeds.
func deleting(t *testing.T, b object.Bucket) {
	must(t, b.Put(ctx, "pack/d", []byte("x")))
	must(t, b.Delete(ctx, "pack/d"))
	if _, err := b.Get(ctx, "pack/d", 0, 1); !errors.Is(err, object.ErrNotExist) {
		t.Fatalf("Get after Delete = %v, want ErrNotExist", err)
	}
	must(t, b.Delete(ctx, "pack/d"))
	must(t, b.List(ctx, "pack/", func(name string, _ int64) error { return fmt.Errorf("listed %q after Delete", name) }))
}

// concurrent: goroutines replacing one object and reading it see a whole
// version, never a mix.
func concurrent(t *testing.T, b object.Bucket) {
	versions := [][]byte{bytes.Repeat([]byte{'a'}, 64<<10), bytes.Repeat([]byte{'b'}, 64<<10)}
	must(t, b.Put(ctx, "c", versions[0]))
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := range 20 {
				if err := b.Put(ctx, "c", versions[(g+i)%2]); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				got, err := b.Get(ctx, "c", 0, 64<<10)
				if err != nil || !(bytes.Equal(got, versions[0]) || bytes.Equal(got, versions[1])) {
					t.Errorf("Get while Puts replace the object: %d bytes, %v, a mix of versions", len(got), err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// canceled: a request under a canceled context fails.
func canceled(t *testing.T, b object.Bucket) {
	c, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Put(c, "x", []byte("x")); err == nil {
		t.Error("Put under a canceled context succeeded")
	}
	if _, err := b.Get(c, "x", 0, 1); err == nil {
		t.Error("Get under a canceled context succeeded")
	}
}

// creating: a Bucket that is an ObjectCreator stores a new name, refuses
// a taken one with ErrExists and keeps the object there, and of eight
// CreateObjects of one name at once exactly one succeeds (its bytes are
// what reads back).
func creating(t *testing.T, b object.Bucket) {
	c, ok := b.(object.ObjectCreator)
	if !ok {
		t.Skip("not an ObjectCreator")
	}
	must(t, c.CreateObject(ctx, "pack/new.pack", []byte("first")))
	wantGet(t, b, "pack/new.pack", 0, 5, []byte("first"))
	if err := c.CreateObject(ctx, "pack/new.pack", []byte("second")); !errors.Is(err, object.ErrExists) {
		t.Errorf("CreateObject of a taken name: %v, want ErrExists", err)
	}
	wantGet(t, b, "pack/new.pack", 0, 5, []byte("first"))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = c.CreateObject(ctx, "pack/race.pack", []byte(fmt.Sprintf("writer-%d", i))) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("writers %d and %d both created the object", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, object.ErrExists):
			t.Errorf("writer %d: %v, want nil or ErrExists", i, err)
		}
	}
	if won >= 0 {
		wantGet(t, b, "pack/race.pack", 0, 8, []byte(fmt.Sprintf("writer-%d", won)))
	} else {
		t.Error("no writer created the object")
	}
}
