package memory_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/tiermem/tiermem/memory"
)

// TestCopyOverlapsLikeMemmove copies ranges larger than one chunk forwards and
// backwards within one memory and compares with Go's copy.
func TestCopyOverlapsLikeMemmove(t *testing.T) {
	const size = 5<<20 + 123
	h, err := memory.Allocate(size)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := h.Writable()
	model := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range model {
		model[i] = byte(rng.Uint32())
	}
	w.PutBytes(0, model)
	for _, c := range []struct{ dst, src, n int64 }{
		{1000, 0, 3<<20 + 7},  // forward overlap: dst after src
		{0, 777, 4<<20 + 1},   // dst before src
		{10, 10, 1 << 20},     // same range
		{2 << 20, 0, 2 << 20}, // adjacent, no overlap
		{5, 3, 10},            // small
	} {
		memory.Copy(w, c.dst, w.ReadOnly(), c.src, c.n)
		copy(model[c.dst:c.dst+c.n], model[c.src:c.src+c.n])
		if !bytes.Equal(w.Bytes(0, size), model) {
			t.Fatalf("Copy(dst %d, src %d, n %d) differs from copy()", c.dst, c.src, c.n)
		}
	}
}

func TestCopyBetweenBackings(t *testing.T) {
	b := backings(t, 4096)
	b["heap"].Fill(0, 4096, 0xab)
	memory.Copy(b["offheap"], 1, b["heap"].ReadOnly(), 0, 4095)
	memory.Copy(b["file"], 0, b["offheap"].ReadOnly(), 0, 4096)
	if b["file"].GetUint8(0) != 0 || b["file"].GetUint8(1) != 0xab || b["file"].GetUint8(4095) != 0xab {
		t.Error("copy across heap, off-heap and file memory lost bytes")
	}
}

func TestFillClearCompare(t *testing.T) {
	w := memory.Wrap(make([]byte, 3<<20))
	w.Fill(5, 3<<20-10, 7)
	if w.GetUint8(4) != 0 || w.GetUint8(5) != 7 || w.GetUint8(3<<20-6) != 7 || w.GetUint8(3<<20-5) != 0 {
		t.Error("Fill wrote outside or short of its range")
	}
	other := memory.Wrap(bytes.Repeat([]byte{7}, 3<<20))
	if got := w.Compare(5, 100, other.ReadOnly(), 0, 100); got != 0 {
		t.Errorf("equal ranges compare %d", got)
	}
	if got := w.Compare(5, 100, other.ReadOnly(), 0, 101); got != -1 {
		t.Errorf("shorter prefix compares %d, want -1", got)
	}
	if got := w.Compare(0, 100, other.ReadOnly(), 0, 100); got != -1 {
		t.Errorf("0 < 7 compares %d, want -1", got)
	}
	if got := other.Compare(0, 3<<20-10, w.ReadOnly(), 5, 3<<20-10); got != 0 {
		t.Errorf("multi-chunk equal ranges compare %d", got)
	}
	w.Clear(0, w.Size())
	if !w.Equal(memory.Wrap(make([]byte, 3<<20)).ReadOnly()) {
		t.Error("Clear left non-zero bytes")
	}
	if w.Region(0, 1).Equal(w.Region(0, 2).ReadOnly()) {
		t.Error("views of different sizes are Equal")
	}
}

func TestHashIsXXHash64(t *testing.T) {
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i * 31)
	}
	w := memory.Wrap(data)
	for _, r := range [][2]int64{{0, 0}, {0, 1}, {3, 1000}, {0, int64(len(data))}, {1, 2<<20 + 5}} {
		if got, want := w.Hash(r[0], r[1]), xxhash.Sum64(data[r[0]:r[0]+r[1]]); got != want {
			t.Errorf("Hash(%d, %d) = %x, want %x", r[0], r[1], got, want)
		}
	}
}

func TestBits(t *testing.T) {
	w := memory.Wrap(make([]byte, 4))
	for _, i := range []int64{0, 7, 8, 31} {
		w.SetBit(i)
	}
	if got := w.GetUint32(0); got != 1|1<<7|1<<8|1<<31 {
		t.Errorf("bits set: %#x", got)
	}
	w.ClearBit(7)
	if w.Bit(7) || !w.Bit(8) || w.Bit(9) {
		t.Error("Bit disagrees with SetBit/ClearBit")
	}
}

func TestHexDump(t *testing.T) {
	w := memory.Wrap([]byte("0123456789abcdefXY\x00"))
	got := w.HexDump(1, 18)
	want := "00000001  31 32 33 34 35 36 37 38  39 61 62 63 64 65 66 58  |123456789abcdefX|\n" +
		"00000011  59 00                                             |Y.|\n"
	if !strings.HasSuffix(got, want) || !strings.HasPrefix(got, "memory(19 bytes") {
		t.Errorf("HexDump:\n%s\nwant suffix:\n%s", got, want)
	}
}

func TestReadOnlyViewHasNoWriteMethods(t *testing.T) {
	var m any = memory.Wrap(make([]byte, 8)).ReadOnly()
	if _, ok := m.(interface{ PutInt64(int64, int64) }); ok {
		t.Error("a Memory can be written")
	}
}

func TestSliceSharesMemory(t *testing.T) {
	h, err := memory.Allocate(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := h.Writable()
	s, err := memory.Slice[float64](w.ReadOnly(), 8, 10)
	if err != nil {
		t.Fatal(err)
	}
	w.PutFloat64(16, 2.5)
	if len(s) != 10 || s[1] != 2.5 {
		t.Errorf("slice sees %v", s[:2])
	}
	if _, err := memory.Slice[int64](w.ReadOnly(), 4, 1); err == nil {
		t.Error("misaligned slice accepted")
	}
	if _, err := memory.Slice[int64](w.WithOrder(memory.BigEndian).ReadOnly(), 0, 1); err == nil {
		t.Error("slice of a byte-swapped view accepted")
	}
	mustPanic(t, memory.ErrOutOfRange, func() { memory.Slice[int64](w.ReadOnly(), 8, 512) })
	mustPanic(t, memory.ErrOutOfRange, func() { memory.Slice[int64](w.ReadOnly(), 0, -1) })
}
