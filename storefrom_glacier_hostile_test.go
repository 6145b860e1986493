package tiermem_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/tiermem/tiermem"
)

// cutStream is a stream that gives its bytes, then fails.
type cutStream struct{ r io.Reader }

func (c *cutStream) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// TestHostileUnsizedStreamOutgrowingColdGoesToGlacier: a stream of unknown
// length larger than the cold tier's whole budget, with a glacier tier,
// is stored in glacier, whole (its staging moves on to glacier's budget);
// one that is cut after it moved on stores nothing. Either way no room
// stays counted as Streaming in any tier, and no staging file is left.
func TestHostileUnsizedStreamOutgrowingColdGoesToGlacier(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 4 << 20}})
	must(t, err)
	defer m.Close()
	value := seededNoise(9<<20, 7)
	if err := m.StoreFrom("big", &pieces{r: bytes.NewReader(value)}, -1); err != nil {
		t.Fatalf("StoreFrom of unknown length, over cold's budget: %v", err)
	}
	v, err := m.OpenValue("big")
	must(t, err)
	got := make([]byte, v.Size())
	v.ReadAt(got, 0)
	v.Close()
	if !bytes.Equal(got, value) || v.Tier() != tiermem.Glacier {
		t.Errorf("%d bytes in %v, want %d in glacier", len(got), v.Tier(), len(value))
	}
	err = m.StoreFrom("cut", &cutStream{&pieces{r: bytes.NewReader(value)}}, -1)
	if err == nil {
		t.Fatal("a cut stream was stored")
	}
	if _, err := m.Retrieve("cut"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Retrieve of the cut stream's key: %v, want ErrNotFound", err)
	}
	for tier, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("tier %v: %d bytes still counted as Streaming", tiermem.Tier(tier), u.Streaming)
		}
	}
	noStagingFiles(t, dir)
}
