package tiermem

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// ManifestForTest returns a snapshot manifest of the given format and
// reader versions, with a valid checksum.
func ManifestForTest(version, minReader uint16) []byte {
	b := encodeManifest(SnapshotInfo{})
	binary.LittleEndian.PutUint16(b[mVersion:], version)
	binary.LittleEndian.PutUint16(b[mMinReader:], minReader)
	binary.LittleEndian.PutUint64(b[mChecksum:], xxhash.Sum64(b[:mChecksum]))
	return b
}
