package memory

// Bits are numbered across the whole view: bit i is bit i%8 (0 = least
// significant) of the byte at offset i/8, whatever the view's byte order.

// Bit reports whether bit i of the view is set.
func (v view) Bit(i int64) bool { return v.get8(bitByte(i))&(1<<(i&7)) != 0 }

// SetBit sets bit i of the memory.
func (w WritableMemory) SetBit(i int64) {
	off := bitByte(i)
	w.put8(off, w.get8(off)|1<<(i&7))
}

// ClearBit clears bit i of the memory.
func (w WritableMemory) ClearBit(i int64) {
	off := bitByte(i)
	w.put8(off, w.get8(off)&^(1<<(i&7)))
}

// bitByte returns the offset of the byte that holds bit i; a negative i gives
// a negative offset, which the access check rejects.
func bitByte(i int64) int64 { return i >> 3 }
