package s3_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestGlacierHostileTruncatedPackIsCorrupt: a pack object cut short in
// the bucket (rewritten with its first half) is damage: reads of the
// values past the cut, and VerifyGlacier, must say ErrCorrupt naming the
// pack (as Open does for the same bucket: the index's pack length
// disagrees with the listing, the scan fails). A short or out-of-range
// ranged GET is taken for a transient failure instead, retried, and
// reported as ErrUnavailable, "store unavailable after 2 attempts" (before
// the fix): the user was told to wait for a store that is up, and
// VerifyGlacier stopped at the first such pack without naming any damage.
func TestGlacierHostileTruncatedPackIsCorrupt(t *testing.T) {
	m, bk, _ := hostileS3Manager(t)
	names, sizes := onePack(t, m, bk, "t", 20)
	ctx := context.Background()
	b, err := bk.Get(ctx, names[0], 0, sizes[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := bk.Put(ctx, names[0], b[:len(b)/2]); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"t12", "t19"} { // past the cut, straddling it or beyond it
		_, err := m.Retrieve(key)
		if !errors.Is(err, tiermem.ErrCorrupt) || errors.Is(err, tiermem.ErrUnavailable) || !strings.Contains(err.Error(), names[0]) {
			t.Errorf("Retrieve %s from a pack cut in half: %v; want ErrCorrupt naming %s", key, err, names[0])
		}
	}
	if err := m.VerifyGlacier(); !errors.Is(err, tiermem.ErrCorrupt) || errors.Is(err, tiermem.ErrUnavailable) {
		t.Errorf("VerifyGlacier with a pack cut in half: %v; want ErrCorrupt naming %s", err, names[0])
	}
}
