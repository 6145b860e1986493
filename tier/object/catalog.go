package object

// The catalog maps each key to the frame of its newest value: a pack and
// the index of the frame's entry in it. It lives in memory, in the
// Store's fields under Store.mu, and is rebuilt at Open by replaying the
// packs' entries in sequence order (recovery.go). The methods here are
// the only ones that change it and the accounting built on it.

// loc is where a key's value lies: entry i of pack p.
type loc struct {
	p *pack
	i int
}

// entry returns the entry l points at. s.mu must be held.
func (l loc) entry() *entry { return &l.p.entries[l.i] }

// setLocked points key at l and moves the accounting from the entry it
// replaces, if any. s.mu must be held for writing.
func (s *Store) setLocked(key string, l loc) {
	s.countLocked(l.entry()) // before the old entry is uncounted: Len never dips below the keys held
	s.unsetLocked(key)
	s.pointLocked(key, l)
}

// countLocked adds entry e, which a key is about to point at, to Used and
// Len. s.mu must be held for writing.
func (s *Store) countLocked(e *entry) {
	s.used.Add(e.charge())
	s.n.Add(1)
}

// pointLocked points key, which holds no entry, at l, counted already
// (countLocked). s.mu must be held for writing.
func (s *Store) pointLocked(key string, l loc) {
	s.catalog[key] = l
	l.p.live += int64(l.entry().frameLen)
}

// unsetLocked removes key from the catalog and returns what its entry was
// charged, or 0 if it had none. s.mu must be held for writing.
func (s *Store) unsetLocked(key string) int64 {
	old, ok := s.catalog[key]
	if !ok {
		return 0
	}
	delete(s.catalog, key)
	e := old.entry()
	old.p.live -= int64(e.frameLen)
	s.used.Add(-e.charge())
	s.n.Add(-1)
	return e.charge()
}

// applyLocked replays entry i of p into the catalog: a value points its
// key at it, a tombstone removes the key. s.mu must be held for writing.
func (s *Store) applyLocked(p *pack, i int) {
	e := &p.entries[i]
	if e.kind == kindValue {
		s.setLocked(e.key, loc{p: p, i: i})
		return
	}
	s.unsetLocked(e.key)
}

// pointsAt reports whether key's value is entry i of p. s.mu must be held.
func (s *Store) pointsAt(key string, p *pack, i int) bool {
	l, ok := s.catalog[key]
	return ok && l.p == p && l.i == i
}
