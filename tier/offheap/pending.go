package offheap

import (
	"errors"
	"fmt"

	"github.com/tiermem/tiermem/memory"
	"github.com/tiermem/tiermem/tier"
)

// errSpent is Commit's error for a pending value already committed or
// discarded.
var errSpent = errors.New("offheap: the pending value was committed or discarded")

// Prepare returns the memory for a value of size bytes under key, with
// room for up to metaLen bytes of meta; nothing is stored until Commit.
//
// A record too big for the slab (values from about MaxSmall up, which is
// what streams carry) gets its mapping now, and the value is read straight
// into it: the mapping belongs to the pending value, not to the store,
// until Commit, so Close never unmaps memory a slow stream is still being
// read into, and the value is held once. Such a value is stored
// uncompressed whatever Options.Compress says (compressing it would need
// it whole in a second buffer). A smaller value is prepared in an ordinary
// buffer and stored by Commit as Put stores it.
//
// It fails with tier.ErrInvalidKey for a bad key or a negative length,
// tier.ErrTooLarge for more meta than a record holds (or a value larger
// than any mapping), tier.ErrNoSpace when no mapping can be made, and
// tier.ErrClosed after Close.
func (s *Store) Prepare(key string, size, metaLen int) (tier.Pending, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if metaLen < 0 || size < 0 {
		return nil, fmt.Errorf("offheap: meta of %d bytes, value of %d: a negative length: %w", metaLen, size, tier.ErrInvalidKey)
	}
	if err := checkMetaLen(metaLen); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, tier.ErrClosed
	}
	if size > maxRecordValue {
		return nil, fmt.Errorf("offheap: a value of %d bytes: %w", size, tier.ErrTooLarge)
	}
	l := s.layout(int64(len(key)), int64(metaLen), int64(size))
	if l.header != largeHeader {
		return &smallPending{s: s, key: key, value: make([]byte, size)}, nil
	}
	h, err := s.space.mapping(l.size())
	if err != nil {
		return nil, fmt.Errorf("offheap: %d-byte record: %w: %w", l.size(), tier.ErrNoSpace, err)
	}
	return &largePending{s: s, key: key, h: h, size: int64(size), metaLen: int64(metaLen), at: l.valueOffset()}, nil
}

// smallPending is a value that goes in the slab: prepared in a buffer and
// stored by Put.
type smallPending struct {
	s     *Store
	key   string
	value []byte
}

func (p *smallPending) Value() []byte { return p.value }

func (p *smallPending) Commit(meta []byte) (int64, error) {
	if p.value == nil {
		return 0, errSpent
	}
	charged, err := p.s.Put(p.key, p.value, meta)
	if err == nil {
		p.value = nil
	}
	return charged, err
}

func (p *smallPending) Discard() { p.value = nil }

// largePending is a value read into a mapping of its own, which Commit
// makes the key's record.
type largePending struct {
	s       *Store
	key     string
	h       *memory.WritableHandle // nil once committed or discarded
	size    int64                  // the value's bytes
	metaLen int64                  // the meta it has room for
	at      int64                  // where Value lies in the mapping
}

// Value returns the value's bytes in the mapping: valid until Commit
// succeeds or Discard.
func (p *largePending) Value() []byte {
	if p.h == nil {
		return nil
	}
	return p.h.Writable().Bytes(p.at, p.size)
}

// Commit writes the record's header, key and meta around the value, then
// points the key at the mapping, as Put would, and frees the record it
// replaced. Meta must have exactly the length prepared: the record's
// layout puts meta before the value, which stays where it was read (a
// caller may hold Value's slice through the Commit). Other lengths fail
// with tier.ErrTooLarge (longer) or tier.ErrInvalidKey (shorter), and the
// Pending can be committed again.
func (p *largePending) Commit(meta []byte) (int64, error) {
	if p.h == nil {
		return 0, errSpent
	}
	switch n := int64(len(meta)); {
	case n > p.metaLen:
		return 0, fmt.Errorf("offheap: %d bytes of meta, %d prepared: %w", n, p.metaLen, tier.ErrTooLarge)
	case n < p.metaLen:
		return 0, fmt.Errorf("offheap: %d bytes of meta, %d prepared (a value in its own mapping takes exactly that): %w", n, p.metaLen, tier.ErrInvalidKey)
	}
	s := p.s
	tok, ok := s.writers.Enter()
	if !ok {
		return 0, tier.ErrClosed
	}
	defer s.writers.Leave(tok)
	l := s.layout(int64(len(p.key)), p.metaLen, p.size) // Prepare's: in its own mapping
	writeRecord(p.h.Writable(), l, 0, p.key, meta, nil) // the value is in place already
	loc := s.space.adopt(p.h, l.size())
	hash := Hash(p.key)
	old, oldSize, replaced, err := s.swapIn(s.shardOf(hash), p.key, hash, loc)
	if err != nil {
		s.space.disown(loc)
		return 0, err
	}
	p.h = nil
	charged := s.space.charge(l.size()) + indexShare
	s.swapped(charged, replaced, old, oldSize)
	return charged, nil
}

// Discard unmaps the value's memory, unless Commit gave it to the store.
func (p *largePending) Discard() {
	if p.h != nil {
		p.h.Close()
		p.h = nil
	}
}

var (
	_ tier.Preparer = (*Store)(nil)
	_ tier.Pending  = (*smallPending)(nil)
	_ tier.Pending  = (*largePending)(nil)
)
