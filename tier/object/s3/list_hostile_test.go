package s3_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
)

// TestHostileOpenListsPastOnePage: Open finds every pack of a store of
// more objects than one ListObjectsV2 page holds (1,000), on the real
// server: all 700 keys in 700 packs come back, the last pages' included,
// not only the first page's.
func TestHostileOpenListsPastOnePage(t *testing.T) {
	mem := object.NewMem()
	opts := &object.Options{PackSize: 4 << 10, Compression: object.NoCompression,
		Retries: 2, Backoff: time.Millisecond, RequestTimeout: 5 * time.Second}
	st, err := object.Open(mem, opts)
	if err != nil {
		t.Fatal(err)
	}
	const keys = 700 // a pack each: 1,400 objects
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range keys {
		v := make([]byte, 4<<10)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		if _, err := st.Put(fmt.Sprint("key-", i), v, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	bk := s3test.Open(t, s3test.URL(t))
	ctx := context.Background()
	type obj struct {
		name string
		data []byte
	}
	objs := make(chan obj)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for o := range objs {
				if err := bk.Put(ctx, o.name, o.data); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var names []string
	if err := mem.List(ctx, "", func(name string, _ int64) error { names = append(names, name); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := mem.Get(ctx, name, 0, size(t, mem, name))
		if err != nil {
			t.Fatal(err)
		}
		objs <- obj{name, b}
	}
	close(objs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	re, err := object.Open(bk, opts)
	if err != nil {
		t.Fatalf("Open over %d objects: %v", len(names), err)
	}
	defer re.Close()
	if n := re.Len(); n != keys {
		t.Errorf("Open over %d objects found %d keys, want %d", len(names), n, keys)
	}
	packs, err := re.Packs()
	if err != nil || len(packs) != len(names)/2 {
		t.Errorf("Packs: %d, %v; want %d", len(packs), err, len(names)/2)
	}
}

func size(t *testing.T, b object.Bucket, name string) int64 {
	t.Helper()
	n := int64(-1)
	if err := b.List(context.Background(), name, func(listed string, sz int64) error {
		if listed == name {
			n = sz
		}
		return nil
	}); err != nil || n < 0 {
		t.Fatalf("size of %s: %d, %v", name, n, err)
	}
	return n
}
