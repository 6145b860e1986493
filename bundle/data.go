package bundle

import "encoding/binary"

// The data section holds one record per index entry, in index order:
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
	keys  bool   // records start with a key
	meta  bool   // records carry a meta area
	align uint64 // alignment of inline values
}

func (h *header) layout() layout {
	return layout{keys: h.kind.hasKeys(), meta: h.flags&flagMeta != 0, align: h.align()}
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
	if l.meta {
		var ok bool
		if meta, pos, ok = lenPrefixed(d, pos); !ok {
			return nil, nil, corrupt("section data: meta at %d runs past the section", pos)
		}
	}
	value, _, err = l.value(d, pos)
	return meta, value, err
}

// value decodes the value part at pos: it returns the value and whether it is
// a reference to an earlier copy.
func (l layout) value(d []byte, pos uint64) (value []byte, ref bool, err error) {
	w, next, ok := uvarint(d, pos)
	if !ok {
		return nil, false, corrupt("section data: value header at %d runs past the section", pos)
	}
	n, at := w>>1, next
	if ref = w&1 == 1; ref {
		if at, _, ok = uvarint(d, next); !ok {
			return nil, false, corrupt("section data: value reference at %d runs past the section", next)
		}
	} else {
		at = alignUp(next, l.align)
	}
	if value, _, ok = span(d, at, n); !ok {
		return nil, false, corrupt("section data: value of %d bytes at %d runs past the section", n, at)
	}
	return value, ref, nil
}

// alignUp rounds x up to a multiple of a, a power of two.
func alignUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }
