package bundle

import (
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/memory"
)

// A bundle file, all integers little-endian (docs/bundle-format.md draws it):
//
//	header         128 bytes at offset 0
//	section table  32 bytes per section, right after the header
//	data           the records, at a multiple of max(64, align)
//	index          16- or 32-byte entries sorted by key hash, at a multiple of 128
//	guide          8 bytes × (2^guideBits + 1), right after the index
const (
	magic         = "TMBUNDLE" // 8 bytes at offset 0
	formatVersion = 2          // the format this code writes: 2 added direct entries
	readerVersion = 2          // the newest format version this code reads fully
	orderMark     = 0x0102     // read back as 0x0102 only in little-endian order

	headerSize   = 128 // fixed header, before the section table
	sectionSize  = 32  // kind 4 + reserved 4 + offset 8 + size 8 + checksum 8
	maxSections  = 16  // a table of at most 512 bytes
	sectionAlign = 64  // data starts on a cache line (the index on a window: indexAlign)
	guideWord    = 8   // one uint64 per guide bucket boundary
	maxGuideBits = 40  // 2^40 buckets: far beyond any file this format holds
)

// Offsets of the header's fields.
const (
	hMagic       = 0   // [8]byte magic
	hVersion     = 8   // uint16 format version
	hMinReader   = 10  // uint16 minimum reader version
	hOrder       = 12  // uint16 orderMark
	hIndexKind   = 14  // uint8 IndexKind + 1 (0 is invalid)
	hFlags       = 15  // uint8 flag bits
	hAlignLog    = 16  // uint8 log2 of the value alignment
	hGuideBits   = 17  // uint8 guide bits
	hSections    = 18  // uint16 number of sections
	hInlineKey   = 20  // uint8 inline key width of the entries: 0 or inlineKeyBytes (version 2)
	hReserved    = 21  // [3]byte, zero
	hFileSize    = 24  // uint64 size of the whole file
	hRecords     = 32  // uint64 index entries
	hKeys        = 40  // uint64 distinct keys
	hKeyBytes    = 48  // uint64 bytes of distinct keys
	hValueBytes  = 56  // uint64 bytes of all values, as added
	hStored      = 64  // uint64 bytes of values stored (after dedup)
	hDeduped     = 72  // uint64 values stored as a reference to an identical one
	hMetaBytes   = 80  // uint64 bytes of meta areas
	hCollisions  = 88  // uint64 distinct keys whose hash equals the previous key's
	hDirect      = 96  // uint64 direct entries (version 2; zero in version 1)
	hChecksum    = 120 // uint64 xxHash64 of bytes [0,120) and the section table
	checksummed  = hChecksum
	flagMeta     = 1 << 0 // records carry a meta area
	knownFlags   = flagMeta
	sectionData  = 1
	sectionIndex = 2
	sectionGuide = 3
)

// section is one row of the section table.
type section struct {
	kind      uint32
	off, size uint64
	sum       uint64 // xxHash64 of the section's bytes
}

// counts are the statistics a bundle's header carries.
type counts struct {
	records, keys, keyBytes, valueBytes, stored, deduped, metaBytes, collisions, direct uint64
}

// header is the decoded header and section table.
type header struct {
	version, minReader uint16
	kind               IndexKind
	flags              uint8
	alignLog           uint8
	guideBits          uint8
	inlineKey          uint8 // bytes of key in an entry
	fileSize           uint64
	counts
	sections []section
}

func (h *header) align() uint64 { return 1 << h.alignLog }

// entrySize returns the size of the header's index entries.
func (h *header) entrySize() uint64 { return entrySize(h.inlineKey) }

// minReaderFor returns the oldest reader that can read a file with this
// header: a version 1 reader reads indirect entries of 16 bytes only.
func (h *header) minReaderFor() uint16 {
	if h.direct > 0 || h.inlineKey > 0 {
		return 2
	}
	return 1
}

// size returns the bytes of the header plus the section table.
func (h *header) size() int { return headerSize + sectionSize*len(h.sections) }

// encode returns the header and section table with its checksum.
func (h *header) encode() []byte {
	b := make([]byte, h.size())
	le := binary.LittleEndian
	copy(b[hMagic:], magic)
	le.PutUint16(b[hVersion:], h.version)
	le.PutUint16(b[hMinReader:], h.minReader)
	le.PutUint16(b[hOrder:], orderMark)
	b[hIndexKind] = uint8(h.kind) + 1
	b[hFlags] = h.flags
	b[hAlignLog] = h.alignLog
	b[hGuideBits] = h.guideBits
	b[hInlineKey] = h.inlineKey
	le.PutUint16(b[hSections:], uint16(len(h.sections)))
	le.PutUint64(b[hFileSize:], h.fileSize)
	for i, v := range h.counts.fields() {
		le.PutUint64(b[hRecords+8*i:], *v)
	}
	for i, s := range h.sections {
		p := b[headerSize+sectionSize*i:]
		le.PutUint32(p[0:], s.kind)
		le.PutUint64(p[8:], s.off)
		le.PutUint64(p[16:], s.size)
		le.PutUint64(p[24:], s.sum)
	}
	le.PutUint64(b[hChecksum:], headerSum(b))
	return b
}

