package bundle

import "encoding/binary"

// The data section holds, for each index entry in index order, either the
// value of a direct entry (entry.go) or the whole record of an indirect one.
// The value of a direct entry is zero padding up to the alignment, then the
// value's bytes, or nothing at all when the entry refers to an identical
// value stored earlier. The record of an indirect entry is
//
//	keyLen   uvarint                   only in exact and multi bundles
//	key      keyLen bytes
//	metaLen  uvarint                   only when the header has flagMeta
//	meta     metaLen bytes
//	vword    uvarint: valueLen<<1 | ref
//	ref = 1: valueOff uvarint          offset in the data section of an
//	                                   identical value stored earlier
//	ref = 0: zero padding up to the alignment, then valueLen bytes
//
// Offsets are relative to the start of the data section, which is itself
// aligned, so an inline value starts at a multiple of the alignment of the file.

// minDedup is the shortest value stored once for all its copies: a reference
// (a uvarint offset, 4 or 5 bytes in files up to 32 GiB) is no smaller than a
// shorter value kept inline.
const minDedup = 16

// layout says which parts a bundle's records have.
type layout struct {
	keys    bool   // records start with a key
	hasMeta bool   // records carry a meta area
	align   uint64 // alignment of inline values
}

func (h *header) layout() layout {
	return layout{keys: h.kind.hasKeys(), hasMeta: h.flags&flagMeta != 0, align: h.align()}
}

// uvarint decodes the uvarint at pos of d and returns it with the position
// after it; ok is false if it runs past d or overflows. One-byte values, the
// common case, take the inlined path.
func uvarint(d []byte, pos uint64) (v, next uint64, ok bool) {
	if pos < uint64(len(d)) && d[pos] < 0x80 {
		return uint64(d[pos]), pos + 1, true
	}
	return uvarintSlow(d, pos)
}

func uvarintSlow(d []byte, pos uint64) (v, next uint64, ok bool) {
	if pos >= uint64(len(d)) {
		return 0, 0, false
	}
	v, n := binary.Uvarint(d[pos:])
	if n <= 0 {
		return 0, 0, false
	}
	return v, pos + uint64(n), true
}

// span returns the n bytes of d at pos, and the position after them.
func span(d []byte, pos, n uint64) ([]byte, uint64, bool) {
	if pos > uint64(len(d)) || n > uint64(len(d))-pos {
		return nil, 0, false
	}
	end := pos + n
	return d[pos:end:end], end, true
}

// lenPrefixed reads a uvarint length and that many bytes.
func lenPrefixed(d []byte, pos uint64) ([]byte, uint64, bool) {
	n, pos, ok := uvarint(d, pos)
	if !ok {
		return nil, 0, false
	}
	return span(d, pos, n)
}

// key returns the key of the record at off (nil without keys) and the
// position of the rest of the record.
func (l layout) key(d []byte, off uint64) ([]byte, uint64, error) {
	if !l.keys {
		return nil, off, nil
	}
	k, next, ok := lenPrefixed(d, off)
	if !ok {
		return nil, 0, corrupt("section data: record at %d: key runs past the section", off)
	}
	return k, next, nil
}

// rest returns the meta area and the value of the record whose key ends at pos.
func (l layout) rest(d []byte, pos uint64) (meta, value []byte, err error) {
	meta, pos, err = l.meta(d, pos)
	if err != nil {
		return nil, nil, err
	}
	value, _, _, err = l.value(d, pos)
	return meta, value, err
}

// meta returns the meta area of the record whose key ends at pos (nil without
// meta areas) and the position of the rest of the record.
func (l layout) meta(d []byte, pos uint64) ([]byte, uint64, error) {
	if !l.hasMeta {
		return nil, pos, nil
	}
	meta, next, ok := lenPrefixed(d, pos)
	if !ok {
		return nil, 0, corrupt("section data: meta at %d runs past the section", pos)
	}
	return meta, next, nil
}

// value decodes the value part at pos: it returns the value, whether it is
// a reference to an earlier copy, and where the record ends.
func (l layout) value(d []byte, pos uint64) (value []byte, ref bool, end uint64, err error) {
	w, next, ok := uvarint(d, pos)
	if !ok {
		return nil, false, 0, corrupt("section data: value header at %d runs past the section", pos)
	}
	n, at := w>>1, next
	if ref = w&1 == 1; ref {
		if at, end, ok = uvarint(d, next); !ok {
			return nil, false, 0, corrupt("section data: value reference at %d runs past the section", next)
		}
	} else {
		at = alignUp(next, l.align)
	}
	var valueEnd uint64
	if value, valueEnd, ok = span(d, at, n); !ok {
		return nil, false, 0, corrupt("section data: value of %d bytes at %d runs past the section", n, at)
	}
	if !ref {
		end = valueEnd
	}
	return value, ref, end, nil
}

// alignUp rounds x up to a multiple of a, a power of two.
func alignUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }
