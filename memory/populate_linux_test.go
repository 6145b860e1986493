package memory_test

import (
	"errors"
	"testing"

	"github.com/tiermem/tiermem/internal/procstatus"
	"github.com/tiermem/tiermem/memory"
)

// TestPopulateFaultsPagesIn: Populate charges the pages of its range to
// the process at once (RssAnon grows by them before any is written), only
// those, and they still read as zero and take writes; a range outside the
// memory is ErrInvalidSize and a closed handle ErrClosed.
func TestPopulateFaultsPagesIn(t *testing.T) {
	const size, n = 64 << 20, 16 << 20
	h, err := memory.Reserve(size)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	rss := func() int64 {
		v, err := procstatus.Bytes("RssAnon")
		if err != nil {
			t.Skip(err)
		}
		return v[0]
	}
	before := rss()
	if err := h.Populate(8<<20, n); err != nil {
		t.Fatal(err)
	}
	grew := rss() - before
	if grew < n*3/4 || grew > n+8<<20 {
		t.Errorf("Populate of %d MiB grew RssAnon by %d KiB", n>>20, grew>>10)
	}
	w := h.Writable()
	for _, off := range []int64{8 << 20, 8<<20 + n - 1, 0, size - 1} {
		if got := w.GetUint8(off); got != 0 {
			t.Errorf("byte %d = %#x after Populate, want 0", off, got)
		}
		w.PutUint8(off, 7)
		if got := w.GetUint8(off); got != 7 {
			t.Errorf("byte %d = %#x after a write, want 7", off, got)
		}
	}
	if err := h.Populate(size-10, 11); !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("Populate past the end = %v, want ErrInvalidSize", err)
	}
	if err := h.Populate(-1, 1); !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("Populate at -1 = %v, want ErrInvalidSize", err)
	}
	if err := h.Populate(size-1, 1); err != nil {
		t.Errorf("Populate of the last byte: %v", err)
	}
	h.Close()
	if err := h.Populate(0, 1); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("Populate after Close = %v, want ErrClosed", err)
	}
}
