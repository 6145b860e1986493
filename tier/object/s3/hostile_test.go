package s3_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
)

var hostileOptions = &object.Options{PackSize: 16 << 10, Compression: object.ZstdFastest,
	Retries: 2, Backoff: time.Millisecond, RequestTimeout: 2 * time.Second}

// TestLostIndex: on the real server, a pack whose index was deleted is
// scanned at Open, every value comes back, and the index is rewritten.
func TestLostIndex(t *testing.T) {
	bk := s3test.Open(t, s3test.URL(t))
	st, err := object.Open(bk, hostileOptions)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := range 100 {
		k, v := fmt.Sprint("k", i), strings.Repeat(fmt.Sprint(i, " "), 100+i*10)
		if _, err := st.Put(k, []byte(v), []byte(k)); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	idx := objects(t, bk, ".idx")
	if err := bk.Delete(ctx, idx[0]); err != nil {
		t.Fatal(err)
	}
	if st, err = object.Open(bk, hostileOptions); err != nil {
		t.Fatalf("Open with an index deleted: %v", err)
	}
	defer st.Close()
	for k, v := range want {
		got, meta, err := st.GetMeta(k, nil)
		if err != nil || string(got) != v || string(meta) != k {
			t.Fatalf("%s after the index was rebuilt: %d bytes, %v", k, len(got), err)
		}
	}
	if again := objects(t, bk, ".idx"); len(again) != len(idx) {
		t.Fatalf("%d indexes after reopening, %d before the delete: the index was not rewritten", len(again), len(idx))
	}
}

// TestNoBucket: a bucket that does not exist fails Open with
// ErrNoBucket, at once, naming the bucket.
func TestNoBucket(t *testing.T) {
	ep := s3test.Endpoint(t)
	u := fmt.Sprintf("s3://tiermem-missing-%d/x?endpoint=%s&region=us-east-1&path-style=true", os.Getpid(), ep)
	start := time.Now()
	_, err := object.Open(s3test.Open(t, u), hostileOptions)
	if !errors.Is(err, object.ErrNoBucket) || !strings.Contains(err.Error(), "tiermem-missing") {
		t.Fatalf("Open of a missing bucket = %v; want ErrNoBucket naming it", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Open of a missing bucket took %v: it was retried", d)
	}
}

// objects lists the bucket's objects whose names end in suffix.
func objects(t *testing.T, bk object.Bucket, suffix string) []string {
	t.Helper()
	var names []string
	err := bk.List(context.Background(), "pack/", func(name string, _ int64) error {
		if strings.HasSuffix(name, suffix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil || len(names) == 0 {
		t.Fatalf("listing %s objects: %d, %v", suffix, len(names), err)
	}
	return names
}
