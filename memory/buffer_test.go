package memory_test

import (
	"testing"

	"github.com/tiermem/tiermem/memory"
)

func TestBufferWritesAndReadsInSequence(t *testing.T) {
	w := memory.Wrap(make([]byte, 64)).WithOrder(memory.BigEndian)
	b := w.Buffer()
	b.PutUint8(1)
	b.PutInt16(-2)
	b.PutInt32(3)
	b.PutInt64(-4)
	b.PutFloat32(5.5)
	b.PutFloat64(6.25)
	b.PutBool(true)
	b.PutBytes([]byte("ab"))
	b.PutInt64s([]int64{7, 8})
	if b.Position() != 1+2+4+8+4+8+1+2+16 {
		t.Fatalf("position %d after puts", b.Position())
	}
	r := w.ReadOnly().Buffer()
	if r.GetUint8() != 1 || r.GetInt16() != -2 || r.GetInt32() != 3 || r.GetInt64() != -4 ||
		r.GetFloat32() != 5.5 || r.GetFloat64() != 6.25 || !r.GetBool() {
		t.Fatal("relative gets do not return the relative puts")
	}
	two := make([]byte, 2)
	r.GetBytes(two)
	ints := make([]int64, 2)
	r.GetInt64s(ints)
	if string(two) != "ab" || ints[0] != 7 || ints[1] != 8 {
		t.Fatalf("arrays read %q %v", two, ints)
	}
	if r.Remaining() != 64-r.Position() {
		t.Error("Remaining is not End - Position")
	}
}

func TestBufferBounds(t *testing.T) {
	b := memory.Wrap(make([]byte, 16)).Buffer()
	b.SetBounds(4, 6, 10)
	b.PutInt32(1)
	mustPanic(t, memory.ErrOutOfRange, func() { b.PutUint8(1) }) // position 10 = end
	b.Reset()
	if b.Position() != 4 {
		t.Errorf("Reset moved to %d, want start 4", b.Position())
	}
	mustPanic(t, memory.ErrOutOfRange, func() { b.GetInt64() }) // 6 bytes left
	mustPanic(t, memory.ErrOutOfRange, func() { b.SetPosition(3) })
	mustPanic(t, memory.ErrOutOfRange, func() { b.SetBounds(0, 0, 17) })
	mustPanic(t, memory.ErrOutOfRange, func() { b.Skip(-1) })
	b.Skip(6)
	if b.Remaining() != 0 {
		t.Errorf("Remaining %d after skipping to end", b.Remaining())
	}
	if got := b.WritableMemory().GetInt32(6); got != 1 {
		t.Errorf("the put landed at %d", got)
	}
}
