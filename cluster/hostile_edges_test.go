package cluster_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/cluster"
	"github.com/tiermem/tiermem/tier/object"
)

// hostileInlineArrayManifest returns a well-formed manifest (valid checksum,
// the layout of docs/distributed.md) of an inline array of dtype and shape
// holding data.
func hostileInlineArrayManifest(dtype uint8, shape []uint64, data []byte) []byte {
	le := binary.LittleEndian
	b := []byte("TMCM")
	b = append(b, 1, 1, dtype, 1) // version 1, kind array, aux dtype, flags inline
	b = le.AppendUint64(b, 0xfeedface)
	b = le.AppendUint64(b, uint64(time.Now().UnixNano()))
	b = le.AppendUint64(b, uint64(len(data)))
	b = le.AppendUint32(b, 4<<20)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, uint32(len(shape)))
	for _, d := range shape {
		b = le.AppendUint64(b, d)
	}
	b = append(b, data...)
	return le.AppendUint64(b, xxh3.Hash(b))
}

// TestHostileRetrieveArrayInconsistentShape: a manifest that passes its
// checksum but whose dtype and shape do not describe its bytes (a buggy or
// foreign writer, or a forgery: XXH3 is no MAC) — a dimension past int, an
// unknown dtype, 8 bytes for 3 float64s — is ErrCorrupt from RetrieveArray,
// never an Array that tiermem.Array.Validate refuses, which a caller indexing
// Data by Shape would panic on.
func TestHostileRetrieveArrayInconsistentShape(t *testing.T) {
	c := open(t, cluster.Options{})
	ctx := context.Background()
	r := raw(t)
	cases := []struct {
		name  string
		dtype uint8
		shape []uint64
		data  []byte
	}{
		{"3 float64 in 8 bytes", uint8(tiermem.Float64), []uint64{3}, make([]byte, 8)},
		{"dimension 2^63 (negative int)", uint8(tiermem.Float64), []uint64{1 << 63, 0}, nil},
		{"unknown dtype 200", 200, []uint64{8}, make([]byte, 8)},
	}
	for _, tc := range cases {
		key := "hostile/shape/" + tc.name
		if err := r.Set(ctx, cluster.ManifestKey(key), hostileInlineArrayManifest(tc.dtype, tc.shape, tc.data), 0).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Del(context.Background(), cluster.ManifestKey(key)) })
		a, err := c.RetrieveArray(ctx, key)
		if err == nil {
			t.Errorf("%s: RetrieveArray returned an array Validate refuses (%v) with a nil error; want ErrCorrupt",
				tc.name, a.Validate())
			continue
		}
		if !errors.Is(err, cluster.ErrCorrupt) {
			t.Errorf("%s: RetrieveArray: %v, want ErrCorrupt", tc.name, err)
		}
	}
}

// TestHostileSpilledObjectTruncatedIsCorrupt: a spilled value whose object
// was cut short (a damaged disk, a partial copy between buckets) reads
// ErrCorrupt, as a short chunk in Redis does, not an I/O error of the bucket.
func TestHostileSpilledObjectTruncatedIsCorrupt(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	bucket, err := object.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, cluster.Options{ChunkSize: 64 << 10, Glacier: bucket, GlacierPrefix: "hostile-trunc/"})
	key := "hostile/spill-truncated"
	fillMasters(t)
	val := pattern(32<<20, 11)
	if err := c.Store(ctx, key, val); err != nil {
		t.Fatalf("Store with spill: %v", err)
	}
	t.Cleanup(func() { c.Delete(context.Background(), key) })
	files := objectFiles(t, root)
	if len(files) != 1 {
		t.Fatalf("objects after the spill: %v", files)
	}
	if err := os.Truncate(files[0], int64(len(val))-1000); err != nil {
		t.Fatal(err)
	}
	got, err := c.Retrieve(ctx, key)
	if !errors.Is(err, cluster.ErrCorrupt) || got != nil {
		t.Fatalf("Retrieve of a spilled value whose object lost its last 1000 bytes: %d bytes, %v; want ErrCorrupt", len(got), err)
	}
}

