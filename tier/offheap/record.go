package offheap

import (
	"github.com/tiermem/tiermem/memory"
)

// A record is one entry in off-heap memory, in the host's byte order, in
// one of three forms. Small entries (key, meta and stored value each ≤ 255
// bytes) take the compact form, 4 bytes of header and no padding:
//
//	0      1      2                4
//	+------+------+----------------+-----------+----------------+------------------+
//	|flags |keyLen| stored length  | key bytes | [meta length,  | value (stored)   |
//	|      |      |                |           |  meta bytes]   |                  |
//	+------+------+----------------+-----------+----------------+------------------+
//	 uint8  uint8  uint16                       only if flagMeta
//	                                            uint8 + n
//
// Other slab records take the full form, whose value starts at an 8-byte
// boundary (records are 16-byte aligned) so that typed views of arrays are
// aligned:
//
//	0      1      2      4                8
//	+------+------+------+----------------+-----------+---------------+-----+---------------+
//	|flags | pad  |keyLen| stored length  | key bytes | [meta length, | pad | value         |
//	|      |      |      |                |           |  meta bytes]  |     | (stored form) |
//	+------+------+------+----------------+-----------+---------------+-----+---------------+
//	 uint8  uint8  uint16 uint32           keyLen      only if flagMeta 0..7
//	                                                   uint16 + n
//
// Records in a mapping of their own (values too big for the slab) have the
// full form with a 16-byte header whose length is a uint64 at offset 8, and
// metaSpare bytes more of padding: the room for a first TTL or a pin,
// which SetMeta then writes without moving the value.
const (
	compactHeader = 4  // header of a compact record
	smallHeader   = 8  // header of a full slab record
	largeHeader   = 16 // header of a record in its own mapping

	flagCompressed = 1 << 0 // the stored value is s2-encoded
	flagLarge      = 1 << 1 // the record has the 16-byte header
	flagMeta       = 1 << 2 // meta follows the key
	flagCompact    = 1 << 3 // the record has the 4-byte header

	maxKeyLen       = 1<<16 - 1
	maxMetaLen      = 1<<16 - 1
	maxCompactKey   = 255
	maxCompactMeta  = 255
	maxCompactValue = 255
)

// metaSpare is the padding a record in its own mapping has beyond the
// alignment: a TTL (9 bytes more of header) and a pin fit in it, with the
// meta length field of a value stored without meta.
const metaSpare = 16

// recordLayout says where the parts of a record lie.
type recordLayout struct {
	header, keyLen, meta, pad, stored int64 // meta: bytes of meta length + meta, 0 if none
}

// layoutFor returns the layout of a record with the given header size.
func layoutFor(header, keyLen, metaLen, stored int64) recordLayout {
	meta := int64(0)
	if metaLen > 0 {
		meta = metaLenSize(header) + metaLen
	}
	pad := int64(0)
	if header != compactHeader {
		pad = -(header + keyLen + meta) & 7 // to a multiple of 8: (8 - x%8) % 8 without a division
	}
	return recordLayout{header: header, keyLen: keyLen, meta: meta, pad: pad, stored: stored}
}

// headerFor picks the smallest header form for a record.
func headerFor(keyLen, metaLen, stored int64) int64 {
	if keyLen <= maxCompactKey && stored <= maxCompactValue && metaLen <= maxCompactMeta {
		return compactHeader
	}
	return smallHeader
}

// metaLenSize is the size of the meta length field: one byte in compact records.
func metaLenSize(header int64) int64 {
	if header == compactHeader {
		return 1
	}
	return 2
}

func (l recordLayout) valueOffset() int64 { return l.header + l.keyLen + l.meta + l.pad }
func (l recordLayout) size() int64        { return l.valueOffset() + l.stored }

// writeRecord fills m (at least l.size() bytes) with a record. The stored
// value is written first, as memmove would, so that stored may be the
// value of a record m holds now (SetMeta writes a record over itself with
// meta of another length, which moves the value).
func writeRecord(m memory.WritableMemory, l recordLayout, flags uint8, key string, meta, stored []byte) {
	m.PutBytes(l.valueOffset(), stored)
	writeHead(m, l, flags, key, meta)
}

// writeHead writes all of a record but its value: the header, the key and
// the meta.
func writeHead(m memory.WritableMemory, l recordLayout, flags uint8, key string, meta []byte) {
	switch l.header {
	case compactHeader:
		flags |= flagCompact
		m.PutUint8(1, uint8(l.keyLen))
		m.PutUint16(2, uint16(l.stored))
	case largeHeader:
		flags |= flagLarge
		m.PutUint64(8, uint64(l.stored))
	default:
		m.PutUint32(4, uint32(l.stored))
	}
	if l.header != compactHeader {
		m.PutUint8(1, uint8(l.pad))
		m.PutUint16(2, uint16(l.keyLen))
	}
	if len(meta) > 0 {
		flags |= flagMeta
		if l.header == compactHeader {
			m.PutUint8(l.header+l.keyLen, uint8(len(meta)))
		} else {
			m.PutUint16(l.header+l.keyLen, uint16(len(meta)))
		}
		m.PutBytes(l.header+l.keyLen+metaLenSize(l.header), meta)
	}
	m.PutUint8(0, flags)
	copy(m.Bytes(l.header, l.keyLen), key)
}

// record is a decoded record: its slices share the off-heap memory.
type record struct {
	key, meta, stored []byte
	flags             uint8
	layout            recordLayout
}

// readRecord decodes the record that starts m.
func readRecord(m memory.Memory) record {
	flags := m.GetUint8(0)
	var header, keyLen, stored int64
	switch {
	case flags&flagCompact != 0:
		header, keyLen, stored = compactHeader, int64(m.GetUint8(1)), int64(m.GetUint16(2))
	case flags&flagLarge != 0:
		header, keyLen, stored = largeHeader, int64(m.GetUint16(2)), int64(m.GetUint64(8))
	default:
		header, keyLen, stored = smallHeader, int64(m.GetUint16(2)), int64(m.GetUint32(4))
	}
	metaLen := int64(0)
	switch {
	case flags&flagMeta == 0:
	case header == compactHeader:
		metaLen = int64(m.GetUint8(header + keyLen))
	default:
		metaLen = int64(m.GetUint16(header + keyLen))
	}
	l := layoutFor(header, keyLen, metaLen, stored)
	if header != compactHeader {
		l.pad = int64(m.GetUint8(1)) // more than the alignment in a record with spare room
	}
	r := record{key: m.Bytes(header, keyLen), stored: m.Bytes(l.valueOffset(), stored), flags: flags, layout: l}
	if metaLen > 0 {
		r.meta = m.Bytes(header+keyLen+metaLenSize(header), metaLen)
	}
	return r
}
