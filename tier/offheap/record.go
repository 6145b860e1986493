package offheap

import (
	"github.com/tiermem/tiermem/memory"
)

// A record is one entry in off-heap memory, in the host's byte order:
//
//	0      2      3      4                8
//	+------+------+------+----------------+-----------+---------------+-----+---------------+
//	|keyLen|flags | pad  | stored length  | key bytes | [meta length, | pad | value         |
//	|      |      |      |                |           |  meta bytes]  |     | (stored form) |
//	+------+------+------+----------------+-----------+---------------+-----+---------------+
//	 uint16 uint8  uint8  uint32           keyLen      only if flagMeta 0..7  stored length
//	                                                   uint16 + n
//
// The value starts at an 8-byte boundary of the record (records themselves are
// 16-byte aligned), so that typed views of array data are aligned. Records in a
// mapping of their own (values too big for the slab) have a 16-byte header
// whose length field is a uint64 at offset 8.
const (
	smallHeader = 8  // header of a slab record
	largeHeader = 16 // header of a record in its own mapping

	flagCompressed = 1 << 0 // the stored value is s2-encoded
	flagLarge      = 1 << 1 // the record has the 16-byte header
	flagMeta       = 1 << 2 // meta follows the key

	maxKeyLen  = 1<<16 - 1
	maxMetaLen = 1<<16 - 1
)

// recordLayout says where the parts of a record lie.
type recordLayout struct {
	header, keyLen, meta, pad, stored int64 // meta: bytes of meta length + meta, 0 if none
}

func layoutFor(header, keyLen, metaLen, stored int64) recordLayout {
	meta := int64(0)
	if metaLen > 0 {
		meta = 2 + metaLen
	}
	pad := (8 - (header+keyLen+meta)%8) % 8
	return recordLayout{header: header, keyLen: keyLen, meta: meta, pad: pad, stored: stored}
}

func (l recordLayout) valueOffset() int64 { return l.header + l.keyLen + l.meta + l.pad }
func (l recordLayout) size() int64        { return l.valueOffset() + l.stored }

// writeRecord fills m (at least l.size() bytes) with a record.
func writeRecord(m memory.WritableMemory, l recordLayout, flags uint8, key string, meta, stored []byte) {
	m.PutUint16(0, uint16(l.keyLen))
	if l.header == largeHeader {
		flags |= flagLarge
		m.PutUint64(8, uint64(l.stored))
	} else {
		m.PutUint32(4, uint32(l.stored))
	}
	if len(meta) > 0 {
		flags |= flagMeta
		m.PutUint16(l.header+l.keyLen, uint16(len(meta)))
		m.PutBytes(l.header+l.keyLen+2, meta)
	}
	m.PutUint8(2, flags)
	m.PutUint8(3, uint8(l.pad))
	copy(m.Bytes(l.header, l.keyLen), key)
	m.PutBytes(l.valueOffset(), stored)
}

// record is a decoded record: its slices share the off-heap memory.
type record struct {
	key, meta, stored []byte
	flags             uint8
	layout            recordLayout
}

// readRecord decodes the record that starts m.
func readRecord(m memory.Memory) record {
	keyLen := int64(m.GetUint16(0))
	flags := m.GetUint8(2)
	header, stored := int64(smallHeader), int64(m.GetUint32(4))
	if flags&flagLarge != 0 {
		header, stored = largeHeader, int64(m.GetUint64(8))
	}
	metaLen := int64(0)
	if flags&flagMeta != 0 {
		metaLen = int64(m.GetUint16(header + keyLen))
	}
	l := layoutFor(header, keyLen, metaLen, stored)
	r := record{key: m.Bytes(header, keyLen), stored: m.Bytes(l.valueOffset(), stored), flags: flags, layout: l}
	if metaLen > 0 {
		r.meta = m.Bytes(header+keyLen+2, metaLen)
	}
	return r
}
