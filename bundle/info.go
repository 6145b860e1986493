package bundle

// Info describes a bundle: what its header records. It is a plain snapshot.
type Info struct {
	Index       IndexKind
	Version     int   // format version of the file
	MinReader   int   // oldest reader version that can read it
	Records     int64 // index entries: one per value (Multi: per key and value)
	Keys        int64 // distinct keys
	KeyBytes    int64 // bytes of the distinct keys (also counted when not stored)
	ValueBytes  int64 // bytes of all values, as added
	StoredBytes int64 // bytes of values stored, after dedup
	Deduped     int64 // values stored as a reference to an identical one
	MetaBytes   int64 // bytes of the meta areas
	Collisions  int64 // distinct keys whose hash equals the previous key's
	// Direct is the number of direct entries: entries that hold their key
	// (up to InlineKey bytes) and their value's place, so that Get reads no
	// record. Records with a meta area, a longer key or a value of 256 KiB
	// or more have an entry that points to their record instead.
	Direct    int64
	InlineKey int // bytes of key an index entry holds: 0 or 16
	Align     int // alignment of inline values
	GuideBits int // the guide has 2^GuideBits buckets
	FileSize  int64
	Sections  []SectionInfo
}

// SectionInfo is one section of the file.
type SectionInfo struct {
	Name     string // "data", "index", "guide"
	Offset   int64
	Size     int64
	Checksum uint64 // xxHash64 of the section, as recorded; Verify recomputes it
}

func (h *header) info() Info {
	in := Info{
		Index: h.kind, Version: int(h.version), MinReader: int(h.minReader),
		Records: int64(h.records), Keys: int64(h.keys), KeyBytes: int64(h.keyBytes),
		ValueBytes: int64(h.valueBytes), StoredBytes: int64(h.stored), Deduped: int64(h.deduped),
		MetaBytes: int64(h.metaBytes), Collisions: int64(h.collisions),
		Direct: int64(h.direct), InlineKey: int(h.inlineKey),
		Align: int(h.align()), GuideBits: int(h.guideBits), FileSize: int64(h.fileSize),
	}
	for _, s := range h.sections {
		in.Sections = append(in.Sections, SectionInfo{Name: sectionName(s.kind), Offset: int64(s.off), Size: int64(s.size), Checksum: s.sum})
	}
	return in
}
