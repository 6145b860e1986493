package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
)

// hostileValue is the value of key: about 1 KB, different for every key,
// and found verbatim in a pack stored without compression.
func hostileValue(key string) []byte {
	return []byte(strings.Repeat(fmt.Sprintf("<%s>", key), 1000/(len(key)+2)))
}

// hostileS3Manager opens a Manager over a fresh S3 prefix whose glacier
// values are stored raw, in small packs; it is closed when the test ends.
func hostileS3Manager(t *testing.T) (*tiermem.Manager, object.Bucket, string) {
	t.Helper()
	url := s3test.URL(t)
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 1 << 20}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{URL: url, Object: &object.Options{PackSize: 64 << 10,
			Compression: object.NoCompression, Retries: 1, Backoff: time.Millisecond, RequestTimeout: 5 * time.Second}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, s3test.Open(t, url), url
}

// packObjects lists the pack objects of the bucket with their sizes,
// oldest first.
// uploadToGlacier stores n keys prefix0.. into glacier and uploads them
// with a pass.
func uploadToGlacier(t *testing.T, m *tiermem.Manager, prefix string, n int) {
	t.Helper()
	for i := range n {
		key := fmt.Sprint(prefix, i)
		if err := m.Store(key, hostileValue(key), tiermem.InTier(tiermem.Glacier)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Migrate(); err != nil {
		t.Fatal(err)
	}
}

// onePack stores n keys prefix0.. into glacier, uploads them with a pass,
// and returns the one pack they make (its name and size, in slices as
// packObjects returns them).
func onePack(t *testing.T, m *tiermem.Manager, bk object.Bucket, prefix string, n int) ([]string, []int64) {
	t.Helper()
	uploadToGlacier(t, m, prefix, n)
	names, sizes := packObjects(t, bk)
	if len(names) != 1 {
		t.Fatalf("packs: %v", names)
	}
	return names, sizes
}

func packObjects(t *testing.T, bk object.Bucket) (names []string, sizes []int64) {
	t.Helper()
	err := bk.List(context.Background(), "pack/", func(name string, size int64) error {
		if strings.HasSuffix(name, ".pack") {
			names, sizes = append(names, name), append(sizes, size)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names, sizes
}

// flipIn flips one bit of object name, in the middle of the first place
// that holds needle, writing the object back through the S3 API.
func flipIn(t *testing.T, bk object.Bucket, name string, size int64, needle []byte) {
	t.Helper()
	ctx := context.Background()
	b, err := bk.Get(ctx, name, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, needle)
	if i < 0 {
		t.Fatalf("%s does not hold the value to damage", name)
	}
	b[i+len(needle)/2] ^= 0x04
	if err := bk.Put(ctx, name, b); err != nil {
		t.Fatal(err)
	}
}

// TestGlacierHostileBitFlipOnS3: a bit flipped in a pack object in the
// bucket makes that key's read ErrCorrupt, naming the key and the pack,
// never other bytes; the other values of the pack still read; and
// VerifyGlacier reports ErrCorrupt naming the pack.
func TestGlacierHostileBitFlipOnS3(t *testing.T) {
	m, bk, _ := hostileS3Manager(t)
	for i := range 10 {
		key := fmt.Sprint("flip", i)
		if err := m.Store(key, hostileValue(key), tiermem.InTier(tiermem.Glacier)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Migrate(); err != nil { // uploads the open pack
		t.Fatal(err)
	}
	names, sizes := packObjects(t, bk)
	if len(names) != 1 {
		t.Fatalf("packs: %v", names)
	}
	flipIn(t, bk, names[0], sizes[0], hostileValue("flip3"))
	got, err := m.Retrieve("flip3")
	if !errors.Is(err, tiermem.ErrCorrupt) || !strings.Contains(err.Error(), `"flip3"`) || !strings.Contains(err.Error(), names[0]) {
		t.Fatalf("Retrieve of a flipped value: %d bytes, %v; want ErrCorrupt naming the key and %s", len(got), err, names[0])
	}
	for i := range 10 {
		if key := fmt.Sprint("flip", i); i != 3 {
			if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, hostileValue(key)) {
				t.Fatalf("%s, next to the damaged value: %d bytes, %v", key, len(got), err)
			}
		}
	}
	if err := m.VerifyGlacier(); !errors.Is(err, tiermem.ErrCorrupt) || !strings.Contains(err.Error(), names[0]) {
		t.Fatalf("VerifyGlacier: %v; want ErrCorrupt naming %s", err, names[0])
	}
}

// TestGlacierHostileBitFlipInDeadFrameBlocksCompaction: a bit flipped in
// the frame of a value deleted long ago (no read can reach it) must not
// stop compaction: the pack's live values each verify on their own and
// can be copied out, and the other sparse packs compacted. Compact reads
// each sparse pack whole and fails the whole pass at the first frame that
// does not verify, so CompactGlacier (and every migration pass) fails
// from then on, and no later pack is ever compacted.
func TestGlacierHostileBitFlipInDeadFrameBlocksCompaction(t *testing.T) {
	m, bk, _ := hostileS3Manager(t)
	var live []string
	for _, prefix := range []string{"a", "b"} { // two packs, each uploaded by a pass
		for i := range 40 {
			key := fmt.Sprint(prefix, i)
			if err := m.Store(key, hostileValue(key), tiermem.InTier(tiermem.Glacier)); err != nil {
				t.Fatal(err)
			}
			if i >= 32 {
				live = append(live, key)
			}
		}
		if err := m.Migrate(); err != nil {
			t.Fatal(err)
		}
	}
	names, sizes := packObjects(t, bk)
	if len(names) != 2 {
		t.Fatalf("packs: %v", names)
	}
	for _, prefix := range []string{"a", "b"} { // both packs now 20% live
		for i := range 32 {
			if err := m.Delete(fmt.Sprint(prefix, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	flipIn(t, bk, names[0], sizes[0], hostileValue("a5")) // a5 is deleted: nothing reads it
	if err := m.CompactGlacier(); err != nil {
		t.Errorf("CompactGlacier with a bit flipped in a deleted value's frame: %v", err)
	}
	if err := m.Migrate(); err != nil {
		t.Errorf("a migration pass after it: %v", err)
	}
	packs, err := m.GlacierPacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packs {
		if p.Name == names[0] || p.Name == names[1] {
			t.Errorf("after CompactGlacier, %s is still there at %.0f%% live", p.Name, 100*p.LiveShare)
		}
	}
	for _, key := range live {
		if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, hostileValue(key)) {
			t.Fatalf("%s: %d bytes, %v", key, len(got), err)
		}
	}
}

// TestGlacierHostileVerifyReadsIndexes: VerifyGlacier is documented to
// check "every index against its pack"; an index object damaged in the
// bucket (one bit) must be reported, wrapping ErrCorrupt and naming it,
// before the next Open finds it (and has to scan the whole pack, or
// fails to open if that pack does not verify either). Verify compares
// each pack with the entries loaded at Open and never reads an index
// object, so it reports a healthy bucket.
func TestGlacierHostileVerifyReadsIndexes(t *testing.T) {
	m, bk, _ := hostileS3Manager(t)
	for i := range 10 {
		key := fmt.Sprint("idx", i)
		if err := m.Store(key, hostileValue(key), tiermem.InTier(tiermem.Glacier)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Migrate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var idx string
	var size int64
	err := bk.List(ctx, "pack/", func(name string, n int64) error {
		if strings.HasSuffix(name, ".idx") {
			idx, size = name, n
		}
		return nil
	})
	if err != nil || idx == "" {
		t.Fatalf("no index object: %v", err)
	}
	flipIn(t, bk, idx, size, []byte("idx7"))
	if err := m.VerifyGlacier(); !errors.Is(err, tiermem.ErrCorrupt) || !strings.Contains(err.Error(), idx) {
		t.Fatalf("VerifyGlacier with a bit flipped in %s: %v; want ErrCorrupt naming it", idx, err)
	}
}
