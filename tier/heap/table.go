package heap

import "unsafe"

// table is one shard's entries, keyed by the key's 64-bit hash: the map's
// own slots hold the hash inline, so that a lookup compares 8 bytes before
// it reads the key's (in the entry's allocation, beside its reference word
// and its value), and growing the map never reads a key. Two keys with the
// same hash are rare; the second lives in spill, keyed by the key itself.
// Each key is in at most one of the two maps. The zero table is empty, and
// a table is not safe for concurrent use: its shard's lock protects it.
type table struct {
	byHash map[uint64]entry
	spill  map[string]entry
}

// get returns key's entry; h is its hash.
func (t *table) get(key string, h uint64) (entry, bool) {
	if e, ok := t.byHash[h]; ok && e.key() == key {
		return e, true
	}
	if len(t.spill) == 0 {
		return entry{}, false
	}
	e, ok := t.spill[key]
	return e, ok
}

// set makes e key's entry (e holds its own copy of key) and returns the
// entry it replaced, if any.
func (t *table) set(key string, h uint64, e entry) (entry, bool) {
	if t.byHash == nil {
		t.byHash = map[uint64]entry{}
	}
	cur, taken := t.byHash[h]
	switch {
	case taken && cur.key() == key:
		t.byHash[h] = e
		return cur, true
	case taken: // another key has this hash
		if t.spill == nil {
			t.spill = map[string]entry{}
		}
		old, had := t.spill[key]
		t.spill[e.key()] = e // the map keeps the newest allocation's copy of the key
		return old, had
	}
	if old, had := t.spill[key]; had { // spilled while the hash was taken; it is free now
		delete(t.spill, key)
		t.byHash[h] = e
		return old, true
	}
	t.byHash[h] = e
	return entry{}, false
}

// del removes key's entry and returns it.
func (t *table) del(key string, h uint64) (entry, bool) {
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
func (t *table) each(fn func(key string, e entry) bool) bool {
	for _, e := range t.byHash {
		if !fn(e.key(), e) {
			return false
		}
	}
	for key, e := range t.spill {
		if !fn(key, e) {
			return false
		}
	}
	return true
}

// key returns the entry's copy of its key, in its allocation after the
// reference word.
func (e entry) key() string {
	at := refAt(len(e.buf)) + 4
	return unsafe.String(&e.buf[:at+int(e.keyLen)][at], int(e.keyLen))
}
