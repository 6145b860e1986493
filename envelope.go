package tiermem

import (
	"encoding/binary"
	"fmt"
	"time"
)

// envelope is what the Manager knows of a value beyond its bytes. It travels
// as the value's meta through every tier, encoded as:
//
//	byte 0   version (high 4 bits, 1) and kind (low 4 bits)
//	byte 1   flags
//	[8]      expiry, Unix nanoseconds, little-endian       if flagExpires
//	[...]    kind-specific: an array's dtype, rank and dims (uvarints),
//	         a Go value's codec id
//
// A plain value (bytes, no TTL, not pinned) has no envelope at all: empty
// meta, so the warm tier keeps it in its smallest record form.
//
// The envelope carries no checksum: the tiers whose data leaves RAM (cold,
// glacier) checksum every record they write from the very bytes the Manager
// hands them and verify it on every read, returning ErrCorrupt rather than
// altered bytes. A second checksum here would only hash every value twice.
type envelope struct {
	kind    valueKind
	pinned  bool
	expires int64 // Unix nanoseconds; 0 = never
	dtype   DType // arrays
	shape   []int // arrays
	codec   byte  // Go values: which codec encoded them
}

type valueKind uint8

const (
	kindBytes valueKind = iota
	kindArray
	kindValue
)

const (
	envelopeVersion = 1
	flagPinned      = 1 << 0
	flagExpires     = 1 << 1
)

// plain reports whether the envelope says nothing: it is then not stored.
func (e *envelope) plain() bool {
	return e.kind == kindBytes && !e.pinned && e.expires == 0
}

// encode returns the envelope's bytes, nil for a plain one.
func (e *envelope) encode() []byte {
	if e.plain() {
		return nil
	}
	b := []byte{envelopeVersion<<4 | byte(e.kind), 0}
	if e.pinned {
		b[1] |= flagPinned
	}
	if e.expires != 0 {
		b[1] |= flagExpires
		b = binary.LittleEndian.AppendUint64(b, uint64(e.expires))
	}
	switch e.kind {
	case kindArray:
		b = append(b, byte(e.dtype))
		b = binary.AppendUvarint(b, uint64(len(e.shape)))
		for _, d := range e.shape {
			b = binary.AppendUvarint(b, uint64(d))
		}
	case kindValue:
		b = append(b, e.codec)
	}
	return b
}

// decodeEnvelope parses meta; an error wraps ErrCorrupt.
func decodeEnvelope(meta []byte) (envelope, error) {
	var e envelope
	if len(meta) == 0 {
		return e, nil
	}
	if len(meta) < 2 || meta[0]>>4 != envelopeVersion {
		return e, fmt.Errorf("%w: value header of %d bytes, version %d", ErrCorrupt, len(meta), meta[0]>>4)
	}
	e.kind, e.pinned = valueKind(meta[0]&0x0f), meta[1]&flagPinned != 0
	rest := meta[2:]
	var ok bool
	if meta[1]&flagExpires != 0 {
		var x uint64
		if x, rest, ok = take64(rest); !ok {
			return e, fmt.Errorf("%w: value header cut in its expiry", ErrCorrupt)
		}
		e.expires = int64(x)
	}
	return e, e.decodeKind(rest)
}

func take64(b []byte) (uint64, []byte, bool) {
	if len(b) < 8 {
		return 0, b, false
	}
	return binary.LittleEndian.Uint64(b), b[8:], true
}

// decodeKind parses the kind-specific tail of an envelope.
func (e *envelope) decodeKind(rest []byte) error {
	switch e.kind {
	case kindBytes:
		return nil
	case kindValue:
		if len(rest) < 1 {
			return fmt.Errorf("%w: value header without its codec", ErrCorrupt)
		}
		e.codec = rest[0]
		return nil
	case kindArray:
		return e.decodeShape(rest)
	}
	return fmt.Errorf("%w: value header of unknown kind %d", ErrCorrupt, e.kind)
}

func (e *envelope) decodeShape(rest []byte) error {
	if len(rest) < 2 || !DType(rest[0]).valid() {
		return fmt.Errorf("%w: array header without a known dtype", ErrCorrupt)
	}
	e.dtype = DType(rest[0])
	rank, n := binary.Uvarint(rest[1:])
	if n <= 0 || rank > 64 {
		return fmt.Errorf("%w: array header with a bad rank", ErrCorrupt)
	}
	rest = rest[1+n:]
	e.shape = make([]int, rank)
	for i := range e.shape {
		d, n := binary.Uvarint(rest)
		if n <= 0 || d > 1<<48 {
			return fmt.Errorf("%w: array header with a bad dimension", ErrCorrupt)
		}
		e.shape[i], rest = int(d), rest[n:]
	}
	return nil
}

// expired reports whether the value's TTL has run out at now.
func (e *envelope) expired(now time.Time) bool {
	return e.expires != 0 && now.UnixNano() >= e.expires
}
