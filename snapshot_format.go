package tiermem

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cespare/xxhash/v2"
)

// A snapshot is a bundle (package bundle) with an exact index. Each key of
// the image is one record: the key, the value's bytes as stored, and a meta
// area of one byte of tier followed by the value's header (the Manager's
// encoding of kind, pin, expiry, dtype and shape; empty for plain bytes).
// The empty key, which no Manager key can be, holds the manifest, all
// integers little-endian (docs/snapshot-format.md draws both):
//
//	0    [8]  magic "TMSNAPSH"
//	8    u16  format version
//	10   u16  oldest reader version that reads the file
//	12   u32  flags, zero
//	16   i64  the instant, Unix ns
//	24   u64  keys
//	32   u64  value bytes
//	40   4 × (u64 keys, u64 value bytes), hot, warm, cold, glacier
//	104  u64  xxHash64 of bytes [0, 104)
const (
	snapshotMagic   = "TMSNAPSH"
	snapshotVersion = 1 // the format this code writes and the newest it reads

	mVersion     = 8
	mMinReader   = 10
	mFlags       = 12
	mCreated     = 16
	mKeys        = 24
	mBytes       = 32
	mTiers       = 40
	mChecksum    = mTiers + 4*16 // 104
	manifestSize = mChecksum + 8 // 112
)

// manifestKey is the key of the manifest record: empty, which checkKey
// refuses for every Manager key.
var manifestKey = []byte{}

// encodeManifest returns the manifest of a snapshot.
func encodeManifest(in SnapshotInfo) []byte {
	b := make([]byte, manifestSize)
	copy(b, snapshotMagic)
	binary.LittleEndian.PutUint16(b[mVersion:], snapshotVersion)
	binary.LittleEndian.PutUint16(b[mMinReader:], snapshotVersion)
	binary.LittleEndian.PutUint64(b[mCreated:], uint64(in.Created.UnixNano()))
	binary.LittleEndian.PutUint64(b[mKeys:], uint64(in.Keys))
	binary.LittleEndian.PutUint64(b[mBytes:], uint64(in.Bytes))
	for i, t := range in.Tiers {
		binary.LittleEndian.PutUint64(b[mTiers+16*i:], uint64(t.Keys))
		binary.LittleEndian.PutUint64(b[mTiers+16*i+8:], uint64(t.Bytes))
	}
	binary.LittleEndian.PutUint64(b[mChecksum:], xxhash.Sum64(b[:mChecksum]))
	return b
}

// decodeManifest parses a manifest. An error wraps ErrSnapshotCorrupt, or
// ErrSnapshotVersion for a file only a newer reader reads.
func decodeManifest(b []byte) (SnapshotInfo, error) {
	var in SnapshotInfo
	if len(b) < manifestSize || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return in, fmt.Errorf("%w: no snapshot manifest (a bundle, but not a snapshot)", ErrSnapshotCorrupt)
	}
	le := binary.LittleEndian
	if minReader := le.Uint16(b[mMinReader:]); minReader > snapshotVersion {
		return in, fmt.Errorf("%w: format version %d needs a reader of version %d; this one reads up to %d",
			ErrSnapshotVersion, le.Uint16(b[mVersion:]), minReader, snapshotVersion)
	}
	if len(b) != manifestSize || le.Uint64(b[mChecksum:]) != xxhash.Sum64(b[:mChecksum]) {
		return in, fmt.Errorf("%w: the manifest fails its checksum", ErrSnapshotCorrupt)
	}
	if le.Uint32(b[mFlags:]) != 0 {
		return in, fmt.Errorf("%w: unknown manifest flags %#x", ErrSnapshotCorrupt, le.Uint32(b[mFlags:]))
	}
	in.Version = int(le.Uint16(b[mVersion:]))
	in.Created = time.Unix(0, int64(le.Uint64(b[mCreated:])))
	in.Keys, in.Bytes = int64(le.Uint64(b[mKeys:])), int64(le.Uint64(b[mBytes:]))
	for i := range in.Tiers {
		in.Tiers[i] = SnapshotTier{Keys: int64(le.Uint64(b[mTiers+16*i:])), Bytes: int64(le.Uint64(b[mTiers+16*i+8:]))}
	}
	return in, nil
}

// appendRecordMeta appends a record's meta area: its tier, then the
// value's header.
func appendRecordMeta(b []byte, level Tier, header []byte) []byte {
	return append(append(b, byte(level)), header...)
}

// decodeRecordMeta parses a record's meta area. An error wraps
// ErrSnapshotCorrupt.
func decodeRecordMeta(meta []byte) (Tier, []byte, error) {
	if len(meta) == 0 || meta[0] > byte(Glacier) {
		return 0, nil, fmt.Errorf("%w: a record without a valid tier", ErrSnapshotCorrupt)
	}
	if _, err := decodeHeader(meta[1:]); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
	}
	return Tier(meta[0]), meta[1:], nil
}
