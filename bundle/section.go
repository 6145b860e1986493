package bundle

import (
	"cmp"
	"slices"
)

var sectionNames = map[uint32]string{sectionData: "data", sectionIndex: "index", sectionGuide: "guide"}

// sectionName names a section kind for messages and Info.
func sectionName(kind uint32) string {
	if n, ok := sectionNames[kind]; ok {
		return n
	}
	return "unknown"
}

// find returns the section of the given kind; check guarantees each required
// kind appears exactly once.
func (h *header) find(kind uint32) section {
	for _, s := range h.sections {
		if s.kind == kind {
			return s
		}
	}
	return section{}
}

// checkSections validates the section table: the three required sections
// appear once each, lie inside the file after the table, do not overlap, are
// aligned and have the sizes the counts imply.
func (h *header) checkSections() error {
	seen := map[uint32]bool{}
	for _, s := range h.sections {
		name := sectionName(s.kind)
		if name == "unknown" && h.version <= readerVersion {
			return corrupt("section table: unknown section kind %d", s.kind)
		}
		if seen[s.kind] {
			return corrupt("section table: two %s sections", name)
		}
		seen[s.kind] = true
		if s.off < uint64(h.size()) || s.off > h.fileSize || s.size > h.fileSize-s.off {
			return corrupt("section %s: %d bytes at offset %d lie outside the file", name, s.size, s.off)
		}
	}
	for _, kind := range []uint32{sectionData, sectionIndex, sectionGuide} {
		if !seen[kind] {
			return corrupt("section table: no %s section", sectionName(kind))
		}
	}
	if err := h.checkOverlap(); err != nil {
		return err
	}
	return h.checkShapes()
}

// checkOverlap rejects sections that share bytes.
func (h *header) checkOverlap() error {
	s := slices.Clone(h.sections)
	slices.SortFunc(s, func(a, b section) int { return cmp.Compare(a.off, b.off) })
	for i := 1; i < len(s); i++ {
		if s[i-1].off+s[i-1].size > s[i].off {
			return corrupt("section %s overlaps section %s", sectionName(s[i-1].kind), sectionName(s[i].kind))
		}
	}
	return nil
}

// checkShapes checks the alignment and size of each required section.
func (h *header) checkShapes() error {
	data, index, guide := h.find(sectionData), h.find(sectionIndex), h.find(sectionGuide)
	switch {
	case data.off%max(h.align(), sectionAlign) != 0:
		return corrupt("section data: offset %d is not aligned to %d", data.off, h.align())
	case index.off%h.entrySize() != 0:
		return corrupt("section index: offset %d is not aligned to %d", index.off, h.entrySize())
	case h.records > index.size/h.entrySize() || index.size != h.records*h.entrySize():
		return corrupt("section index: %d bytes for %d entries of %d bytes", index.size, h.records, h.entrySize())
	case guide.off%guideWord != 0:
		return corrupt("section guide: offset %d is not aligned to %d", guide.off, guideWord)
	case guide.size != (uint64(1)<<h.guideBits+1)*guideWord:
		return corrupt("section guide: %d bytes for %d guide bits", guide.size, h.guideBits)
	}
	return nil
}
