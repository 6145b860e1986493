package bundle

import (
	"bytes"

	"github.com/cespare/xxhash/v2"
)

// Verify reads the whole file and checks it: each section against its
// checksum, then the structure: entries sorted by hash, every record inside
// the data section with a key that hashes to its entry, no key twice in an
// exact bundle, the guide matching the entries, and the header's counts
// matching the records. It returns nil or an error wrapping ErrCorrupt that
// names the section and the place. Open checks only the header; Verify is the
// whole-file check, on demand.
func (b *Bundle) Verify() error {
	if b.closed.Load() {
		return ErrClosed
	}
	for _, s := range b.hdr.sections {
		if b.mem.Hash(int64(s.off), int64(s.size)) != s.sum {
			return corrupt("section %s: checksum mismatch", sectionName(s.kind))
		}
	}
	if err := b.verifyRecords(); err != nil {
		return err
	}
	return b.verifyGuide()
}

// verifyRecords walks the entries in order, decoding each record, and
// compares what it counts with the header.
func (b *Bundle) verifyRecords() error {
	var c counts
	var prev Record
	for i := range b.ix.e.len() {
		h := b.ix.e.hash(i)
		r, ref, err := b.verifyRecord(i, h)
		if err != nil {
			return err
		}
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
		prev = r
	}
	c.records = uint64(b.ix.e.len())
	return b.compareCounts(c)
}

// verifyRecord decodes the record of entry i, whose hash is h, checking that
// entries are in order and keys match their hash.
func (b *Bundle) verifyRecord(i int, h uint64) (Record, bool, error) {
	if i > 0 && h < b.ix.e.hash(i-1) {
		return Record{}, false, corrupt("section index: entry %d is out of order", i)
	}
	k, pos, err := b.lay.key(b.data, b.ix.e.offset(i))
	if err != nil {
		return Record{}, false, err
	}
	if b.lay.keys && xxhash.Sum64(k) != h {
		return Record{}, false, corrupt("section data: the key of entry %d does not hash to the entry's hash", i)
	}
	var meta []byte
	if b.lay.meta {
		var ok bool
		if meta, pos, ok = lenPrefixed(b.data, pos); !ok {
			return Record{}, false, corrupt("section data: meta of entry %d runs past the section", i)
		}
	}
	v, ref, err := b.lay.value(b.data, pos)
	return Record{Key: k, Value: v, Meta: meta}, ref, err
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
	names := []string{"records", "keys", "key bytes", "value bytes", "stored value bytes", "deduplicated values", "meta bytes", "collisions"}
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
	g := newGuideBuilder(b.ix.bits)
	for i := range b.ix.e.len() {
		g.add(b.ix.e.hash(i))
	}
	for i, w := range g.finish() {
		if le64(b.ix.guide[i]) != w {
			return corrupt("section guide: bucket %d starts at entry %d, the guide says %d", i, w, le64(b.ix.guide[i]))
		}
	}
	return nil
}
