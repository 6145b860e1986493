package object

import (
	"bytes"
	"encoding/binary"
	"sync"

	"github.com/zeebo/xxh3"
)

// A pack is one object holding the frames of many values, written whole
// once it reaches Options.PackSize. It begins with a header; frames follow
// back to back, in the order they were appended, so that within a pack a
// later frame of a key replaces an earlier one; an end record closes it:
//
//	0   magic "TMGP"
//	4   version u8 (2; 1 for packs without an end record)
//	5   reserved, 3 zero bytes
//	8   seq u64: the sequence number in the pack's name
//	16  frames
//	end magic "TMGE", frames u32, the pack's length u64, XXH3-64 of the
//	    16 bytes before it
//
// The end record lets a scan (a pack whose index is lost) tell a whole pack
// from one cut at a frame boundary, whose missing frames could be newer
// values of keys that earlier packs hold too. Version 1 packs, written
// before it, are read as they were.
const (
	packMagic    = "TMGP"
	packVersion  = 2
	packHeader   = 16 // magic 4 + version 1 + reserved 3 + seq 8
	packEndMagic = "TMGE"
	packEnd      = 24 // magic 4 + frames 4 + length 8 + checksum 8
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
	copied   bool // a frame compaction copied from an older pack: Revert leaves it
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

// appendPackEnd appends the end record of a pack of frames frames to dst,
// the pack's bytes so far.
func appendPackEnd(dst []byte, frames int) []byte {
	start := len(dst)
	dst = append(dst, packEndMagic...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(frames))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(start+packEnd))
	return binary.LittleEndian.AppendUint64(dst, xxh3.Hash(dst[start:]))
}

// checkPackEnd verifies that the end record b begins with closes a pack of
// length n holding frames frames.
func checkPackEnd(b []byte, n, frames int) error {
	switch {
	case len(b) != packEnd:
		return badFormat(0, "pack end record of %d bytes, not %d (the pack was cut or grown)", len(b), packEnd)
	case xxh3.Hash(b[:16]) != binary.LittleEndian.Uint64(b[16:]):
		return badFormat(16, "pack end record checksum does not match")
	case int(binary.LittleEndian.Uint64(b[8:])) != n:
		return badFormat(8, "pack end record says %d bytes, the pack is %d", binary.LittleEndian.Uint64(b[8:]), n)
	case int(binary.LittleEndian.Uint32(b[4:])) != frames:
		return badFormat(4, "pack end record says %d frames, the pack holds %d", binary.LittleEndian.Uint32(b[4:]), frames)
	}
	return nil
}

// checkPackHeader verifies that b begins with the header of pack seq.
func checkPackHeader(b []byte, seq uint64) error {
	switch {
	case len(b) < packHeader:
		return badFormat(0, "pack header cut at %d of %d bytes", len(b), packHeader)
	case !bytes.Equal(b[:4], []byte(packMagic)):
		return badFormat(0, "no pack magic")
	case b[4] != packVersion && b[4] != 1:
		return badFormat(4, "pack version %d, this package reads 1 and %d", b[4], packVersion)
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
	ended := b[4] == 1 // a version 1 pack has no end record
	var entries []entry
	for off := packHeader; off < len(b); {
		if !ended && bytes.HasPrefix(b[off:], []byte(packEndMagic)) {
			if err := checkPackEnd(b[off:], len(b), len(entries)); err != nil {
				return nil, atOffset(err, int64(off))
			}
			ended = true
			break
		}
		e, err := scanFrame(b[off:])
		if err != nil {
			return nil, atOffset(err, int64(off))
		}
		e.off = int64(off)
		entries = append(entries, e)
		off += int(e.frameLen)
	}
	if !ended {
		return nil, badFormat(int64(len(b)), "pack cut: no end record after its last whole frame")
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

	// placed: an upload began, so the bucket may hold the pack or its
	// index, until it is durable or a failed upload's objects are deleted
	// (removeObjects). stale: the bucket may hold an older version of the
	// pack's objects, or receive one late: Revert changed the pack's bytes
	// while it was placed and could not delete what the bucket may hold,
	// or an index request failed and may land after unplace's deletes. The
	// next upload deletes them first, so that no object holds a frame
	// Revert took out and no index names another version of the pack.
	// foreign: a create found another writer's pack under its name, which
	// the store must not delete.
	placed, stale, foreign bool

	uploadMu sync.Mutex // held by the one goroutine uploading the pack, or by Revert changing its bytes; taken before Store.mu
}

// framesLen returns the bytes of the pack's frames: its size less its
// header and end record (frames lie back to back from the header on).
func (p *pack) framesLen() int64 {
	if len(p.entries) == 0 {
		return 0
	}
	last := &p.entries[len(p.entries)-1]
	return last.off + int64(last.frameLen) - packHeader
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
