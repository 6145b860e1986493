package bundle

import (
	"bytes"
	"cmp"
	"runtime/debug"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Verify reads the whole file and checks every byte of it: the header and
// section table against their checksum (checked by Open), each section
// against its checksum, the padding between them for zeros, then the
// structure: entries sorted by hash, every record inside the data section
// with a key that hashes to its entry, no key twice in an exact bundle, the
// guide matching the entries, and the header's counts matching the records.
// It returns nil or an error wrapping ErrCorrupt that names the section and
// the place. Open checks only the header; Verify is the whole-file check, on
// demand. A file truncated since it was opened (by another process: bundles
// are replaced by rename, never rewritten) is ErrCorrupt too, not the
// SIGBUS that Get's or All's caller would get reading a value from it.
func (b *Bundle) Verify() (err error) {
	if b.closed.Load() {
		return ErrClosed
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = corrupt("a page of the file cannot be read (truncated since it was opened?): %v", r)
		}
	}()
	for _, s := range b.hdr.sections {
		if b.sectionSum(s) != s.sum {
			return corrupt("section %s: checksum mismatch", sectionName(s.kind))
		}
	}
	if err := b.verifyPadding(); err != nil {
		return err
	}
	if err := b.verifyRecords(); err != nil {
		return err
	}
	return b.verifyGuide()
}

// verifyPadding checks that every byte outside the header, the section table
// and the sections is zero: the padding before the data section and between
// sections, which no checksum covers. Every writer of the format has left it
// zero (it is never written: a hole in the file).
func (b *Bundle) verifyPadding() error {
	s := slices.Clone(b.hdr.sections)
	slices.SortFunc(s, func(x, y section) int { return cmp.Compare(x.off, y.off) })
	at := uint64(b.hdr.size())
	for i := 0; i <= len(s); i++ {
		end, name := b.hdr.fileSize, "the end of the file"
		if i < len(s) {
			end, name = s[i].off, "section "+sectionName(s[i].kind)
		}
		gap := b.mem.Bytes(int64(at), int64(end-at))
		if j := slices.IndexFunc(gap, func(c byte) bool { return c != 0 }); j >= 0 {
			return corrupt("padding before %s: byte %d of the file is %#02x, not zero", name, at+uint64(j), gap[j])
		}
		if i < len(s) {
			at = s[i].off + s[i].size
		}
	}
	return nil
}

// verifyRecords walks the entries in order, decoding each record, and
// compares what it counts with the header.
func (b *Bundle) verifyRecords() error {
	var c counts
	var prev Record
	var end uint64 // the end of the data written before the current entry's
	rel := releaser{b: b}
	for i := range b.ix.e.len() {
		h := b.ix.e.hash(i)
		r, ref, err := b.verifyRecord(i, h, &end)
		if err != nil {
			return err
		}
		rel.pass(len(r.Key) + len(r.Meta) + len(r.Value))
		sameHash := i > 0 && h == b.ix.e.hash(i-1)
		sameKey := sameHash && bytes.Equal(r.Key, prev.Key) && b.lay.keys
		if sameKey && b.hdr.kind == Exact {
			return corrupt("section index: entry %d repeats the key of entry %d", i, i-1)
		}
		if !sameKey {
			c.keys++
			c.keyBytes += uint64(len(r.Key))
		}
		if sameHash && !sameKey {
			c.collisions++
		}
		c.count(r, ref)
		if b.ix.e.loc(i)&locDirect != 0 {
			c.direct++
		}
		prev = r
	}
	c.records = uint64(b.ix.e.len())
	return b.compareCounts(c)
}

// verifyRecord decodes the record of entry i, whose hash is h, checking that
// entries are in order and keys match their hash. It reports whether the
// value refers to an earlier copy, and moves end past the entry's data.
func (b *Bundle) verifyRecord(i int, h uint64, end *uint64) (Record, bool, error) {
	if i > 0 && h < b.ix.e.hash(i-1) {
		return Record{}, false, corrupt("section index: entry %d is out of order", i)
	}
	var r Record
	var ref bool
	var err error
	if loc := b.ix.e.loc(i); loc&locDirect != 0 {
		r, ref, err = b.verifyDirect(i, loc, end)
	} else {
		r, ref, err = b.verifyIndirect(loc, end)
	}
	if err == nil && b.lay.keys && xxhash.Sum64(r.Key) != h {
		return Record{}, false, corrupt("section data: the key of entry %d does not hash to the entry's hash", i)
	}
	return r, ref, err
}

