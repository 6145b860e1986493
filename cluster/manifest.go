package cluster

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/zeebo/xxh3"
)

// A manifest describes one value: it is the small record under the value's
// manifest key, written after every chunk, so that a reader that finds it
// finds every chunk it names. Layout, little-endian (docs/distributed.md):
//
//	off  size  field
//	0    4     magic "TMCM"
//	4    1     version (1)
//	5    1     kind: 0 bytes, 1 array, 2 Go value
//	6    1     aux: the DType of an array, the codec ID of a value, else 0
//	7    1     flags: bit 0 set when the value is inline (no chunks),
//	                  bit 1 when it was spilled to the glacier bucket,
//	                  bit 2 when its chunks and object are named by a
//	                  digest of the key (keyName)
//	8    8     generation: random, new for every Store
//	16   8     unix nanoseconds when the Store began
//	24   8     length of the value in bytes
//	32   4     chunk size in bytes
//	36   4     chunk count (0 when inline)
//	40   4     ndim: dimensions of an array's shape
//	44   8×n   shape, one uint64 per dimension
//	..   8×c   XXH3-64 of each chunk, in order
//	..   len   the value itself, only when inline
//	..   8     XXH3-64 of every byte above
const (
	manifestMagic   = "TMCM"
	manifestVersion = 1
	manifestHeader  = 44 // bytes before the shape
	manifestTrailer = 8  // the checksum of the whole manifest
	flagInline      = 1
	flagSpilled     = 2
	flagDigest      = 4
	maxNDim         = 64 // more dimensions than any array needs
)

// kind is what a value holds.
type kind uint8

const (
	kindBytes kind = iota
	kindArray
	kindValue
)

func (k kind) String() string {
	switch k {
	case kindBytes:
		return "bytes"
	case kindArray:
		return "an array"
	case kindValue:
		return "a Go value"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// manifest is a parsed manifest. Inline, when set, aliases the buffer it was
// parsed from.
type manifest struct {
	kind      kind
	aux       uint8
	gen       uint64
	started   int64
	length    uint64
	chunkSize uint32
	sums      []uint64 // one per chunk
	shape     []uint64
	inline    []byte // the value, when it is inline
	isInline  bool
	spilled   bool // the chunks are ranges of one object in the glacier bucket
	digest    bool // the chunks and object are named by a digest of the key
}

// chunks returns the chunk count.
func (m *manifest) chunks() int { return len(m.sums) }

// chunkLen returns the length of chunk i.
func (m *manifest) chunkLen(i int) int {
	start := uint64(i) * uint64(m.chunkSize)
	return int(min(m.length-start, uint64(m.chunkSize)))
}

// appendManifest appends m's encoding to dst.
func appendManifest(dst []byte, m *manifest) []byte {
	start := len(dst)
	dst = append(dst, manifestMagic...)
	flags := uint8(0)
	if m.isInline {
		flags |= flagInline
	}
	if m.spilled {
		flags |= flagSpilled
	}
	if m.digest {
		flags |= flagDigest
	}
	dst = append(dst, manifestVersion, uint8(m.kind), m.aux, flags)
	dst = binary.LittleEndian.AppendUint64(dst, m.gen)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(m.started))
	dst = binary.LittleEndian.AppendUint64(dst, m.length)
	dst = binary.LittleEndian.AppendUint32(dst, m.chunkSize)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.sums)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.shape)))
	for _, d := range m.shape {
		dst = binary.LittleEndian.AppendUint64(dst, d)
	}
	for _, s := range m.sums {
		dst = binary.LittleEndian.AppendUint64(dst, s)
	}
	if m.isInline {
		dst = append(dst, m.inline...)
	}
	return binary.LittleEndian.AppendUint64(dst, xxh3.Hash(dst[start:]))
}

// parseManifest parses b, which it keeps a reference to (an inline value
// aliases it). Every error wraps ErrCorrupt.
func parseManifest(b []byte) (*manifest, error) {
	if len(b) < manifestHeader+manifestTrailer || string(b[:4]) != manifestMagic {
		return nil, fmt.Errorf("%w: not a manifest (%d bytes)", ErrCorrupt, len(b))
	}
	body := b[:len(b)-manifestTrailer]
	if want := binary.LittleEndian.Uint64(b[len(body):]); xxh3.Hash(body) != want {
		return nil, fmt.Errorf("%w: manifest checksum mismatch", ErrCorrupt)
	}
	if b[4] != manifestVersion {
		return nil, fmt.Errorf("%w: manifest version %d, want %d", ErrCorrupt, b[4], manifestVersion)
	}
	m := &manifest{kind: kind(b[5]), aux: b[6], isInline: b[7]&flagInline != 0, spilled: b[7]&flagSpilled != 0,
		digest: b[7]&flagDigest != 0}
	if m.kind > kindValue || b[7]&^(flagInline|flagSpilled|flagDigest) != 0 || m.isInline && m.spilled {
		return nil, fmt.Errorf("%w: manifest kind %d, flags %#x", ErrCorrupt, b[5], b[7])
	}
	le := binary.LittleEndian
	m.gen, m.started, m.length = le.Uint64(b[8:]), int64(le.Uint64(b[16:])), le.Uint64(b[24:])
	m.chunkSize = le.Uint32(b[32:])
	count, ndim := uint64(le.Uint32(b[36:])), uint64(le.Uint32(b[40:]))
	if ndim > maxNDim {
		return nil, fmt.Errorf("%w: manifest with %d dimensions", ErrCorrupt, ndim)
	}
	need := uint64(manifestHeader) + 8*ndim + 8*count
	if m.isInline {
		need += m.length
	}
	if m.length > math.MaxInt/2 || need != uint64(len(body)) {
		return nil, fmt.Errorf("%w: manifest of %d bytes for %d chunks, %d dimensions, %d bytes", ErrCorrupt, len(b), count, ndim, m.length)
	}
	if err := m.checkChunks(count); err != nil {
		return nil, err
	}
	p := body[manifestHeader:]
	m.shape = make([]uint64, ndim)
	for i := range m.shape {
		m.shape[i], p = le.Uint64(p), p[8:]
	}
	m.sums = make([]uint64, count)
	for i := range m.sums {
		m.sums[i], p = le.Uint64(p), p[8:]
	}
	if m.isInline {
		m.inline = p
	}
	return m, nil
}

// checkChunks checks that count chunks of chunkSize hold exactly length
// bytes, and that chunkSize is one Options.ChunkSize allows, or allowed
// (maxReadChunkSize).
func (m *manifest) checkChunks(count uint64) error {
	if m.isInline {
		if count != 0 {
			return fmt.Errorf("%w: inline manifest with %d chunks", ErrCorrupt, count)
		}
		return nil
	}
	if m.chunkSize < minChunkSize || m.chunkSize > maxReadChunkSize {
		// Not one this package writes: a reader must not trust its length.
		return fmt.Errorf("%w: manifest with chunk size %d", ErrCorrupt, m.chunkSize)
	}
	want := (m.length + uint64(m.chunkSize) - 1) / uint64(m.chunkSize)
	if count != want {
		return fmt.Errorf("%w: manifest with %d chunks for %d bytes in chunks of %d", ErrCorrupt, count, m.length, m.chunkSize)
	}
	return nil
}
