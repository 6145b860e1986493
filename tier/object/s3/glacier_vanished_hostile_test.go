package s3_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestGlacierHostileVanishedPackIsCorrupt: a pack object deleted from the
// bucket behind the Manager's back (its index left in place: what Open
// calls "an index that names a pack the bucket does not hold", a
// *CorruptError) makes the reads of its values fail with ErrCorrupt naming
// the key and the pack, and VerifyGlacier report ErrCorrupt naming the
// pack. Both returned (before the fix) an error wrapping none of the Manager's sentinels
// (neither ErrCorrupt, nor ErrNotFound, nor ErrUnavailable): a caller that
// sorts errors by errors.Is cannot tell a value lost from any other
// failure, and `glacier verify` does not call the loss damage.
func TestGlacierHostileVanishedPackIsCorrupt(t *testing.T) {
	m, bk, _ := hostileS3Manager(t)
	names, _ := onePack(t, m, bk, "g", 10)
	if err := bk.Delete(context.Background(), names[0]); err != nil {
		t.Fatal(err)
	}
	_, err := m.Retrieve("g3")
	if !errors.Is(err, tiermem.ErrCorrupt) || !strings.Contains(err.Error(), `"g3"`) || !strings.Contains(err.Error(), names[0]) {
		t.Errorf("Retrieve of a value whose pack vanished from the bucket: %v; want ErrCorrupt naming the key and %s", err, names[0])
	}
	if err := m.VerifyGlacier(); !errors.Is(err, tiermem.ErrCorrupt) || !strings.Contains(err.Error(), names[0]) {
		t.Errorf("VerifyGlacier with a pack gone from the bucket: %v; want ErrCorrupt naming %s", err, names[0])
	}
}
