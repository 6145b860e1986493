package bundle

import (
	"bytes"
	"iter"

	"github.com/cespare/xxhash/v2"
)

// All yields every record in index order (by key hash), each value of a multi
// key as its own record. Records are valid until Close (ReleaseBehind drops
// the pages behind a pass over a large file). On a corrupt record it
// yields the error and stops. Iterating allocates nothing per record.
func (b *Bundle) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		rel := releaser{b: b}
		for i := range b.ix.e.len() {
			if b.closed.Load() {
				yield(Record{}, ErrClosed)
				return
			}
			r, err := b.record(i)
			if !yield(r, err) || err != nil {
				return
			}
			rel.pass(len(r.Key) + len(r.Meta) + len(r.Value))
		}
	}
}

// Values yields every value of key in the order they were added (one for an
// exact or approximate bundle, none if the key is missing). Values are valid
// until Close. On a corrupt record it yields the error and stops; after a
// Close (in the loop's body, say) it yields ErrClosed and stops.
func (b *Bundle) Values(key []byte) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if b.closed.Load() {
			yield(nil, ErrClosed)
			return
		}
		h := xxhash.Sum64(key)
		i, err := b.ix.find(h)
		if err != nil {
			yield(nil, err)
			return
		}
		for n := b.ix.e.len(); i < n; i++ {
			if b.closed.Load() {
				yield(nil, ErrClosed)
				return
			}
			if b.ix.e.hash(i) != h {
				return
			}
			r, err := b.record(i)
			if err != nil {
				yield(nil, err)
				return
			}
			if b.lay.keys && !bytes.Equal(r.Key, key) {
				continue
			}
			if !yield(r.Value, nil) || b.hdr.kind != Multi {
				return
			}
		}
	}
}
