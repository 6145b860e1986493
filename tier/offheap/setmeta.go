package offheap

import (
	"fmt"
	"math"

	"github.com/tiermem/tiermem/tier"
)

// SetMeta replaces key's meta, keeping its stored value as it is: a
// compressed value is not decoded (tier.MetaSetter).
//
// Meta of the old meta's length is written where the old lay, in the slab
// or in a mapping of the record's own (a LargeValue keeps the meta it was
// opened with). A record that stays in its slab size class is written over
// under the shard's write lock, as Put overwrites one. Any other is copied
// to a new record under the read lock, so that readers of the shard go on
// while it is copied, and swapped in if nothing in the shard changed
// meanwhile; after setMetaTries such tries it is copied under the write
// lock. The key counts as read, as after a Put.
func (s *Store) SetMeta(key string, meta []byte, grow int64) (int64, error) {
	tok, err := s.enterWrite(key, meta)
	if err != nil {
		return 0, err
	}
	defer s.writers.Leave(tok)
	hash := Hash(key)
	sh := s.shardOf(hash)
	for try := 0; ; try++ {
		m := metaChange{s: s, sh: sh, key: key, hash: hash, meta: meta, grow: grow}
		if charged, done, err := m.locked(try >= setMetaTries); done || err != nil {
			return charged, err
		}
		c, err := m.copy()
		if err != nil {
			return 0, err
		}
		if charged, done, err := m.swap(c); done || err != nil {
			return charged, err
		}
	}
}

// setMetaTries bounds the copies SetMeta makes under the read lock, each
// given up because the shard changed meanwhile, before it copies under the
// write lock.
const setMetaTries = 3

// metaChange is one SetMeta.
type metaChange struct {
	s    *Store
	sh   *shard
	key  string
	hash uint64
	meta []byte
	grow int64
}

// copied is a new record of a metaChange, not yet in the index.
type copied struct {
	loc     uint64
	size    int64  // the record's bytes
	charged int64  // what it occupies, with its index share
	changes uint64 // the shard's changes when it was copied
}

// locked finds the record under the shard's write lock and writes the
// meta in place if it can, or, if always is set, copies it to a new record
// there; done is false when it did neither.
func (m *metaChange) locked(always bool) (charged int64, done bool, err error) {
	s, sh := m.s, m.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return 0, true, tier.ErrClosed
	}
	pos, _, loc, r := s.findLocked(sh, m.key, m.hash)
	if pos < 0 {
		return 0, true, tier.ErrNotFound
	}
	l := m.layoutOf(r)
	switch {
	case l == r.layout: // the meta has the old one's length
		if len(m.meta) > 0 {
			s.space.writable(loc, l.size()).PutBytes(l.header+l.keyLen+metaLenSize(l.header), m.meta)
		}
	case loc&largeFlag != 0 && m.inPadding(r, &l):
		writeHead(s.space.writable(loc, l.size()), l, r.flags&flagCompressed, m.key, m.meta)
	case loc&largeFlag == 0 && s.overwritable(r.layout.size(), l.size()):
		writeRecord(s.space.slot(loc, l.size()), l, r.flags&flagCompressed, m.key, m.meta, r.stored)
	case always:
		if err := m.fits(l, r); err != nil {
			return 0, true, err
		}
		to, charged, err := s.place(l, r.flags&flagCompressed, m.key, m.meta, r.stored)
		if err != nil {
			return 0, true, err
		}
		sh.idx.set(pos, m.hash, to)
		sh.changes++
		s.swapped(charged, true, loc, r.layout.size())
		return charged, true, nil
	default:
		return 0, false, nil
	}
	sh.idx.set(pos, m.hash, loc)
	sh.changes++
	return s.space.charge(l.size()) + indexShare, true, nil
}

// layoutOf returns the layout of r's record with the new meta.
func (m *metaChange) layoutOf(r record) recordLayout {
	return m.s.layout(r.layout.keyLen, int64(len(m.meta)), r.layout.stored)
}

// inPadding reports whether the new meta fits where r's meta and padding
// lie, so that r's value stays where it is; it then sets *l to that layout.
func (m *metaChange) inPadding(r record, l *recordLayout) bool {
	pad := r.layout.meta + r.layout.pad - l.meta
	if l.header != r.layout.header || pad < 0 || pad > math.MaxUint8 {
		return false
	}
	l.pad = pad
	return true
}

// fits returns an error wrapping tier.ErrNoSpace if a record of layout l
// occupies more than grow bytes more than r.
func (m *metaChange) fits(l recordLayout, r record) error {
	if more := m.s.space.charge(l.size()) - m.s.space.charge(r.layout.size()); more > m.grow {
		return fmt.Errorf("offheap: %q with meta of %d bytes takes %d bytes more than the %d allowed: %w", m.key, len(m.meta), more, m.grow, tier.ErrNoSpace)
	}
	return nil
}

// copy writes a new record of the key's value and the new meta under the
// shard's read lock.
func (m *metaChange) copy() (copied, error) {
	s, sh := m.s, m.sh
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return copied{}, tier.ErrClosed
	}
	pos, _, _, r := s.findLocked(sh, m.key, m.hash)
	if pos < 0 {
		return copied{}, tier.ErrNotFound
	}
	l := m.layoutOf(r)
	if err := m.fits(l, r); err != nil {
		return copied{}, err
	}
	loc, charged, err := s.place(l, r.flags&flagCompressed, m.key, m.meta, r.stored)
	return copied{loc: loc, size: l.size(), charged: charged, changes: sh.changes}, err
}

// swap puts c in the index in place of the key's record if nothing in the
// shard changed since c was copied; otherwise it frees c and reports done
// false.
func (m *metaChange) swap(c copied) (charged int64, done bool, err error) {
	s, sh := m.s, m.sh
	sh.mu.Lock()
	switch {
	case s.closed.Load():
		err = tier.ErrClosed
	case sh.changes == c.changes: // the key's record is where copy found it
		pos, _, old, r := s.findLocked(sh, m.key, m.hash)
		sh.idx.set(pos, m.hash, c.loc)
		sh.changes++
		sh.mu.Unlock()
		s.swapped(c.charged, true, old, r.layout.size())
		return c.charged, true, nil
	}
	sh.mu.Unlock()
	s.space.free(c.loc, c.size)
	return 0, err != nil, err
}
