package heap

// table is one shard's entries, keyed by the key's 64-bit hash: the map's
// own slots hold the hash inline, so that a lookup compares 8 bytes before
// it reads the key's (in the entry's data), and growing the map never reads
// a key. Two keys with the same hash are rare; the second lives in spill,
// keyed by the key itself (the string over its first entry's data, whose
// key bytes never change). Each key is in at most one of the two maps. The
// zero table is empty, and a table is not safe for concurrent use: its
// shard's lock protects it.
type table struct {
	byHash map[uint64]slot
	spill  map[string]slot
}

// get returns key's entry; h is its hash.
func (t *table) get(key string, h uint64) (slot, bool) {
	if e, ok := t.byHash[h]; ok && e.key() == key {
		return e, true
	}
	if len(t.spill) == 0 {
		return slot{}, false
	}
	e, ok := t.spill[key]
	return e, ok
}

// update writes back e, the changed entry of a key the table holds, whose
// hash is h; moved says its data moved (a spilled key is then filed under
// the new copy of its key, so that the map does not keep the old data).
func (t *table) update(h uint64, e slot, moved bool) {
	if cur, ok := t.byHash[h]; ok && cur.key() == e.key() {
		t.byHash[h] = e
		return
	}
	if moved {
		delete(t.spill, e.key())
	}
	t.spill[e.key()] = e
}

// insert makes e the entry of its key, whose hash is h and which the
// table does not hold.
func (t *table) insert(h uint64, e slot) {
	if t.byHash == nil {
		t.byHash = map[uint64]slot{}
	}
	if _, taken := t.byHash[h]; taken { // another key has this hash
		if t.spill == nil {
			t.spill = map[string]slot{}
		}
		t.spill[e.key()] = e
		return
	}
	t.byHash[h] = e
}

// del removes key's entry and returns it. A spilled key whose hash the
// deleted key held stays in spill, where get still finds it.
func (t *table) del(key string, h uint64) (slot, bool) {
	if e, ok := t.byHash[h]; ok && e.key() == key {
		delete(t.byHash, h)
		return e, true
	}
	e, ok := t.spill[key]
	if ok {
		delete(t.spill, key)
	}
	return e, ok
}

// each calls fn for every entry until fn returns false; it reports whether
// it got to the end. The order is the maps', which starts at a random
// place on every call.
func (t *table) each(fn func(e slot) bool) bool {
	for _, e := range t.byHash {
		if !fn(e) {
			return false
		}
	}
	for _, e := range t.spill {
		if !fn(e) {
			return false
		}
	}
	return true
}
