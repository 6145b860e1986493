package memory

// Fill sets the n bytes at off to value, in chunks for large ranges.
func (w WritableMemory) Fill(off, n int64, value byte) {
	p := w.check("fill", off, n)
	if n == 0 {
		return
	}
	chunks(p, n, func(piece []byte) bool {
		if value == 0 {
			clear(piece)
			return true
		}
		piece[0] = value
		for filled := 1; filled < len(piece); filled *= 2 {
			copy(piece[filled:], piece[:filled])
		}
		return true
	})
}

// Clear sets the n bytes at off to zero.
func (w WritableMemory) Clear(off, n int64) { w.Fill(off, n, 0) }