// verifyDirect decodes direct entry i and checks what Get relies on: the key
// zero-padded (none in an approximate bundle), the value aligned. A value
// that starts before end refers to an earlier copy.
func (b *Bundle) verifyDirect(i int, loc uint64, end *uint64) (Record, bool, error) {
	r, err := b.directRecord(i, loc)
	if err != nil {
		return Record{}, false, err
	}
	if !b.lay.keys && locKeyLen(loc) != 0 {
		return Record{}, false, corrupt("section index: entry %d holds a key length in a bundle without keys", i)
	}
	at := uint64(i)*b.hdr.entrySize() + entryHead + uint64(len(r.Key))
	if b.hdr.inlineKey > 0 && !allZero(b.index[at:at+uint64(b.hdr.inlineKey)-uint64(len(r.Key))]) {
		return Record{}, false, corrupt("section index: entry %d: the bytes after its key are not zero", i)
	}
	off, n := locValue(loc)
	if off%b.lay.align != 0 {
		return Record{}, false, corrupt("section index: entry %d: value at %d is not aligned to %d", i, off, b.lay.align)
	}
	ref := off < *end
	if !ref {
		*end = off + n
	}
	return r, ref, nil
}

// verifyIndirect decodes the record at off, moving end past it.
func (b *Bundle) verifyIndirect(off uint64, end *uint64) (Record, bool, error) {
	k, pos, err := b.lay.key(b.data, off)
	if err != nil {
		return Record{}, false, err
	}
	meta, pos, err := b.lay.meta(b.data, pos)
	if err != nil {
		return Record{}, false, err
	}
	v, ref, recordEnd, err := b.lay.value(b.data, pos)
	*end = max(*end, recordEnd)
	return Record{Key: k, Value: v, Meta: meta}, ref, err
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// count adds one record's sizes to c.
func (c *counts) count(r Record, ref bool) {
	c.valueBytes += uint64(len(r.Value))
	c.metaBytes += uint64(len(r.Meta))
	if ref {
		c.deduped++
	} else {
		c.stored += uint64(len(r.Value))
	}
}

// compareCounts reports the first count of the header that c contradicts.
// Approximate bundles store no keys, so their key counts cannot be checked.
func (b *Bundle) compareCounts(c counts) error {
	want := b.hdr.counts
	if !b.lay.keys {
		c.keys, c.keyBytes, c.collisions = want.keys, want.keyBytes, want.collisions
	}
	names := []string{"records", "keys", "key bytes", "value bytes", "stored value bytes", "deduplicated values", "meta bytes", "collisions", "direct entries"}
	got, exp := c.fields(), want.fields()
	for i, name := range names {
		if *got[i] != *exp[i] {
			return corrupt("header: %d %s recorded, %d found", *exp[i], name, *got[i])
		}
	}
	return nil
}

// verifyGuide rebuilds the guide from the entries and compares.
func (b *Bundle) verifyGuide() error {
	// Bucket i starts at the number of entries whose bucket is below i
	// (what guideBuilder writes), counted as the buckets go, in place: a
	// guide claimed huge costs no memory of its size.
	n, buckets := b.ix.e.len(), len(b.ix.guide)
	if uint64(buckets) != 1<<b.ix.bits+1 {
		return corrupt("section guide: %d buckets for %d guide bits", buckets, b.ix.bits)
	}
	j := 0
	for i := range buckets {
		for j < n && bucket(b.ix.e.hash(j), b.ix.bits) < uint64(i) {
			j++
		}
		if got := le64(b.ix.guide[i]); got != uint64(j) {
			return corrupt("section guide: bucket %d starts at entry %d, the guide says %d", i, j, got)
		}
	}
	return nil
}
