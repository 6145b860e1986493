package object

import (
	"bytes"
	"encoding/binary"

	"github.com/zeebo/xxh3"
)

// An index object lists every frame of one pack, in order, so that Open
// rebuilds the catalog without reading packs, and Meta and Scan never read
// one. It holds nothing the pack does not: a lost index is rebuilt by
// scanning the pack (scanPack).
//
//	0   magic "TMGI"
//	4   version u8 (1)
//	5   reserved, 3 zero bytes
//	8   seq u64: the pack's sequence number
//	16  count u32: the entries
//	20  reserved u32
//	24  packLen u64: the pack object's length
//	32  entries, each:
//	      kind u8, codec u8, keyLen u16, metaLen u32,
//	      off u64, frameLen u32, rawLen u32, key, meta
//	end checksum u64: XXH3-64 of every byte before it
const (
	indexMagic     = "TMGI"
	indexVersion   = 1
	indexHeader    = 32 // magic 4 + version 1 + reserved 3 + seq 8 + count 4 + reserved 4 + packLen 8
	indexEntryHead = 24 // kind, codec 2 + keyLen 2 + metaLen 4 + off 8 + frameLen 4 + rawLen 4
	indexTrailer   = 8
)

// indexEntrySize returns the bytes an entry with a key of keyLen and meta
// of metaLen bytes takes in an index.
func indexEntrySize(keyLen, metaLen int) int64 {
	return int64(indexEntryHead + keyLen + metaLen)
}

// encodeIndex returns the index of pack seq, packLen bytes long, holding
// entries.
func encodeIndex(seq uint64, packLen int64, entries []entry) []byte {
	n := indexHeader + indexTrailer
	for i := range entries {
		n += int(indexEntrySize(len(entries[i].key), len(entries[i].meta)))
	}
	b := make([]byte, 0, n)
	b = append(b, indexMagic...)
	b = append(b, indexVersion, 0, 0, 0)
	b = binary.LittleEndian.AppendUint64(b, seq)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(entries)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(packLen))
	for i := range entries {
		b = appendIndexEntry(b, &entries[i])
	}
	return binary.LittleEndian.AppendUint64(b, xxh3.Hash(b))
}

func appendIndexEntry(b []byte, e *entry) []byte {
	b = append(b, e.kind, e.codec)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(e.key)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e.meta)))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.off))
	b = binary.LittleEndian.AppendUint32(b, e.frameLen)
	b = binary.LittleEndian.AppendUint32(b, e.rawLen)
	b = append(b, e.key...)
	return append(b, e.meta...)
}

// decodeIndex decodes the index of pack seq and returns its entries and
// the pack's length as the index records it. Every entry is checked
// against the pack's bounds and the previous entry, so that a decoded
// index never points outside its pack.
func decodeIndex(b []byte, seq uint64) ([]entry, int64, error) {
	packLen, count, err := indexHead(b, seq)
	if err != nil {
		return nil, 0, err
	}
	body := b[:len(b)-indexTrailer]
	entries := make([]entry, 0, min(count, len(body)/indexEntryHead))
	end := int64(packHeader) // where the previous frame ended
	for off := indexHeader; off < len(body); {
		e, n, err := indexEntry(body[off:], end, packLen)
		if err != nil {
			return nil, 0, atOffset(err, int64(off))
		}
		entries = append(entries, e)
		end = e.off + int64(e.frameLen)
		off += n
	}
	if len(entries) != count {
		return nil, 0, badFormat(16, "index counts %d entries, holds %d", count, len(entries))
	}
	return entries, packLen, nil
}

// indexHead verifies an index's checksum and header and returns the
// pack's length and the entry count.
func indexHead(b []byte, seq uint64) (packLen int64, count int, err error) {
	switch {
	case len(b) < indexHeader+indexTrailer:
		return 0, 0, badFormat(0, "index of %d bytes", len(b))
	case xxh3.Hash(b[:len(b)-indexTrailer]) != binary.LittleEndian.Uint64(b[len(b)-indexTrailer:]):
		return 0, 0, badFormat(int64(len(b)-indexTrailer), "index checksum does not match")
	case !bytes.Equal(b[:4], []byte(indexMagic)):
		return 0, 0, badFormat(0, "no index magic")
	case b[4] != indexVersion:
		return 0, 0, badFormat(4, "index version %d, this package reads %d", b[4], indexVersion)
	case b[5]|b[6]|b[7] != 0 || binary.LittleEndian.Uint32(b[20:]) != 0:
		return 0, 0, badFormat(5, "index reserved bytes are not zero")
	case binary.LittleEndian.Uint64(b[8:]) != seq:
		return 0, 0, badFormat(8, "index of pack %016x named as pack %016x", binary.LittleEndian.Uint64(b[8:]), seq)
	}
	packLen = int64(binary.LittleEndian.Uint64(b[24:]))
	if packLen < packHeader || packLen > 1<<50 {
		return 0, 0, badFormat(24, "pack length %d", packLen)
	}
	return packLen, int(binary.LittleEndian.Uint32(b[16:])), nil
}

// indexEntry decodes the entry b begins with, which must describe a frame
// that starts at or after end and lies within packLen; it returns the
// entry and its encoded length.
func indexEntry(b []byte, end, packLen int64) (entry, int, error) {
	if len(b) < indexEntryHead {
		return entry{}, 0, badFormat(0, "index entry cut")
	}
	keyLen, metaLen := int(binary.LittleEndian.Uint16(b[2:])), int64(binary.LittleEndian.Uint32(b[4:]))
	n := int64(indexEntryHead) + int64(keyLen) + metaLen
	if n > int64(len(b)) {
		return entry{}, 0, badFormat(0, "index entry of %d bytes cut at %d", n, len(b))
	}
	e := entry{kind: b[0], codec: b[1], off: int64(binary.LittleEndian.Uint64(b[8:])),
		frameLen: binary.LittleEndian.Uint32(b[16:]), rawLen: binary.LittleEndian.Uint32(b[20:])}
	e.key = string(b[indexEntryHead : indexEntryHead+keyLen])
	if metaLen > 0 {
		e.meta = bytes.Clone(b[indexEntryHead+keyLen : n])
	}
	return e, int(n), checkIndexEntry(&e, len(e.meta), end, packLen)
}

// checkIndexEntry verifies that e can describe a frame of its pack.
func checkIndexEntry(e *entry, metaLen int, end, packLen int64) error {
	least := int64(frameFixed + len(e.key) + metaLen)
	switch {
	case e.kind != kindValue && e.kind != kindTombstone:
		return badFormat(0, "index entry kind %d", e.kind)
	case e.codec > codecZstd:
		return badFormat(1, "index entry codec %d", e.codec)
	case e.key == "":
		return badFormat(2, "index entry with an empty key")
	case e.off < end || e.off > packLen:
		return badFormat(8, "frame at byte %d, the previous ends at %d, the pack at %d", e.off, end, packLen)
	case int64(e.frameLen) < least || e.off+int64(e.frameLen) > packLen:
		return badFormat(16, "frame of %d bytes at byte %d of a %d-byte pack", e.frameLen, e.off, packLen)
	}
	return nil
}
