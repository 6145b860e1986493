package cluster_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/cluster"
)

// openNear opens a Manager (closed at the test's end) and two clients of
// 64 KiB chunks: near, with the Manager as its near cache under prefix, and
// other, without one.
func openNear(t *testing.T, prefix string) (m *tiermem.Manager, near, other *cluster.Cluster) {
	t.Helper()
	m, err := tiermem.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	near = open(t, cluster.Options{ChunkSize: 64 << 10, NearCache: m, NearPrefix: prefix})
	other = open(t, cluster.Options{ChunkSize: 64 << 10})
	return m, near, other
}

// TestNearCache checks that a near cache serves reads without the chunks,
// and never serves a value another client has replaced.
func TestNearCache(t *testing.T) {
	ctx := context.Background()
	m, near, other := openNear(t, "near/")
	v1 := pattern(1<<20, 1)
	if err := near.Store(ctx, "cached", v1); err != nil {
		t.Fatal(err)
	}
	// Remove the chunks behind the cache's back: a read that still succeeds
	// was served by the near cache.
	for _, k := range chunkKeys(t, "cached") {
		if err := raw(t).Del(ctx, k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := near.Retrieve(ctx, "cached"); err != nil || !bytes.Equal(got, v1) {
		t.Fatalf("near hit: %v", err)
	}
	if _, err := other.Retrieve(ctx, "cached"); err == nil {
		t.Fatal("a client without near cache read a value whose chunks are gone")
	}
	v2 := pattern(1<<20, 2)
	if err := other.Store(ctx, "cached", v2); err != nil {
		t.Fatal(err)
	}
	if got, err := near.Retrieve(ctx, "cached"); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("after another client replaced the value, the near client read %d bytes, %v", len(got), err)
	}
	if err := near.Delete(ctx, "cached"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Retrieve("near/cached"); err == nil {
		t.Fatal("Delete left the near copy")
	}
}
