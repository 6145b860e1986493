package disk

// Cost returns the bytes Put reports for an entry stored uncompressed: its
// record, header included. A compressed entry costs less.
func (s *Store) Cost(keyLen, valueLen, metaLen int) int64 {
	return int64(recordHeaderSize + keyLen + metaLen + valueLen)
}
