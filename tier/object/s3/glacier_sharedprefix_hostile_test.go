package s3_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/object"
)

// TestGlacierHostileTwoManagersOnOnePrefix: two Managers given the same S3
// URL for glacier (a copied config). The first uploads a pack; the second,
// opened after it, uploads its own: its pack takes the next number, as the
// first's next pack does, and whichever comes second is refused by the
// server (If-None-Match: *) with ErrExists, naming the sharing; nothing the
// first acknowledged is overwritten. Before, the second's pack replaced the
// first's and the first's values of it read as corrupt.
func TestGlacierHostileTwoManagersOnOnePrefix(t *testing.T) {
	first, _, url := hostileS3Manager(t)
	uploadToGlacier(t, first, "first-a", 5)
	second, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{URL: url, Object: &object.Options{PackSize: 64 << 10,
			Compression: object.NoCompression, Retries: 1, Backoff: time.Millisecond, RequestTimeout: 5 * time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	uploadToGlacier(t, first, "first-b", 5) // the first's pack 2
	for i := range 5 {
		key := fmt.Sprint("second-", i)
		if err := second.Store(key, hostileValue(key), tiermem.InTier(tiermem.Glacier)); err != nil {
			t.Fatal(err)
		}
	}
	err = second.Migrate()
	if err == nil {
		err = second.Close() // its last upload
	}
	t.Logf("the second Manager: %v", err)
	if !errors.Is(err, object.ErrExists) {
		t.Errorf("the second Manager's upload over the first's pack: %v, want ErrExists", err)
	}
	for _, prefix := range []string{"first-a", "first-b"} {
		for i := range 5 {
			key := fmt.Sprint(prefix, i)
			if v, err := first.Retrieve(key); err != nil || string(v) != string(hostileValue(key)) {
				t.Errorf("the first Manager's %s after the second's upload: %d bytes, %v", key, len(v), err)
			}
		}
	}
}
