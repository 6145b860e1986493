package memory_test

import (
	"errors"
	"os"
	"testing"

	"github.com/tiermem/tiermem/memory"
)

// TestPopulateFaultsPagesIn: Populate makes the pages of its range resident
// at once (before any is written), only those, and they still read as zero
// and take writes; a range outside the memory is ErrInvalidSize and a closed
// handle ErrClosed. Residency is asked of the kernel for the range itself
// (mincore): the process's RssAnon moves with the collector's and other
// tests' memory too, and a loaded machine made it miss by a few MiB.
func TestPopulateFaultsPagesIn(t *testing.T) {
	const size, n = 64 << 20, 16 << 20
	h, err := memory.Reserve(size)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	all, err := memory.Slice[byte](h.Writable().ReadOnly(), 0, size)
	if err != nil {
		t.Fatal(err)
	}
	resident := func(b []byte) int64 {
		vec := make([]byte, (len(b)+os.Getpagesize()-1)/os.Getpagesize())
		if err := memory.Mincore(b, vec); err != nil {
			t.Skip(err)
		}
		pages := int64(0)
		for _, v := range vec {
			pages += int64(v & 1)
		}
		return pages * int64(os.Getpagesize())
	}
	if err := h.Populate(8<<20, n); err != nil {
		t.Fatal(err)
	}
	if in := resident(all[8<<20 : 8<<20+n]); in < n {
		t.Errorf("Populate of %d MiB made %d KiB of its range resident", n>>20, in>>10)
	}
	if out := resident(all[:8<<20]) + resident(all[8<<20+n:]); out > 2<<20 {
		t.Errorf("Populate of %d MiB made %d KiB outside its range resident", n>>20, out>>10)
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