// TestHostileSweepDuringFailedStoreKeepsPrevious: "On an error the previous
// value stays readable" (Store), and Sweep "may run while others use the
// cluster". A Store whose manifest is in place but not yet acknowledged (a
// replica down) makes the previous value's chunks look orphaned; a Sweep then
// must keep them, since the Store fails and puts the previous manifest back.
// The Store lasts less than Sweep's grace, as the docs require.
func TestHostileSweepDuringFailedStoreKeepsPrevious(t *testing.T) {
	defer healthy(t)
	ctx := context.Background()
	const grace = 2 * time.Second
	c := open(t, cluster.Options{ChunkSize: 64 << 10, ReplicationFactor: 2,
		WaitTimeout: 50 * time.Millisecond, RetryTimeout: 1500 * time.Millisecond})
	key := "hostile/sweep-rollback"
	prev := pattern(1<<20, 21) // 16 chunks
	if err := c.Store(ctx, key, prev); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Delete(context.Background(), key) })
	time.Sleep(grace + 1200*time.Millisecond) // the previous value's chunks are older than grace
	hostileKillReplicaOf(t, cluster.ManifestKey(key))
	done := make(chan error, 1)
	go func() { done <- c.Store(ctx, key, []byte("a small value never acknowledged")) }()
	time.Sleep(400 * time.Millisecond)
	st, serr := c.Sweep(ctx, grace)
	storeErr := <-done
	t.Logf("Sweep: %+v, %v; Store: %v", st, serr, storeErr)
	if storeErr == nil || strings.Contains(storeErr.Error(), "may be visible") {
		t.Skip("not the interleaving this test needs")
	}
	got, err := c.Retrieve(ctx, key)
	if err != nil || !bytes.Equal(got, prev) {
		t.Fatalf("Store failed (%v) while a Sweep (grace %v, longer than the Store) ran; the previous value now reads %d bytes, %v",
			storeErr, grace, len(got), err)
	}
}

// TestHostileNearCopyOutlivesDelete: a Retrieve of the same client running
// beside a Delete never puts the deleted value back into the near cache,
// where it would hold the value's bytes in the local Manager for ever.
func TestHostileNearCopyOutlivesDelete(t *testing.T) {
	ctx := context.Background()
	m, near, other := openNear(t, "hostile/")
	key := "hostile/near-delete"
	val := pattern(2<<20, 31)
	for try := range 200 {
		if err := other.Store(ctx, key, val); err != nil { // a new generation: the near client misses
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var rerr, derr error
		wg.Go(func() { _, rerr = near.Retrieve(ctx, key) })
		time.Sleep(time.Duration(try%8) * time.Millisecond)
		derr = near.Delete(ctx, key)
		wg.Wait()
		if derr != nil {
			t.Fatalf("Delete: %v", derr)
		}
		if _, err := near.Retrieve(ctx, key); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("after Delete: %v", err)
		}
		if left, err := m.Retrieve("hostile/" + key); err == nil {
			t.Fatalf("try %d: Delete returned nil, the Retrieve beside it (%v) put a %d-byte near copy of the deleted value back; it stays in the Manager", try, rerr, len(left))
		}
	}
}

// TestHostileSweepNegativeGrace: a negative grace (a typo in `tiermem
// cluster sweep --grace=-10m`, a computed duration gone below zero) is
// ErrOptions: taken as given, it removed the chunks of a Store in progress,
// which then returned nil while its value read ErrCorrupt.
func TestHostileSweepNegativeGrace(t *testing.T) {
	ctx := context.Background()
	c := open(t, cluster.Options{ChunkSize: 64 << 10, Streams: 1})
	key := "hostile/negative-grace"
	val := pattern(48<<20, 51)
	t.Cleanup(func() { c.Delete(context.Background(), key) })
	for try := range 3 {
		done := make(chan error, 1)
		go func() { done <- c.Store(ctx, key, val) }()
		time.Sleep(30 * time.Millisecond)
		st, serr := c.Sweep(ctx, -time.Hour)
		storeErr := <-done
		if serr == nil && st.Orphans == 0 {
			t.Logf("try %d: the Sweep ran after the Store (%+v)", try, st)
			continue
		}
		if serr != nil {
			return // refused: fine
		}
		got, err := c.Retrieve(ctx, key)
		if storeErr == nil && (err != nil || !bytes.Equal(got, val)) {
			t.Fatalf("Sweep(-1h) beside a running Store removed %d of its chunks (%+v); the Store returned nil, the value reads %v",
				st.Orphans, st, err)
		}
	}
}

