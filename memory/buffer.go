package memory

// cursor is the position state that Buffer and WritableBuffer share:
// 0 ≤ start ≤ pos ≤ end ≤ capacity of the view. Relative reads and writes
// happen at pos and advance it; they never pass end.
type cursor struct {
	v               view
	start, pos, end int64
}

// Buffer reads a region positionally: each relative get reads at the position
// and advances it. A Buffer is not safe for concurrent use; make one per
// goroutine (they are cheap). The zero Buffer is empty.
type Buffer struct{ cursor }

// WritableBuffer reads and writes a region positionally. Its relative puts
// write at the position and advance it. Not safe for concurrent use.
type WritableBuffer struct {
	_ writable // makes the type distinct, so a *Buffer cannot be converted to it
	cursor
}

// Buffer returns a buffer over the whole view, with start and position 0 and
// end at the view's size.
func (m Memory) Buffer() *Buffer { return &Buffer{cursor{v: m.view, end: m.size}} }

// Buffer returns a writable buffer over the whole view; see Memory.Buffer.
func (w WritableMemory) Buffer() *WritableBuffer {
	return &WritableBuffer{cursor: cursor{v: w.view, end: w.size}}
}

// Memory returns a read-only view of the buffer's whole capacity.
func (c *cursor) Memory() Memory { return Memory{c.v} }

// Start returns the lowest position relative access may reach.
func (c *cursor) Start() int64 { return c.start }

// Position returns the offset of the next relative access.
func (c *cursor) Position() int64 { return c.pos }

// End returns the offset that relative access may not pass.
func (c *cursor) End() int64 { return c.end }

// Capacity returns the size of the underlying view.
func (c *cursor) Capacity() int64 { return c.v.size }

// Remaining returns End - Position, the bytes left for relative access.
func (c *cursor) Remaining() int64 { return c.end - c.pos }

// SetPosition moves the position; it panics unless Start ≤ pos ≤ End.
func (c *cursor) SetPosition(pos int64) { c.SetBounds(c.start, pos, c.end) }

// SetBounds sets start, position and end at once; it panics unless
// 0 ≤ start ≤ pos ≤ end ≤ Capacity.
func (c *cursor) SetBounds(start, pos, end int64) {
	if start < 0 || pos < start || end < pos || end > c.v.size {
		panic(&AccessError{Op: "buffer bounds", Offset: start, Length: end - start, Capacity: c.v.size, Err: ErrOutOfRange})
	}
	c.start, c.pos, c.end = start, pos, end
}

// Reset moves the position back to Start.
func (c *cursor) Reset() { c.pos = c.start }

// Skip advances the position by n bytes without reading them.
func (c *cursor) Skip(n int64) { c.take(n) }

// take returns the position and advances it by n, panicking if fewer than n
// bytes remain before end.
func (c *cursor) take(n int64) int64 {
	p := c.pos
	if n < 0 || c.end-p < n {
		panic(&AccessError{Op: "buffer", Offset: p, Length: n, Capacity: c.end, Err: ErrOutOfRange})
	}
	c.pos = p + n
	return p
}

// w returns the cursor's view as writable memory; only WritableBuffer calls it.
func (b *WritableBuffer) w() WritableMemory { return WritableMemory{view: b.v} }

// GetInt8 reads an int8 at the position and advances it.
func (c *cursor) GetInt8() int8 { return c.v.GetInt8(c.take(1)) }

// GetUint8 reads a byte at the position and advances it.
func (c *cursor) GetUint8() uint8 { return c.v.GetUint8(c.take(1)) }

// GetBool reads a bool at the position and advances it.
func (c *cursor) GetBool() bool { return c.v.GetBool(c.take(1)) }

// GetInt16 reads an int16 at the position and advances it.
func (c *cursor) GetInt16() int16 { return c.v.GetInt16(c.take(2)) }

// GetUint16 reads a uint16 at the position and advances it.
func (c *cursor) GetUint16() uint16 { return c.v.GetUint16(c.take(2)) }

// GetInt32 reads an int32 at the position and advances it.
func (c *cursor) GetInt32() int32 { return c.v.GetInt32(c.take(4)) }

// GetUint32 reads a uint32 at the position and advances it.
func (c *cursor) GetUint32() uint32 { return c.v.GetUint32(c.take(4)) }

