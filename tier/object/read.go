package object

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/tiermem/tiermem/tier"
)

// ViewMeta calls fn with key's value and meta. A value whose pack is
// durable is fetched with one ranged GET of its frame; every value's frame
// checksum, key and length are verified first, and a frame that fails is
// fetched once more (the damage may have been on the wire) before the
// read fails with a *CorruptError. value and meta are valid only until fn
// returns; fn must not call the store.
func (s *Store) ViewMeta(key string, fn func(value, meta []byte) error) error {
	t, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(t)
	value, meta, err := s.read(key)
	if err != nil {
		return err
	}
	return fn(value, meta)
}

// GetMeta appends key's value to dst and returns it with a copy of its
// meta, or dst and an error, as ViewMeta reads it.
func (s *Store) GetMeta(key string, dst []byte) (value, meta []byte, err error) {
	t, ok := s.gate.Enter()
	if !ok {
		return dst, nil, errClosed
	}
	defer s.gate.Leave(t)
	v, m, err := s.read(key)
	if err != nil {
		return dst, nil, err
	}
	return append(dst, v...), bytes.Clone(m), nil
}

// errReadMissing is a read's error for a key the store does not hold: made
// once, as errDeleteMissing is (the Manager looks in glacier for every key
// the tiers above miss, and drops this error).
var errReadMissing = fmt.Errorf("object: read: %w", tier.ErrNotFound)

// maxMoves bounds how many times a read looks a frame up again after
// compaction moved it away between the lookup and the GET: each time, a
// Compact ran to its end meanwhile, and a read that lost that race this
// often reports the pack missing.
const maxMoves = 16

// read returns key's value and meta, verified. A frame compaction moved
// away between the lookup and the GET is looked up again (maxMoves).
func (s *Store) read(key string) (value, meta []byte, err error) {
	for attempt := 0; ; attempt++ {
		l, e, b, ok := s.lookup(key)
		if !ok {
			return nil, nil, errReadMissing
		}
		if b != nil {
			value, err = s.verify(key, l.p.seq, &e, b)
			return value, e.meta, err
		}
		value, err = s.fetch(key, l.p.seq, &e)
		if attempt < maxMoves && errors.Is(err, ErrNotExist) && s.moved(key, l) {
			continue
		}
		if errors.Is(err, ErrNotExist) && !s.moved(key, l) || errors.Is(err, ErrShortObject) {
			err = s.damagedPack(l.p.seq, err)
		}
		return value, e.meta, err
	}
}

// lookup returns where key's value lies, a copy of its entry and, if its
// pack is still in memory, its frame's bytes.
func (s *Store) lookup(key string) (loc, entry, []byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.catalog[key]
	if !ok {
		return loc{}, entry{}, nil, false
	}
	return l, *l.entry(), l.p.frameBytes(l.i), true
}

// moved reports whether key no longer lies where l says.
func (s *Store) moved(key string, l loc) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return !s.pointsAt(key, l.p, l.i)
}

// fetch reads e's frame from pack seq in the bucket, with a second GET if
// the first does not verify.
func (s *Store) fetch(key string, seq uint64, e *entry) ([]byte, error) {
	var err error
	for range 2 {
		var b []byte
		b, err = s.bucket.get(packName(seq), e.off, int64(e.frameLen))
		if err != nil {
			return nil, fmt.Errorf("object: reading %q: %w", key, err)
		}
		var value []byte
		if value, err = s.verify(key, seq, e, b); err == nil {
			return value, nil
		}
	}
	return nil, err
}

// verify decodes the frame b of e, in pack seq, and returns its value;
// a frame whose checksum, kind, key, meta or length disagree with e is a
// *CorruptError naming the pack and offset.
func (s *Store) verify(key string, seq uint64, e *entry, b []byte) ([]byte, error) {
	f, err := decodeFrame(b)
	if err == nil {
		err = matches(&f, key, e)
	}
	var value []byte
	if err == nil {
		value, err = decompressValue(&f)
	}
	if err != nil {
		return nil, fmt.Errorf("object: reading %q: %w", key, corruptIn(s.bucket.b, packName(seq), e.off, err))
	}
	return value, nil
}

// matches reports, as a format error, a verified frame that is not the
// value the catalog expects.
func matches(f *frame, key string, e *entry) error {
	switch {
	case f.kind != kindValue:
		return badFormat(4, "frame of key %q is a tombstone", key)
	case string(f.key) != key:
		return badFormat(frameHeader, "frame holds key %q, the index says %q", f.key, key)
	case f.rawLen != e.rawLen || !bytes.Equal(f.meta, e.meta):
		return badFormat(8, "frame of %q disagrees with its index entry", key)
	}
	return nil
}
