package disk

// Test hooks: internals reached from the external tests.

const (
	RecordHeaderSize  = recordHeaderSize
	SegmentHeaderSize = segmentHeaderSize
)

// Crash abandons s as a killed process would: no flush of the write
// buffer, no sync, no hint files; the files are closed and the lock
// released so that the test can reopen the directory.
func (s *Store) Crash() {
	s.gate.Close()
	s.stopBackground()
	s.shutdownSegments()
	s.lock.Close()
}

// Location says where key's record is: its segment file, the record's
// offset and length, and where its stored value starts.
type Location struct {
	File          string
	Off, Size     int64
	ValueOff      int64
	Stored        int64
	SegmentID     uint64
	Compressed    bool
	SegmentSealed bool
	Compacted     bool // the segment was written by compaction
}

// Locate returns where key's newest record is, tombstones included.
func (s *Store) Locate(key string) (Location, bool) {
	e, ok := s.index.get(key)
	if !ok {
		return Location{}, false
	}
	return Location{
		File: fileName(s.dir, e.seg.id, segmentExt), Off: e.off, Size: e.size,
		ValueOff: e.valueOff(key), Stored: e.stored(key), SegmentID: e.seg.id,
		Compressed: e.codec == codecZstd, SegmentSealed: e.seg.sealed.Load(), Compacted: e.seg.compacted,
	}, true
}

// SegmentFile returns the path of segment id in dir; HintFile of its hint.
func SegmentFile(dir string, id uint64) string { return fileName(dir, id, segmentExt) }
func HintFile(dir string, id uint64) string    { return fileName(dir, id, hintExt) }

// SegmentHeaderChecksum returns the checksum field for the first 28 bytes
// of a segment header.
func SegmentHeaderChecksum(b []byte) []byte {
	var out [4]byte
	s := uint32(sum64(b[:28]))
	out[0], out[1], out[2], out[3] = byte(s), byte(s>>8), byte(s>>16), byte(s>>24)
	return out[:]
}

// SetCopyBuffered makes SetMeta copy a value stored in more than n bytes
// from segment to segment instead of reading it into memory, until the
// returned function restores the default.
func SetCopyBuffered(n int64) (restore func()) {
	old := copyBuffered.Swap(n)
	return func() { copyBuffered.Store(old) }
}
