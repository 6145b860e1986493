package memory

import "github.com/cespare/xxhash/v2"

// Hash returns the xxHash64 (seed 0) of the n bytes at off; it equals
// xxhash.Sum64 of the same bytes. Long ranges are hashed in chunks.
func (v view) Hash(off, n int64) uint64 {
	p := v.check("hash", off, n)
	if n <= chunkSize {
		return xxhash.Sum64(v.Bytes(off, n))
	}
	d := xxhash.New()
	chunks(p, n, func(piece []byte) bool {
		d.Write(piece)
		return true
	})
	return d.Sum64()
}