// fields lists the counts in header order, from hRecords on.
func (c *counts) fields() []*uint64 {
	return []*uint64{&c.records, &c.keys, &c.keyBytes, &c.valueBytes, &c.stored, &c.deduped, &c.metaBytes, &c.collisions, &c.direct}
}

// headerSum is the checksum of a header and section table b.
func headerSum(b []byte) uint64 {
	d := xxhash.New()
	d.Write(b[:checksummed])
	d.Write(b[headerSize:])
	return d.Sum64()
}

// decodeHeader reads and checks the header and section table at the start of
// m, a mapping of the whole file. It reads a constant number of bytes.
func decodeHeader(m memory.Memory) (header, error) {
	var h header
	if m.Size() < headerSize {
		return h, corrupt("header: file of %d bytes is shorter than the %d-byte header", m.Size(), headerSize)
	}
	b := m.Bytes(0, headerSize)
	if string(b[hMagic:hMagic+len(magic)]) != magic {
		return h, corrupt("header: bad magic %q", b[:len(magic)])
	}
	le := binary.LittleEndian
	h.version, h.minReader = le.Uint16(b[hVersion:]), le.Uint16(b[hMinReader:])
	if h.minReader > readerVersion {
		return h, fmt.Errorf("%w: the file needs a reader of version %d, this one is %d", ErrVersion, h.minReader, readerVersion)
	}
	if le.Uint16(b[hOrder:]) != orderMark {
		return h, corrupt("header: byte order mark %#04x is not little-endian", le.Uint16(b[hOrder:]))
	}
	n := int64(le.Uint16(b[hSections:]))
	if n > maxSections || headerSize+sectionSize*n > m.Size() {
		return h, corrupt("header: %d sections do not fit", n)
	}
	full := m.Bytes(0, headerSize+sectionSize*n)
	if sum := le.Uint64(b[hChecksum:]); headerSum(full) != sum {
		return h, corrupt("header: checksum mismatch")
	}
	h.decodeFields(full)
	return h, h.check(m.Size())
}

// decodeFields fills h from a header whose checksum has been verified.
func (h *header) decodeFields(b []byte) {
	le := binary.LittleEndian
	h.kind = IndexKind(b[hIndexKind] - 1) // 0 wraps to 255, rejected by check
	h.flags, h.alignLog, h.guideBits, h.inlineKey = b[hFlags], b[hAlignLog], b[hGuideBits], b[hInlineKey]
	h.fileSize = le.Uint64(b[hFileSize:])
	for i, v := range h.counts.fields() {
		*v = le.Uint64(b[hRecords+8*i:])
	}
	h.sections = make([]section, (len(b)-headerSize)/sectionSize)
	for i := range h.sections {
		p := b[headerSize+sectionSize*i:]
		h.sections[i] = section{kind: le.Uint32(p[0:]), off: le.Uint64(p[8:]), size: le.Uint64(p[16:]), sum: le.Uint64(p[24:])}
	}
}

// check validates the decoded fields against each other and the file size.
func (h *header) check(fileSize int64) error {
	switch {
	case h.kind > Multi:
		return corrupt("header: unknown index kind %d", uint8(h.kind)+1)
	case h.version <= readerVersion && h.flags&^knownFlags != 0:
		return corrupt("header: unknown flags %#02x", h.flags)
	case h.alignLog > 12:
		return corrupt("header: alignment 2^%d is over 4096", h.alignLog)
	case h.guideBits > maxGuideBits:
		return corrupt("header: %d guide bits", h.guideBits)
	case h.inlineKey != 0 && (h.inlineKey != inlineKeyBytes || !h.kind.hasKeys()):
		return corrupt("header: inline key width %d with index kind %s", h.inlineKey, h.kind)
	case h.fileSize != uint64(fileSize):
		return corrupt("header: file is %d bytes, the header says %d (truncated or extended)", fileSize, h.fileSize)
	case h.keys > h.records || h.direct > h.records:
		return corrupt("header: %d keys and %d direct entries for %d records", h.keys, h.direct, h.records)
	}
	return h.checkSections()
}
