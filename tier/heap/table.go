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
	byHash map[uint64]*item
	spill  map[string]*item
}

// get returns key's entry; h is its hash.
func (t *table) get(key string, h uint64) (*item, bool) {
	if it, ok := t.byHash[h]; ok && it.key() == key {
		return it, true
	}
	if len(t.spill) == 0 {
		return nil, false
	}
	it, ok := t.spill[key]
	return it, ok
}

// insert makes it the entry of its key, whose hash is h and which the
// table does not hold.
func (t *table) insert(h uint64, it *item) {
	if t.byHash == nil {
		t.byHash = map[uint64]*item{}
	}
	if _, taken := t.byHash[h]; taken { // another key has this hash
		if t.spill == nil {
			t.spill = map[string]*item{}
		}
		t.spill[it.key()] = it
		return
	}
	t.byHash[h] = it
}

// del removes key's entry and returns it. A spilled key whose hash the
// deleted key held stays in spill, where get still finds it.
func (t *table) del(key string, h uint64) (*item, bool) {
	if it, ok := t.byHash[h]; ok && it.key() == key {
		delete(t.byHash, h)
		return it, true
	}
	it, ok := t.spill[key]
	if ok {
		delete(t.spill, key)
	}
	return it, ok
}

// each calls fn for every entry until fn returns false; it reports whether
// it got to the end. The order is the maps', which starts at a random
// place on every call.
func (t *table) each(fn func(it *item) bool) bool {
	for _, it := range t.byHash {
		if !fn(it) {
			return false
		}
	}
	for _, it := range t.spill {
		if !fn(it) {
			return false
		}
	}
	return true
}