// TestHostileLongKeyChunkNames: a value costs its bytes plus about 100 bytes
// of key names per chunk whatever its key's length: a key of MaxKeyLen names
// its chunks by a digest, not by its hex (which made the names of 64 KiB
// chunks half the value's size again, on every replica and in every client's
// memory). Sweep still finds the orphans of such a key, and keeps its live
// chunks.
func TestHostileLongKeyChunkNames(t *testing.T) {
	ctx := context.Background()
	c := open(t, cluster.Options{ChunkSize: 64 << 10})
	key := strings.Repeat("k", cluster.MaxKeyLen)
	val := pattern(4<<20, 61) // 64 chunks
	if err := c.Store(ctx, key, val); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Delete(context.Background(), key) })
	keys := chunkKeys(t, key)
	names := 0
	for _, k := range keys {
		names += len(k)
	}
	if len(keys) != 64 {
		t.Fatalf("%d chunks, want 64", len(keys))
	}
	if perKey := names / len(keys); perKey > 100 {
		t.Fatalf("the %d chunk keys' names take %d bytes (%d each, %.0f%% of the %d-byte value): not ~100 bytes of overhead per chunk",
			len(keys), names, perKey, 100*float64(names)/float64(len(val)), len(val))
	}
	// An orphan of the key (its generation field changed: same slot) goes
	// in a Sweep; the live chunks, named by digest, stay.
	parts := strings.Split(keys[0], ":")
	parts[len(parts)-3] = "1"
	orphan := strings.Join(parts, ":")
	r := raw(t)
	if err := r.Set(ctx, orphan, "orphan", 0).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // grace counts whole seconds
	if _, err := c.Sweep(ctx, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Exists(ctx, orphan).Result(); err != nil || n != 0 {
		t.Errorf("the orphan chunk %q of a long key is left after a Sweep (%d, %v)", orphan, n, err)
	}
	if got, err := c.Retrieve(ctx, key); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Retrieve of the long key after a Sweep: %v", err)
	}
}

// TestHostileRetrieveBatchesByReaderChunkSize: a Retrieve's pipelines carry
// at most 16 MiB of chunks of the value's own chunk size, whatever the
// reader's Options.ChunkSize: sized by a 64 KiB reader's, a 4 MiB-chunk
// value went 256 chunks, a master's whole share, to a pipeline. WithProgress
// reports each pipeline's bytes.
func TestHostileRetrieveBatchesByReaderChunkSize(t *testing.T) {
	ctx := context.Background()
	writer := open(t, cluster.Options{}) // 4 MiB chunks
	reader := open(t, cluster.Options{ChunkSize: 64 << 10, Streams: 1})
	key := "hostile/reader-chunk-size"
	val := pattern(64<<20, 71) // 16 chunks over 3 masters: one has at least 6
	if err := writer.Store(ctx, key, val); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Delete(context.Background(), key) })
	got, largest, err := retrieveLargestPipeline(ctx, reader, key)
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Retrieve: %v", err)
	}
	if largest > 16<<20 {
		t.Fatalf("one pipeline carried %d MiB of chunks, over the documented 16 MiB", largest>>20)
	}
}

// retrieveLargestPipeline retrieves key through c and returns, with the
// value, the most bytes one pipeline carried (WithProgress reports each
// pipeline's bytes).
func retrieveLargestPipeline(ctx context.Context, c *cluster.Cluster, key string) ([]byte, int64, error) {
	var mu sync.Mutex
	largest := int64(0)
	got, err := c.Retrieve(cluster.WithProgress(ctx, func(n int64) {
		mu.Lock()
		largest = max(largest, n)
		mu.Unlock()
	}), key)
	mu.Lock()
	defer mu.Unlock()
	return got, largest, err
}

