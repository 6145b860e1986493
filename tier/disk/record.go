package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A record is one Put or Delete in a segment: a fixed header, the key, the
// meta and the stored value, with no padding. All integers are
// little-endian.
//
//	off size field
//	  0    4 header checksum: low 32 bits of XXH3-64(bytes 4..48 ‖ key ‖ meta)
//	  4    1 kind: kindPut or kindDelete
//	  5    1 codec: codecRaw or codecZstd
//	  6    2 reserved, zero
//	  8    4 key length, 1 … MaxKeyLen
//	 12    4 meta length, 0 … MaxMetaLen
//	 16    8 sequence number: orders every record of the store
//	 24    8 stored value length: bytes that follow the meta
//	 32    8 raw value length: bytes after decoding
//	 40    8 value checksum: XXH3-64 of the stored value
//
// The header checksum covers the key and meta too, so once it verifies the
// lengths, the key and the meta can be trusted without reading the value.
const (
	recordHeaderSize = 48 // six 8-byte words; a tombstone for a 16-byte key is 64 bytes

	// MaxKeyLen is the longest key a Store accepts: 64 KiB.
	MaxKeyLen = 64 << 10

	// MaxMetaLen is the longest meta a Store accepts: 64 KiB.
	MaxMetaLen = 64 << 10

	// maxValueLen bounds a decoded length so that offsets never overflow an
	// int64: 2^62 bytes, four exbibytes.
	maxValueLen = 1 << 62
)

// kind says what a record does.
type kind uint8

const (
	kindPut    kind = 1 // stores a value
	kindDelete kind = 2 // a tombstone: the key has no value from this sequence number on
)

// codec says how a stored value is encoded.
type codec uint8

const (
	codecRaw  codec = 0 // the value as given
	codecZstd codec = 1 // one zstd frame
)

// errBadHeader is what decodeHeader returns, wrapped with the field at
// fault; scans treat it as "no record starts here".
var errBadHeader = errors.New("disk: bad record header")

// header is a decoded record header.
type header struct {
	kind    kind
	codec   codec
	keyLen  uint32
	metaLen uint32
	seq     uint64
	stored  uint64 // stored value length
	raw     uint64 // decoded value length
	sum     uint64 // XXH3-64 of the stored value
}

// headLen returns the length of header ‖ key ‖ meta.
func (h *header) headLen() int {
	return recordHeaderSize + int(h.keyLen) + int(h.metaLen)
}

// size returns the record's length on disk. It cannot overflow for a header
// that decodeHeader accepted.
func (h *header) size() int64 { return int64(h.headLen()) + int64(h.stored) }

// appendHead appends h's header, key and meta to dst, with the header
// checksum, and returns the result. h.keyLen and h.metaLen are taken from
// key and meta.
func appendHead(dst []byte, h header, key string, meta []byte) []byte {
	start := len(dst)
	var b [recordHeaderSize]byte
	b[4], b[5] = byte(h.kind), byte(h.codec)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(key)))
	binary.LittleEndian.PutUint32(b[12:], uint32(len(meta)))
	binary.LittleEndian.PutUint64(b[16:], h.seq)
	binary.LittleEndian.PutUint64(b[24:], h.stored)
	binary.LittleEndian.PutUint64(b[32:], h.raw)
	binary.LittleEndian.PutUint64(b[40:], h.sum)
	dst = append(append(append(dst, b[:]...), key...), meta...)
	binary.LittleEndian.PutUint32(dst[start:], headSum(dst[start:]))
	return dst
}

// headSum returns the header checksum of head = header ‖ key ‖ meta.
func headSum(head []byte) uint32 { return uint32(sum64(head[4:])) }

// decodeHeader decodes the recordHeaderSize bytes at the start of b and
// checks that every field is one a writer could have produced. It does not
// check the header checksum, which needs the key and meta: see headOK.
func decodeHeader(b []byte) (header, error) {
	if len(b) < recordHeaderSize {
		return header{}, fmt.Errorf("%w: %d bytes, want %d", errBadHeader, len(b), recordHeaderSize)
	}
	h := header{
		kind:    kind(b[4]),
		codec:   codec(b[5]),
		keyLen:  binary.LittleEndian.Uint32(b[8:]),
		metaLen: binary.LittleEndian.Uint32(b[12:]),
		seq:     binary.LittleEndian.Uint64(b[16:]),
		stored:  binary.LittleEndian.Uint64(b[24:]),
		raw:     binary.LittleEndian.Uint64(b[32:]),
		sum:     binary.LittleEndian.Uint64(b[40:]),
	}
	if b[6]|b[7] != 0 {
		return header{}, fmt.Errorf("%w: reserved bytes %#x %#x", errBadHeader, b[6], b[7])
	}
	return h, h.check()
}

// check reports the first field of h that no writer produces.
func (h *header) check() error {
	switch {
	case h.kind != kindPut && h.kind != kindDelete:
		return fmt.Errorf("%w: kind %d", errBadHeader, h.kind)
	case h.codec != codecRaw && h.codec != codecZstd:
		return fmt.Errorf("%w: codec %d", errBadHeader, h.codec)
	case h.keyLen == 0 || h.keyLen > MaxKeyLen:
		return fmt.Errorf("%w: key length %d", errBadHeader, h.keyLen)
	case h.metaLen > MaxMetaLen:
		return fmt.Errorf("%w: meta length %d", errBadHeader, h.metaLen)
	case h.stored > maxValueLen || h.raw > maxValueLen:
		return fmt.Errorf("%w: value length %d (raw %d)", errBadHeader, h.stored, h.raw)
	case h.codec == codecRaw && h.raw != h.stored:
		return fmt.Errorf("%w: raw value of %d bytes stored in %d", errBadHeader, h.raw, h.stored)
	case h.kind == kindDelete && (h.stored != 0 || h.metaLen != 0 || h.codec != codecRaw):
		return fmt.Errorf("%w: tombstone with a value or meta", errBadHeader)
	}
	return nil
}

// headOK reports whether head = header ‖ key ‖ meta carries a matching
// header checksum.
func headOK(head []byte) bool {
	return binary.LittleEndian.Uint32(head) == headSum(head)
}
