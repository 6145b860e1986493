package heap

import (
	"errors"
	"unsafe"

	"github.com/tiermem/tiermem/tier"
)

// pending is a value read straight into the allocation its entry will
// keep (Prepare): the word, the key, then room for the value and meta.
type pending struct {
	s    *Store
	e    slot // the entry to be, its n not yet set
	size int  // the value's bytes
	done bool // committed or discarded
}

var errSpent = errors.New("heap: the pending value was committed or discarded")

// Prepare returns the memory for a value of size bytes under key and up to
// metaLen bytes of meta, allocated as the entry that Commit stores: the
// value is never copied. It fails with tier.ErrInvalidKey for an empty key
// and tier.ErrTooLarge when key, value and meta exceed 4 GiB.
func (s *Store) Prepare(key string, size, metaLen int) (tier.Pending, error) {
	if key == "" {
		return nil, tier.ErrInvalidKey
	}
	if !fitsEntry(len(key), size, metaLen) {
		return nil, tier.ErrTooLarge
	}
	if s.shut.Load() {
		return nil, tier.ErrClosed
	}
	buf := alloc(entryBytes(len(key), size, metaLen))
	copy(buf[wordSize:], key)
	e := slot{data: &buf[0], room: uint32(len(buf) - wordSize), keyLen: uint32(len(key))}
	return &pending{s: s, e: e, size: size}, nil
}

func (p *pending) Value() []byte {
	if p.done {
		return nil
	}
	if p.size == 0 {
		return []byte{} // a pointer at the value would point past an allocation the key fills
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(p.e.data), wordSize+p.e.valueAt())), p.size)
}

// Commit stores the value as Put would, its allocation becoming the
// entry's. The entry is charged that allocation, which holds room for the
// metaLen bytes of meta Prepare was given, whatever meta Commit writes: as
// Cost(len(key), size, metaLen) says.
func (p *pending) Commit(meta []byte) (int64, error) {
	if p.done {
		return 0, errSpent
	}
	e := p.e
	e.metaAt = uint32(e.valueAt() + p.size)
	if int64(e.metaAt)+int64(len(meta)) > int64(e.room) {
		return 0, tier.ErrTooLarge
	}
	e.n = e.metaAt + uint32(len(meta))
	copy(e.bytes()[e.metaAt:], meta)
	charged, err := p.s.put(e.key(), nil, meta, &e)
	if err == nil {
		p.Discard()
	}
	return charged, err
}

func (p *pending) Discard() { p.done, p.e = true, slot{} }