// TestHostileBigChunkPipelines: with chunks over 16 MiB (ChunkSize may be up
// to 32 MiB) a pipeline carries one chunk, as Options.Streams says: never
// more than max(16 MiB, chunk size).
func TestHostileBigChunkPipelines(t *testing.T) {
	ctx := context.Background()
	c := open(t, cluster.Options{ChunkSize: 32 << 20, Streams: 1})
	key := "hostile/big-chunks"
	val := pattern(64<<20, 72)
	if err := c.Store(ctx, key, val); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Delete(context.Background(), key) })
	_, largest, err := retrieveLargestPipeline(ctx, c, key)
	if err != nil {
		t.Fatal(err)
	}
	if largest > 32<<20 {
		t.Fatalf("ChunkSize 32 MiB: one pipeline carried %d MiB, over the documented max(16 MiB, chunk size)", largest>>20)
	}
}

// TestHostileSpilledObjectLeaksOnReplace: a client without Options.Glacier
// may replace or delete a spilled value (only readers need the bucket); its
// object is then left, as Options.Glacier says, to the Sweep of a client
// that has the bucket, which removes it once it is older than the grace.
func TestHostileSpilledObjectLeaksOnReplace(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	bucket, err := object.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	g := open(t, cluster.Options{ChunkSize: 64 << 10, Glacier: bucket, GlacierPrefix: "hostile-leak/"})
	plain := open(t, cluster.Options{ChunkSize: 64 << 10})
	fillMasters(t)
	for _, op := range []string{"replace", "delete"} {
		key := "hostile/spill-leak-" + op
		if err := g.Store(ctx, key, pattern(32<<20, 81)); err != nil {
			t.Fatalf("Store with spill: %v", err)
		}
		if n := len(objectFiles(t, root)); n != 1 {
			t.Fatalf("%d objects after the spill", n)
		}
		if op == "replace" {
			err = plain.Store(ctx, key, []byte("small"))
		} else {
			err = plain.Delete(ctx, key)
		}
		if err != nil {
			t.Fatalf("%s of a spilled value by a client without Glacier: %v", op, err)
		}
		if n := len(objectFiles(t, root)); n != 1 {
			t.Fatalf("%s by a client without Glacier: %d objects, want the spilled one, left for Sweep", op, n)
		}
		time.Sleep(1100 * time.Millisecond) // grace counts whole seconds: the object and the change are older than 1 ms
		if _, err := g.Sweep(ctx, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if left := objectFiles(t, root); len(left) != 0 {
			t.Errorf("after the %s and a Sweep by a client with the bucket, the object is left: %v", op, left)
		}
		g.Delete(ctx, key)
	}
}

// TestHostileSpillLongKey: a key of any accepted length spills: its object
// is named by a digest of the key, not its hex (a 200-byte key made a
// 400-byte path element, past every Linux file system's 255; S3 allows 1024
// bytes of name in all), and reads back.
func TestHostileSpillLongKey(t *testing.T) {
	ctx := context.Background()
	bucket, err := object.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, cluster.Options{ChunkSize: 64 << 10, Glacier: bucket, GlacierPrefix: "hostile-long/"})
	fillMasters(t)
	key := "hostile/" + strings.Repeat("x", 193) // 200 bytes
	val := pattern(32<<20, 91)
	if err := c.Store(ctx, key, val); err != nil {
		t.Fatalf("Store of a 200-byte key on a full cluster, with Glacier: %v", err)
	}
	t.Cleanup(func() { c.Delete(context.Background(), key) })
	if got, err := c.Retrieve(ctx, key); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Retrieve: %v", err)
	}
}

// TestHostileNearCopyKeptAfterSeenDeleted: once a Retrieve has seen that
// another client deleted a value (ErrNotFound), or replaced it with an inline
// one, the near copy goes: it would otherwise hold the whole value in the
// local Manager for ever unless the key were stored again.
func TestHostileNearCopyKeptAfterSeenDeleted(t *testing.T) {
	ctx := context.Background()
	m, near, other := openNear(t, "hostile/")
	key := "hostile/near-seen-deleted"
	if err := near.Store(ctx, key, pattern(2<<20, 101)); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := near.Retrieve(ctx, key); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("Retrieve after another client's Delete: %v", err)
	}
	if left, err := m.Retrieve("hostile/" + key); err == nil {
		t.Fatalf("Retrieve said ErrNotFound, the %d-byte near copy of the deleted value stays in the Manager", len(left))
	}
}