// GetInt64 reads an int64 at the position and advances it.
func (c *cursor) GetInt64() int64 { return c.v.GetInt64(c.take(8)) }

// GetUint64 reads a uint64 at the position and advances it.
func (c *cursor) GetUint64() uint64 { return c.v.GetUint64(c.take(8)) }

// GetFloat32 reads a float32 at the position and advances it.
func (c *cursor) GetFloat32() float32 { return c.v.GetFloat32(c.take(4)) }

// GetFloat64 reads a float64 at the position and advances it.
func (c *cursor) GetFloat64() float64 { return c.v.GetFloat64(c.take(8)) }

// GetComplex64 reads a complex64 at the position and advances it.
func (c *cursor) GetComplex64() complex64 { return c.v.GetComplex64(c.take(8)) }

// GetComplex128 reads a complex128 at the position and advances it.
func (c *cursor) GetComplex128() complex128 { return c.v.GetComplex128(c.take(16)) }

// GetBytes fills dst from the position and advances it by len(dst).
func (c *cursor) GetBytes(dst []byte) { c.v.GetBytes(c.take(int64(len(dst))), dst) }

// GetInt64s fills dst from the position and advances it by 8·len(dst).
func (c *cursor) GetInt64s(dst []int64) { c.v.GetInt64s(c.take(8*int64(len(dst))), dst) }

// GetFloat64s fills dst from the position and advances it by 8·len(dst).
func (c *cursor) GetFloat64s(dst []float64) { c.v.GetFloat64s(c.take(8*int64(len(dst))), dst) }

// PutInt8 writes x at the position and advances it.
func (b *WritableBuffer) PutInt8(x int8) { b.w().PutInt8(b.take(1), x) }

// PutUint8 writes x at the position and advances it.
func (b *WritableBuffer) PutUint8(x uint8) { b.w().PutUint8(b.take(1), x) }

// PutBool writes x at the position and advances it.
func (b *WritableBuffer) PutBool(x bool) { b.w().PutBool(b.take(1), x) }

// PutInt16 writes x at the position and advances it.
func (b *WritableBuffer) PutInt16(x int16) { b.w().PutInt16(b.take(2), x) }

// PutUint16 writes x at the position and advances it.
func (b *WritableBuffer) PutUint16(x uint16) { b.w().PutUint16(b.take(2), x) }

// PutInt32 writes x at the position and advances it.
func (b *WritableBuffer) PutInt32(x int32) { b.w().PutInt32(b.take(4), x) }

// PutUint32 writes x at the position and advances it.
func (b *WritableBuffer) PutUint32(x uint32) { b.w().PutUint32(b.take(4), x) }

// PutInt64 writes x at the position and advances it.
func (b *WritableBuffer) PutInt64(x int64) { b.w().PutInt64(b.take(8), x) }

// PutUint64 writes x at the position and advances it.
func (b *WritableBuffer) PutUint64(x uint64) { b.w().PutUint64(b.take(8), x) }

// PutFloat32 writes x at the position and advances it.
func (b *WritableBuffer) PutFloat32(x float32) { b.w().PutFloat32(b.take(4), x) }

// PutFloat64 writes x at the position and advances it.
func (b *WritableBuffer) PutFloat64(x float64) { b.w().PutFloat64(b.take(8), x) }

// PutComplex64 writes x at the position and advances it.
func (b *WritableBuffer) PutComplex64(x complex64) { b.w().PutComplex64(b.take(8), x) }

// PutComplex128 writes x at the position and advances it.
func (b *WritableBuffer) PutComplex128(x complex128) { b.w().PutComplex128(b.take(16), x) }

// PutBytes writes src at the position and advances it by len(src).
func (b *WritableBuffer) PutBytes(src []byte) { b.w().PutBytes(b.take(int64(len(src))), src) }

// PutInt64s writes src at the position and advances it by 8·len(src).
func (b *WritableBuffer) PutInt64s(src []int64) { b.w().PutInt64s(b.take(8*int64(len(src))), src) }

// PutFloat64s writes src at the position and advances it by 8·len(src).
func (b *WritableBuffer) PutFloat64s(src []float64) {
	b.w().PutFloat64s(b.take(8*int64(len(src))), src)
}

// WritableMemory returns a writable view of the buffer's whole capacity.
func (b *WritableBuffer) WritableMemory() WritableMemory { return b.w() }
