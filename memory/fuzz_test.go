package memory_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/tiermem/tiermem/memory"
)

// FuzzOperationsMatchSliceModel runs a random program of operations on
// off-heap memory and on a plain []byte, and requires the same results: the
// same values read, the same bytes afterwards, and a panic wrapping
// ErrOutOfRange (with nothing written) exactly when the model is out of range.
func FuzzOperationsMatchSliceModel(f *testing.F) {
	f.Add([]byte{64, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3})
	f.Add([]byte{16, 5, 2, 9, 6, 0, 0, 9, 60, 1, 250, 4, 7, 7, 3})
	f.Add([]byte{200, 8, 10, 100, 50, 7, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, program []byte) {
		if len(program) == 0 {
			return
		}
		size := int64(program[0]) + 1
		h, err := memory.Allocate(size)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		m := &model{t: t, w: h.Writable(), all: h.Writable(), data: make([]byte, size), size: size}
		for p := program[1:]; len(p) >= 3; p = p[3:] {
			m.step(p[0], int64(int8(p[1])), int64(p[2]))
		}
	})
}

// model mirrors a view (a window [off, off+size) of data, in an order) onto
// a slice.
type model struct {
	t         *testing.T
	w, all    memory.WritableMemory
	data      []byte
	off, size int64
	big       bool
}

func (m *model) order() binary.ByteOrder {
	if m.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (m *model) in(off, n int64) bool { return off >= 0 && n >= 0 && off+n <= m.size }

// step runs operation op with arguments a (may be negative) and b.
func (m *model) step(op byte, a, b int64) {
	value := uint64(b)*0x9e3779b97f4a7c15 + uint64(a)
	switch op % 12 {
	case 0:
		m.expect(8, a, func() { m.w.PutUint64(a, value) }, func(s []byte) { m.order().PutUint64(s, value) })
	case 1:
		m.read(8, a, func() uint64 { return m.w.GetUint64(a) }, func(s []byte) uint64 { return m.order().Uint64(s) })
	case 2:
		m.expect(4, a, func() { m.w.PutUint32(a, uint32(value)) }, func(s []byte) { m.order().PutUint32(s, uint32(value)) })
	case 3:
		m.read(4, a, func() uint64 { return uint64(m.w.GetUint32(a)) }, func(s []byte) uint64 { return uint64(m.order().Uint32(s)) })
	case 4:
		m.expect(2, a, func() { m.w.PutUint16(a, uint16(value)) }, func(s []byte) { m.order().PutUint16(s, uint16(value)) })
	case 5:
		m.expect(1, a, func() { m.w.PutUint8(a, uint8(value)) }, func(s []byte) { s[0] = uint8(value) })
	case 6:
		m.region(a, b%(m.size+2))
	case 7:
		m.big = !m.big
		m.w = m.w.WithOrder(map[bool]memory.Order{false: memory.LittleEndian, true: memory.BigEndian}[m.big])
	case 8:
		n := b % 17
		m.expect(n, a, func() { m.w.Fill(a, n, byte(b)) }, func(s []byte) {
			for i := range s {
				s[i] = byte(b)
			}
		})
	case 9:
		m.copy(a, b)
	case 10:
		m.read(b%9, a, func() uint64 { return m.w.Hash(a, b%9) }, func(s []byte) uint64 { return xxhash.Sum64(s) })
	case 11:
		bit := a*8 + b%8
		m.expect(1, bit>>3, func() { m.w.SetBit(bit) }, func(s []byte) { s[0] |= 1 << (bit & 7) })
	}
	if !bytes.Equal(m.all.Bytes(0, int64(len(m.data))), m.data) {
		m.t.Fatalf("after op %d(%d, %d) memory differs from the model", op%12, a, b)
	}
}

// expect runs write on the memory and apply on the model's n bytes at off,
// or checks that write panics out of range when the model is out of range.
func (m *model) expect(n, off int64, write func(), apply func([]byte)) {
	if !m.in(off, n) {
		m.mustPanic(write)
		return
	}
	write()
	apply(m.data[m.off+off : m.off+off+n])
}

func (m *model) read(n, off int64, get func() uint64, want func([]byte) uint64) {
	if !m.in(off, n) {
		m.mustPanic(func() { get() })
		return
	}
	if got, w := get(), want(m.data[m.off+off:m.off+off+n]); got != w {
		m.t.Fatalf("read of %d bytes at %d = %x, model %x", n, off, got, w)
	}
}

func (m *model) region(off, size int64) {
	if !m.in(off, size) {
		m.mustPanic(func() { m.w.Region(off, size) })
		return
	}
	m.w = m.w.Region(off, size)
	m.off += off
	m.size = size
}

func (m *model) copy(dst, src int64) {
	n := m.size / 3
	if !m.in(dst, n) || !m.in(src, n) {
		m.mustPanic(func() { memory.Copy(m.w, dst, m.w.ReadOnly(), src, n) })
		return
	}
	memory.Copy(m.w, dst, m.w.ReadOnly(), src, n)
	copy(m.data[m.off+dst:m.off+dst+n], m.data[m.off+src:m.off+src+n])
}

func (m *model) mustPanic(f func()) {
	defer func() {
		r := recover()
		if err, ok := r.(error); !ok || !errors.Is(err, memory.ErrOutOfRange) {
			m.t.Fatalf("out-of-range operation: panic %v, want ErrOutOfRange", r)
		}
	}()
	f()
}
