package offheap

import (
	"fmt"
	"io"
	"sync"

	"github.com/tiermem/tiermem/tier"
)

// LargeValue is a value in a mapping of its own, open for reading where it
// lies (OpenLarge): no copy of it is made, however large. It reads the
// bytes the key had when it was opened, whatever Puts, Deletes or a Close
// of the store happen meanwhile: a mapping that is open is unmapped by the
// last LargeValue's Close, not by the store. It is safe for concurrent
// use; Close it once done, or the mapping stays.
type LargeValue struct {
	s      *space
	lm     *largeMapping
	meta   []byte
	size   int64
	mu     sync.RWMutex // read-held by reads, held by Close
	value  []byte       // in the mapping; nil once closed
	closed bool
}

// OpenLarge opens key's value for reading where it lies, when it is a
// record in a mapping of its own stored uncompressed (opened true);
// otherwise it returns opened false and the caller reads the value as it
// would any other. Either way the read marks the key as read for CLOCK.
// Errors: tier.ErrNotFound, tier.ErrClosed.
func (s *Store) OpenLarge(key string) (v *LargeValue, opened bool, err error) {
	err = s.findAt(key, true, func(loc uint64, r record) error {
		if loc&largeFlag != 0 && r.flags&flagCompressed == 0 {
			v = &LargeValue{s: s.space, lm: s.space.lend(loc), value: r.stored, size: int64(len(r.stored)), meta: append([]byte(nil), r.meta...)}
		}
		return nil
	})
	return v, v != nil, err
}

// Meta returns the value's meta: a copy, valid as long as the caller keeps it.
func (v *LargeValue) Meta() []byte { return v.meta }

// Size returns the value's length in bytes.
func (v *LargeValue) Size() int64 { return v.size }

// ReadAt reads len(p) bytes of the value at off, as io.ReaderAt does; after
// Close it returns tier.ErrClosed.
func (v *LargeValue) ReadAt(p []byte, off int64) (int, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	switch {
	case v.closed:
		return 0, fmt.Errorf("offheap: ReadAt of a large value after its Close: %w", tier.ErrClosed)
	case off < 0:
		return 0, fmt.Errorf("offheap: ReadAt of a large value at the negative offset %d", off)
	case off >= int64(len(v.value)):
		return 0, io.EOF
	}
	n := copy(p, v.value[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// View calls fn with the whole value where it lies: valid only until fn
// returns, and not to be modified. After Close it returns tier.ErrClosed.
func (v *LargeValue) View(fn func(value []byte) error) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.closed {
		return fmt.Errorf("offheap: View of a large value after its Close: %w", tier.ErrClosed)
	}
	return fn(v.value)
}

// Close ends the reading; the mapping is unmapped if the record is gone
// and no other LargeValue reads it. Later calls do nothing.
func (v *LargeValue) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil
	}
	v.closed, v.value = true, nil
	v.s.giveBack(v.lm)
	return nil
}
