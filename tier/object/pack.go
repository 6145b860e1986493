package object

import (
	"bytes"
	"encoding/binary"
	"sync"
)

// A pack is one object holding the frames of many values, written whole
// once it reaches Options.PackSize. It begins with a header; frames follow
// back to back, in the order they were appended, so that within a pack a
// later frame of a key replaces an earlier one:
//
//	0   magic "TMGP"
//	4   version u8 (1)
//	5   reserved, 3 zero bytes
//	8   seq u64: the sequence number in the pack's name
//	16  frames
const (
	packMagic   = "TMGP"
	packVersion = 1
	packHeader  = 16 // magic 4 + version 1 + reserved 3 + seq 8
)

// entry describes one frame of a pack: what its index lists, and what the
// catalog points at.
type entry struct {
	kind     byte
	codec    byte
	key      string
	meta     []byte // nil for none; never modified once the entry exists
	off      int64  // the frame's first byte in the pack
	frameLen uint32
	rawLen   uint32
}

// charge returns what the entry counts against the tier: its frame and
// its index entry.
func (e *entry) charge() int64 {
	return int64(e.frameLen) + indexEntrySize(len(e.key), len(e.meta))
}

// appendPackHeader appends the header of pack seq to dst.
func appendPackHeader(dst []byte, seq uint64) []byte {
	dst = append(dst, packMagic...)
	dst = append(dst, packVersion, 0, 0, 0)
	return binary.LittleEndian.AppendUint64(dst, seq)
}

// checkPackHeader verifies that b begins with the header of pack seq.
func checkPackHeader(b []byte, seq uint64) error {
	switch {
	case len(b) < packHeader:
		return badFormat(0, "pack header cut at %d of %d bytes", len(b), packHeader)
	case !bytes.Equal(b[:4], []byte(packMagic)):
		return badFormat(0, "no pack magic")
	case b[4] != packVersion:
		return badFormat(4, "pack version %d, this package reads %d", b[4], packVersion)
	case b[5]|b[6]|b[7] != 0:
		return badFormat(5, "pack header reserved bytes are not zero")
	case binary.LittleEndian.Uint64(b[8:]) != seq:
		return badFormat(8, "pack header says pack %016x, its name %016x", binary.LittleEndian.Uint64(b[8:]), seq)
	}
	return nil
}

// scanPack reads the entries of pack seq from its bytes, verifying every
// frame: how a pack whose index is lost is read back. Any damage fails the
// whole pack, since a frame past it could be a newer version of a key.
func scanPack(b []byte, seq uint64) ([]entry, error) {
	if err := checkPackHeader(b, seq); err != nil {
		return nil, err
	}
	var entries []entry
	for off := packHeader; off < len(b); {
		e, err := scanFrame(b[off:])
		if err != nil {
			return nil, atOffset(err, int64(off))
		}
		e.off = int64(off)
		entries = append(entries, e)
		off += int(e.frameLen)
	}
	return entries, nil
}

// scanFrame decodes the frame that b begins with into an entry (its
// offset left zero).
func scanFrame(b []byte) (entry, error) {
	n, err := frameLen(b)
	if err != nil {
		return entry{}, err
	}
	if n > len(b) {
		return entry{}, badFormat(0, "frame of %d bytes cut at %d", n, len(b))
	}
	f, err := decodeFrame(b[:n])
	if err != nil {
		return entry{}, err
	}
	return entryOf(&f, uint32(n)), nil
}

// entryOf returns the entry of a decoded frame of n bytes, copying its key
// and meta out of the frame's bytes.
func entryOf(f *frame, n uint32) entry {
	e := entry{kind: f.kind, codec: f.codec, key: string(f.key), frameLen: n, rawLen: f.rawLen}
	if len(f.meta) > 0 {
		e.meta = bytes.Clone(f.meta)
	}
	return e
}

// atOffset moves a format error found at a sub-slice to the offset of
// the whole.
func atOffset(err error, base int64) error {
	if fe, ok := err.(*formatError); ok {
		return &formatError{off: base + fe.off, reason: fe.reason}
	}
	return err
}

// pack is the state of one pack: the open one, one sealed and uploading,
// or one durable in the bucket.
type pack struct {
	seq uint64

	// Guarded by Store.mu.
	buf     []byte  // the pack's bytes while not durable; nil after; appended to only while open
	entries []entry // every frame, in order; fixed once sealed
	size    int64   // bytes of the pack object (header included)
	live    int64   // frame bytes of the values the catalog points at
	sealed  bool    // no more frames; index built
	durable bool    // pack and index are in the bucket
	failed  bool    // its last upload failed; counted in Store.failed
	index   []byte  // the encoded index, from sealing until durable

	uploadMu sync.Mutex // held by the one goroutine uploading the pack
}

// frameBytes returns the bytes of frame i, or nil if the pack is only in
// the bucket. s.mu must be held; the bytes are immutable and stay valid
// after it is released.
func (p *pack) frameBytes(i int) []byte {
	if p.buf == nil {
		return nil
	}
	e := &p.entries[i]
	return p.buf[e.off : e.off+int64(e.frameLen) : e.off+int64(e.frameLen)]
}
