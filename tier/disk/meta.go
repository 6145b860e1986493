package disk

import "github.com/tiermem/tiermem/tier"

// The Manager reads a value with its meta (its per-value header) in one
// lookup, checks existence through meta alone, and builds its budgets on the
// store's own byte count: all part of the tier.Store contract.

// ViewMeta calls fn with key's value, verified as Get verifies it, and its
// meta; both are valid only until fn returns and must not be modified.
func (s *Store) ViewMeta(key string, fn func(value, meta []byte) error) error {
	e, tok, err := s.startRead(key)
	if err != nil {
		return err
	}
	defer s.endRead(e, tok)
	return s.viewEntry(key, &e, func(value []byte) error { return fn(value, e.meta()) })
}

// Meta returns a copy of key's meta from the in-memory index, without
// reading the disk.
func (s *Store) Meta(key string) ([]byte, error) {
	e, tok, err := s.startRead(key)
	if err != nil {
		return nil, err
	}
	defer s.endRead(e, tok)
	return append([]byte(nil), e.meta()...), nil
}

// Size returns the bytes key's record occupies, as Put reported them.
func (s *Store) Size(key string) (int64, error) {
	e, tok, err := s.startRead(key)
	if err != nil {
		return 0, err
	}
	defer s.endRead(e, tok)
	return e.size, nil
}

// ValueLen returns the length of key's value (before any compression),
// from the in-memory index, without reading the disk (tier.ValueLener).
func (s *Store) ValueLen(key string) (int64, error) {
	e, tok, err := s.startRead(key)
	if err != nil {
		return 0, err
	}
	defer s.endRead(e, tok)
	return e.raw, nil
}

// Used returns the record bytes of the live keys: the sum of what Put
// reported for them.
func (s *Store) Used() int64 { return s.index.bytes.Load() }

// Len returns the number of live keys.
func (s *Store) Len() int64 { return s.index.keys.Load() }

var (
	_ tier.Persistent   = (*Store)(nil)
	_ tier.MetaGetter   = (*Store)(nil)
	_ tier.Sizer        = (*Store)(nil)
	_ tier.StoredViewer = (*Store)(nil)
	_ tier.ValueLener   = (*Store)(nil)
	_ tier.Replacer     = (*Store)(nil)
	_ tier.Reserver     = (*Store)(nil)
)

// GetMeta appends key's value to dst, verified as Get verifies it, and
// returns it with key's meta, from one lookup: the value is read straight
// into dst. The meta slice belongs to the index and must not be modified;
// it stays valid after the call.
func (s *Store) GetMeta(key string, dst []byte) (value, meta []byte, err error) {
	e, tok, err := s.startRead(key)
	if err != nil {
		return dst, nil, err
	}
	defer s.endRead(e, tok)
	value, err = s.getEntry(key, &e, dst)
	return value, e.meta(), err
}
