package bundle

import (
	"bytes"
	"encoding/binary"
	"iter"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/internal/extsort"
)

// A sort record is what the builder's external sort carries for each record
// added, under the key's hash:
//
//	keyLen  uvarint, key
//	metaLen uvarint, meta
//	where   byte: inlineValue, spooledValue or locatedValue
//	inline:  the value's bytes, to the end
//	spooled: offset uvarint, size uvarint, value hash uint64 (little-endian)
//	located: (a streamed build, whose record is already in the output)
//	         record offset uvarint, value size uvarint, meta size uvarint
const (
	inlineValue  = 0
	spooledValue = 1
	locatedValue = 2
)

func appendSortHead(b, key, meta []byte, where byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(meta)))
	b = append(b, meta...)
	return append(b, where)
}

// sortKey returns the key of a sort record. The builder wrote the record, so
// it is well formed.
func sortKey(rec []byte) []byte {
	k, _, _ := lenPrefixed(rec, 0)
	return k
}

// compareKeys orders sort records with equal hashes by key.
func compareKeys(a, b []byte) int { return bytes.Compare(sortKey(a), sortKey(b)) }

// sortRecord is a decoded sort record.
type sortRecord struct {
	key, meta []byte
	v         value
	vhash     uint64 // for values of minDedup bytes or more
	at        uint64 // a located record's offset in the data section
	metaLen   uint64 // a located record's meta size (meta itself is in the output)
}

// decodeSortRecord decodes rec, which refers to the spool s for large values.
func decodeSortRecord(rec []byte, s *spool) sortRecord {
	var r sortRecord
	key, pos, _ := lenPrefixed(rec, 0)
	meta, pos, _ := lenPrefixed(rec, pos)
	r.key, r.meta = key, meta
	switch rec[pos] {
	case locatedValue:
		at, p, _ := uvarint(rec, pos+1)
		size, p, _ := uvarint(rec, p)
		r.metaLen, _, _ = uvarint(rec, p)
		r.at, r.v.size = at, int64(size)
		return r
	case inlineValue:
		r.v = value{b: rec[pos+1:], size: int64(len(rec)) - int64(pos) - 1}
		if r.v.size >= minDedup {
			r.vhash = xxhash.Sum64(r.v.b)
		}
		return r
	}
	off, pos, _ := uvarint(rec, pos+1)
	size, pos, _ := uvarint(rec, pos)
	r.v = value{spool: s.f, off: int64(off), size: int64(size)}
	r.vhash = binary.LittleEndian.Uint64(rec[pos:])
	return r
}

// sorted yields the records of it that go into the bundle, with their key
// hash: for exact and approximate bundles only the last record added for a
// key, for multi bundles all of them.
func (b *Builder) sorted(it *extsort.Iter, multi bool) iter.Seq2[uint64, []byte] {
	return func(yield func(uint64, []byte) bool) {
		var pending []byte
		var ph uint64
		have := false
		for it.Next() {
			h, rec := it.Key(), it.Record()
			if have && (multi || h != ph || !bytes.Equal(sortKey(rec), sortKey(pending))) {
				if !yield(ph, pending) {
					return
				}
			}
			pending, ph, have = append(pending[:0], rec...), h, true
		}
		if have {
			yield(ph, pending)
		}
	}
}

// writeRecords hands the sorted records to write, with their key hash,
// reporting progress over the n records added.
func (b *Builder) writeRecords(it *extsort.Iter, n int64, write func(h uint64, r sortRecord) error) error {
	var done int64
	for h, rec := range b.sorted(it, b.opts.Index == Multi) {
		if err := write(h, decodeSortRecord(rec, b.spool)); err != nil {
			return err
		}
		if done++; done%progressEvery == 0 {
			b.progress(StageWrite, done, n)
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	b.progress(StageWrite, n, n)
	return nil
}
