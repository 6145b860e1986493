package heap

import (
	"fmt"

	"github.com/tiermem/tiermem/tier"
)

// SetMeta replaces key's meta, keeping its value (tier.MetaSetter). Meta
// is written where the old meta lay when the entry then rounds to its
// allocation's size, as a replacing Put is (rewrite), or when it fits an
// entry the store lends (a lent value's bytes stay as they are: meta
// follows them); otherwise a new allocation takes the key, the value and
// the new meta, and the old one is let go as a replacing Put lets it go.
// A policy counts the change as a replacing Put.
func (s *Store) SetMeta(key string, meta []byte, grow int64) (int64, error) {
	sh, h := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return 0, tier.ErrClosed
	}
	ref := sh.values.ref(key, h)
	if ref == nil {
		return 0, tier.ErrNotFound
	}
	before := *ref
	old := before.size()
	if int64(before.metaAt)+int64(len(meta)) > maxEntry {
		return 0, tier.ErrTooLarge
	}
	inPlace, n := before.metaFits(meta)
	if more := int64(roomFor(n)) - int64(before.room); !inPlace && more > grow {
		return 0, fmt.Errorf("heap: %q's meta of %d bytes takes %d bytes more than the %d allowed: %w", key, len(meta), more, grow, tier.ErrNoSpace)
	}
	tracked := s.policy != nil && !s.policy.isExempt(before)
	if inPlace {
		ref.n = uint32(n)
		copy(ref.bytes()[ref.metaAt:], meta)
	} else {
		ref.rewrite(before.value(), meta) // a new allocation: the meta does not fit this one
		s.letGo(before)
	}
	e := *ref
	s.used.Add(e.size() - old)
	switch {
	case s.policy == nil:
		markRead(e.word()) // the key counts as read, as after a Put
	case tracked && inPlace && e.size() == old && !s.policy.isExempt(e):
		s.policy.touched(e) // as a Put written over in place at the same size: the record stands
	default:
		s.policy.stored(e, true, !inPlace)
	}
	return e.size(), nil
}

// metaFits reports whether meta goes where the old meta lay, and the bytes
// after the word the entry then takes: in place when the entry still
// rounds to its allocation's size (so that it holds no more than a new
// allocation would), or when it fits an entry the store lends (its value is
// never moved); else in a new allocation (rewrite's).
func (e slot) metaFits(meta []byte) (bool, int) {
	n, room := int(e.metaAt)+len(meta), int(e.room)
	if room >= lendMin && n <= room || room < lendMin && roomFor(n) == room {
		return true, n
	}
	return false, entryBytes(int(e.keyLen), int(e.metaAt)-e.valueAt(), len(meta))
}
