package object

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/zeebo/xxh3"
)

// A frame is one value, or one tombstone, in a pack: self-describing, so
// that a pack whose index is lost is read back frame by frame. All
// integers are little-endian; docs/glacier-format.md draws the layout.
//
//	0   magic "TMGF"
//	4   kind      u8   1 value, 2 tombstone
//	5   codec     u8   0 raw, 1 zstd
//	6   keyLen    u16
//	8   metaLen   u32
//	12  rawLen    u32  the value's length before compression
//	16  storedLen u32  the stored bytes' length
//	20  key, meta, stored bytes
//	end checksum  u64  XXH3-64 of every byte before it
const (
	frameMagic   = "TMGF"
	frameHeader  = 20                         // magic 4 + kind, codec 2 + keyLen 2 + metaLen, rawLen, storedLen 12
	frameTrailer = 8                          // the checksum
	frameFixed   = frameHeader + frameTrailer // bytes of a frame besides key, meta and value
	maxKeyLen    = math.MaxUint16
	// maxFrameLen bounds a whole frame (so its offsets and lengths fit an
	// int32), and maxValueLen a value with its meta: Put checks the frame
	// it would write against the one limit frameLen reads back with.
	maxFrameLen = math.MaxInt32
	maxValueLen = maxFrameLen - frameFixed
)

// Frame kinds.
const (
	kindValue     = 1
	kindTombstone = 2
)

// Codecs of a frame's stored bytes.
const (
	codecRaw  = 0
	codecZstd = 1
)

// frame is a decoded frame; its slices point into the bytes it was
// decoded from.
type frame struct {
	kind, codec byte
	key         []byte
	meta        []byte
	rawLen      uint32
	stored      []byte
}

// size returns the encoded length of f.
func (f *frame) size() int {
	return frameFixed + len(f.key) + len(f.meta) + len(f.stored)
}

// appendFrame appends the encoding of f to dst.
func appendFrame(dst []byte, f *frame) []byte {
	start := len(dst)
	dst = append(dst, frameMagic...)
	dst = append(dst, f.kind, f.codec)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(f.key)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(f.meta)))
	dst = binary.LittleEndian.AppendUint32(dst, f.rawLen)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(f.stored)))
	dst = append(dst, f.key...)
	dst = append(dst, f.meta...)
	dst = append(dst, f.stored...)
	return binary.LittleEndian.AppendUint64(dst, xxh3.Hash(dst[start:]))
}

// frameLen returns the length of the frame that b begins with, from its
// header alone, or an error if the header cannot begin a frame.
func frameLen(b []byte) (int, error) {
	if len(b) < frameHeader {
		return 0, badFormat(0, "frame header cut at %d of %d bytes", len(b), frameHeader)
	}
	if !bytes.Equal(b[:4], []byte(frameMagic)) {
		return 0, badFormat(0, "no frame magic")
	}
	keyLen := int64(binary.LittleEndian.Uint16(b[6:]))
	metaLen := int64(binary.LittleEndian.Uint32(b[8:]))
	storedLen := int64(binary.LittleEndian.Uint32(b[16:]))
	n := frameFixed + keyLen + metaLen + storedLen
	if n > maxFrameLen {
		return 0, badFormat(0, "frame of %d bytes", n)
	}
	return int(n), nil
}

// decodeFrame decodes the frame that b holds exactly, verifying its
// checksum and fields.
func decodeFrame(b []byte) (frame, error) {
	n, err := frameLen(b)
	if err != nil {
		return frame{}, err
	}
	if n != len(b) {
		return frame{}, badFormat(0, "frame of %d bytes in %d", n, len(b))
	}
	sumAt := len(b) - frameTrailer
	if got, want := xxh3.Hash(b[:sumAt]), binary.LittleEndian.Uint64(b[sumAt:]); got != want {
		return frame{}, badFormat(0, "frame checksum %016x, stored %016x", got, want)
	}
	return frameFields(b)
}

// frameFields reads the fields of a frame whose length and checksum
// verified.
func frameFields(b []byte) (frame, error) {
	f := frame{kind: b[4], codec: b[5], rawLen: binary.LittleEndian.Uint32(b[12:])}
	keyEnd := frameHeader + int(binary.LittleEndian.Uint16(b[6:]))
	metaEnd := keyEnd + int(binary.LittleEndian.Uint32(b[8:]))
	f.key, f.meta, f.stored = b[frameHeader:keyEnd], b[keyEnd:metaEnd], b[metaEnd:len(b)-frameTrailer]
	switch {
	case f.kind != kindValue && f.kind != kindTombstone:
		return frame{}, badFormat(4, "frame kind %d", f.kind)
	case f.codec > codecZstd:
		return frame{}, badFormat(5, "frame codec %d", f.codec)
	case len(f.key) == 0:
		return frame{}, badFormat(6, "frame with an empty key")
	case f.codec == codecRaw && int64(len(f.stored)) != int64(f.rawLen):
		return frame{}, badFormat(12, "raw frame stores %d bytes of a %d-byte value", len(f.stored), f.rawLen)
	case f.kind == kindTombstone && (len(f.stored) != 0 || len(f.meta) != 0):
		return frame{}, badFormat(4, "tombstone with a value")
	}
	return f, nil
}
