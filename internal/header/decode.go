package header

import (
	"encoding/binary"
	"fmt"
)

// Decode parses meta; an error wraps ErrCorrupt. Empty meta is a plain
// value. The dtype byte is not checked against the dtypes the caller knows.
func Decode(meta []byte) (Header, error) {
	var h Header
	if len(meta) == 0 {
		return h, nil
	}
	if len(meta) < 2 || meta[0]>>4 != version {
		return h, fmt.Errorf("%w: %d bytes, version %d", ErrCorrupt, len(meta), meta[0]>>4)
	}
	if meta[1] == flagDamaged {
		return h, fmt.Errorf("%w: the value was found corrupt in memory before it was written to this tier", ErrCorrupt)
	}
	if meta[1]&^(flagPinned|flagExpires) != 0 {
		return h, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, meta[1])
	}
	h.Kind, h.Pinned = Kind(meta[0]&0x0f), meta[1]&flagPinned != 0
	rest := meta[2:]
	if meta[1]&flagExpires != 0 {
		if len(rest) < 8 {
			return h, fmt.Errorf("%w: cut in its expiry", ErrCorrupt)
		}
		h.Expires, rest = int64(binary.LittleEndian.Uint64(rest)), rest[8:]
		if h.Expires == 0 {
			return h, fmt.Errorf("%w: an expiry of 0", ErrCorrupt)
		}
	}
	return h, h.decodeKind(rest)
}

// decodeKind parses the kind-specific tail.
func (h *Header) decodeKind(rest []byte) error {
	switch h.Kind {
	case Bytes:
		return trailing(rest)
	case Value:
		if len(rest) < 1 {
			return fmt.Errorf("%w: a Go value without its codec", ErrCorrupt)
		}
		h.Codec = rest[0]
		return trailing(rest[1:])
	case Array:
		return h.decodeShape(rest)
	}
	return fmt.Errorf("%w: unknown kind %d", ErrCorrupt, h.Kind)
}

func (h *Header) decodeShape(rest []byte) error {
	if len(rest) < 2 {
		return fmt.Errorf("%w: an array without its dtype and rank", ErrCorrupt)
	}
	h.DType = rest[0]
	rank, n := binary.Uvarint(rest[1:])
	if n <= 0 || rank > MaxRank {
		return fmt.Errorf("%w: an array with a bad rank", ErrCorrupt)
	}
	rest = rest[1+n:]
	h.Shape = make([]int, rank)
	for i := range h.Shape {
		d, n := binary.Uvarint(rest)
		if n <= 0 || d > MaxDim {
			return fmt.Errorf("%w: an array with a bad dimension", ErrCorrupt)
		}
		h.Shape[i], rest = int(d), rest[n:]
	}
	return trailing(rest)
}

// trailing rejects bytes after the end of a header.
func trailing(rest []byte) error {
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes after its end", ErrCorrupt, len(rest))
	}
	return nil
}
