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

// AfterSnapshotInstant makes every Snapshot call f right after its instant,
// before it lists the keys; nil removes it.
func AfterSnapshotInstant(f func()) { afterSnapshotInstant = f }

// SnapshotRunning reports whether m has a snapshot published.
func SnapshotRunning(m *Manager) bool { return m.snap.Load() != nil }
