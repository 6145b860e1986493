package cluster_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cluster"
	"github.com/tiermem/tiermem/tier/object"
)

// fillMasters sets every master's maxmemory a few megabytes above what it
// uses, and puts it back to unlimited when the test ends.
func fillMasters(t *testing.T) {
	t.Helper()
	masters, err := rc.Masters()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range masters {
		info, err := rc.Info(i, "memory")
		if err != nil {
			t.Fatal(err)
		}
		used, _ := strconv.ParseInt(info["used_memory"], 10, 64)
		if _, err := rc.Do(i, "CONFIG", "SET", "maxmemory", strconv.FormatInt(used+4<<20, 10)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Do(i, "CONFIG", "SET", "maxmemory", "0") })
	}
}

// TestSpillToGlacier fills the cluster: a Store without a glacier bucket
// fails with ErrNoSpace and keeps the previous value; with one, the value
// goes to the bucket, reads back, is checked, and is deleted with its key.
func TestSpillToGlacier(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	bucket, err := object.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	withGlacier := open(t, cluster.Options{ChunkSize: 64 << 10, Glacier: bucket})
	without := open(t, cluster.Options{ChunkSize: 64 << 10})
	old := []byte("the value before the cluster filled up")
	if err := without.Store(ctx, "full", old); err != nil {
		t.Fatal(err)
	}
	fillMasters(t)
	big := pattern(32<<20, 5)
	if err := without.Store(ctx, "full", big); !errors.Is(err, cluster.ErrNoSpace) {
		t.Fatalf("Store on a full cluster without glacier: %v, want ErrNoSpace", err)
	}
	if got, err := without.Retrieve(ctx, "full"); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("the previous value after ErrNoSpace: %q, %v", got, err)
	}
	if err := withGlacier.Store(ctx, "spilled", big); err != nil {
		t.Fatalf("Store with spill: %v", err)
	}
	if got, err := withGlacier.Retrieve(ctx, "spilled"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Retrieve of a spilled value: %d bytes, %v", len(got), err)
	}
	if _, err := without.Retrieve(ctx, "spilled"); !errors.Is(err, cluster.ErrOptions) {
		t.Fatalf("Retrieve of a spilled value without the bucket: %v", err)
	}
	if n := chunkCount(t, "spilled"); n != 0 {
		t.Fatalf("%d chunks left by the refused Store", n)
	}
	objects := objectFiles(t, root)
	if len(objects) != 1 {
		t.Fatalf("objects in the bucket: %v", objects)
	}
	damage(t, objects[0], 3<<20)
	if _, err := withGlacier.Retrieve(ctx, "spilled"); !errors.Is(err, cluster.ErrCorrupt) {
		t.Fatalf("Retrieve of a damaged object: %v", err)
	}
	if err := withGlacier.Delete(ctx, "spilled"); err != nil {
		t.Fatal(err)
	}
	if left := objectFiles(t, root); len(left) != 0 {
		t.Fatalf("Delete left %v", left)
	}
	// An object no manifest names, from 1970: Sweep removes it.
	orphan := "tiermem-cluster/" + hex.EncodeToString([]byte("spilled")) + "/abc-1"
	if err := bucket.Put(ctx, orphan, []byte("left by a crash")); err != nil {
		t.Fatal(err)
	}
	st, err := withGlacier.Sweep(ctx, time.Hour)
	if err != nil || st.Objects != 1 || st.Orphans < 1 {
		t.Fatalf("Sweep: %+v, %v", st, err)
	}
	if left := objectFiles(t, root); len(left) != 0 {
		t.Fatalf("Sweep left %v", left)
	}
}

// objectFiles returns the files under root, the Dir bucket's objects.
func objectFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// damage flips one byte of the file at off.
func damage(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
