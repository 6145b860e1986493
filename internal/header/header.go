// Package header encodes what the tiermem Manager knows of a value beyond
// its bytes: its kind, TTL, pin, and an array's dtype and shape. A header
// travels as the value's meta through every tier, encoded as:
//
//	byte 0   version (high 4 bits, 1) and kind (low 4 bits)
//	byte 1   flags
//	[8]      expiry, Unix nanoseconds, little-endian       if FlagExpires
//	[...]    kind-specific: an array's dtype, rank and dims (uvarints),
//	         a Go value's codec id
//
// A plain value (bytes, no TTL, not pinned) has no header at all: empty
// meta, so the warm tier keeps it in its smallest record form.
//
// The header carries no checksum: the tiers whose data leaves RAM (cold,
// glacier) checksum every record they write, meta included, and verify it
// on every read. A second checksum here would hash every value twice.
// Decode reads bytes that came from disk, so it checks every length.
package header

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Kind says what a value is.
type Kind uint8

const (
	Bytes Kind = iota // plain bytes
	Array             // an n-dimensional array: dtype and shape
	Value             // a Go value encoded by a codec
)

// String returns "bytes", "an array" or "a Go value", for messages.
func (k Kind) String() string {
	switch k {
	case Bytes:
		return "bytes"
	case Array:
		return "an array"
	case Value:
		return "a Go value"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// Header is a value's header. The zero value is a plain value.
type Header struct {
	Kind    Kind
	Pinned  bool
	Expires int64 // Unix nanoseconds; 0 = never
	DType   uint8 // arrays
	Shape   []int // arrays
	Codec   byte  // Go values: which codec encoded them
}

const (
	version     = 1
	flagPinned  = 1 << 0
	flagExpires = 1 << 1
	flagDamaged = 1 << 2 // Damaged's mark: the value was lost before it was written

	// MaxRank and MaxDim bound an array's shape.
	MaxRank = 64
	MaxDim  = 1 << 48
)

// Plain reports whether the header says nothing: it is then not stored.
func (h *Header) Plain() bool {
	return h.Kind == Bytes && !h.Pinned && h.Expires == 0
}

// Encode returns the header's bytes, nil for a plain one.
func (h *Header) Encode() []byte {
	if h.Plain() {
		return nil
	}
	b := append(make([]byte, 0, h.encodedCap()), version<<4|byte(h.Kind), 0)
	if h.Pinned {
		b[1] |= flagPinned
	}
	if h.Expires != 0 {
		b[1] |= flagExpires
		b = binary.LittleEndian.AppendUint64(b, uint64(h.Expires))
	}
	switch h.Kind {
	case Array:
		b = append(b, h.DType)
		b = binary.AppendUvarint(b, uint64(len(h.Shape)))
		for _, d := range h.Shape {
			b = binary.AppendUvarint(b, uint64(d))
		}
	case Value:
		b = append(b, h.Codec)
	}
	return b
}

// encodedCap is room enough for the header's bytes, so that Encode
// allocates once: the two leading bytes, the expiry, and the kind's own.
func (h *Header) encodedCap() int {
	n := 2 + 8 + 1
	if h.Kind == Array {
		n += binary.MaxVarintLen64 * (1 + len(h.Shape))
	}
	return n
}

// Damaged returns the header of a value that was found corrupt in memory
// when it had to be written out (a warm value that no longer decodes, at
// Close): stored with an empty value, it keeps the key ErrCorrupt where it
// is read next, instead of losing it or leaving an older copy to be found.
func Damaged() []byte { return []byte{version<<4 | byte(Bytes), flagDamaged} }

// Expired reports whether the value's TTL has run out at now.
func (h *Header) Expired(now time.Time) bool {
	return h.Expires != 0 && now.UnixNano() >= h.Expires
}

// IsPinned reports whether encoded header bytes pin their value, without
// decoding the rest.
func IsPinned(meta []byte) bool { return len(meta) >= 2 && meta[1]&flagPinned != 0 }
