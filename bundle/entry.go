package bundle

import "encoding/binary"

// An index entry is
//
//	hash  uint64    xxHash64 of the key
//	loc   uint64    where the value, or the whole record, is
//	key   [w]byte   in a direct entry of a keyed bundle: the key, zero-padded
//
// where w, the inline key width, is 0 or inlineKeyBytes (the header says
// which). loc takes one of two forms, told apart by its top bit:
//
//	direct    1 | key length (5 bits) | value length (18 bits) | value offset (40 bits)
//	indirect  0 | offset of the record in the data section (63 bits)
//
// A direct entry holds all a lookup needs, its key and its value's place,
// so Get reads no record: its value is a slice of the data section at the
// offset, either its own bytes or an identical value's. An entry is direct
// when its record has no meta area, its key fits the inline width (and, in an
// approximate bundle, is not stored at all: length 0), its value is under
// 256 KiB and lies in the first TiB of the data section. Other records keep the
// full form of the data section (data.go) and their entries point to them;
// the entries of a version 1 file are all indirect.
const (
	entryHead      = 16 // hash 8 + loc 8
	inlineKeyBytes = 16 // the key of a direct entry, in a 32-byte entry: two per cache line

	locDirect      = 1 << 63 // loc is direct
	locKeyShift    = 58      // key length: bits 58..62
	locLenShift    = 40      // value length: bits 40..57
	maxInlineKey   = 1<<5 - 1
	maxDirectValue = 1<<18 - 1 // value lengths a direct loc holds (256 KiB - 1)
	maxDirectOff   = 1<<40 - 1 // value offsets a direct loc holds (1 TiB - 1)
)

// directLoc returns the loc of a direct entry.
func directLoc(keyLen int, valueLen, valueOff uint64) uint64 {
	return locDirect | uint64(keyLen)<<locKeyShift | valueLen<<locLenShift | valueOff
}

// locKeyLen returns the key length of a direct loc.
func locKeyLen(loc uint64) uint64 { return loc >> locKeyShift & maxInlineKey }

// locValue returns the value offset and length of a direct loc.
func locValue(loc uint64) (off, n uint64) {
	return loc & maxDirectOff, loc >> locLenShift & maxDirectValue
}

// entrySize returns the size of an entry of inline key width w.
func entrySize(w uint8) uint64 { return entryHead + uint64(w) }

// entries is the index section viewed as words: entry i starts at word
// i<<shift, with its hash, its loc, then (wide) its inline key. Words are
// little-endian.
type entries struct {
	w     []uint64
	shift uint8 // log2 of the words of an entry: 1, or 2 with an inline key
}

func newEntries(words []uint64, inlineKey uint8) entries {
	e := entries{w: words, shift: 1}
	if inlineKey > 0 {
		e.shift = 2
	}
	return e
}

func (e entries) len() int            { return len(e.w) >> e.shift }
func (e entries) hash(i int) uint64   { return le64(e.w[i<<e.shift]) }
func (e entries) loc(i int) uint64    { return le64(e.w[i<<e.shift+1]) }
func (e entries) wide() bool          { return e.shift == 2 }
func (e entries) perSpan() int        { return searchSpan / 8 >> e.shift }
func (e entries) key(i int) [2]uint64 { return [2]uint64{le64(e.w[i<<2+2]), le64(e.w[i<<2+3])} }

// inlineKey is a key as a direct entry of inline width inlineKeyBytes holds
// it: its length and its bytes zero-padded, as little-endian words. A key
// longer than the inline width gets a length no direct entry has.
type inlineKey struct {
	n uint64
	w [2]uint64
}

func inlineOf(key []byte) inlineKey {
	if len(key) == inlineKeyBytes {
		return inlineKey{n: inlineKeyBytes, w: [2]uint64{binary.LittleEndian.Uint64(key), binary.LittleEndian.Uint64(key[8:])}}
	}
	if len(key) > inlineKeyBytes {
		return inlineKey{n: maxInlineKey + 1}
	}
	var b [inlineKeyBytes]byte
	copy(b[:], key)
	return inlineKey{n: uint64(len(key)), w: [2]uint64{binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])}}
}

// holds reports whether direct entry i, whose loc is loc, holds key k.
func (e entries) holds(i int, loc uint64, k *inlineKey) bool {
	return locKeyLen(loc) == k.n && (!e.wide() || e.key(i) == k.w)
}
