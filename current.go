package tiermem

import (
	"errors"
	"fmt"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
)

// OnlyIf makes a Store, StoreFrom or StoreArray conditional (an HTTP
// If-Match, a compare-and-set): cond runs under the key's lock, on what
// the key holds at that moment, just before the value replaces it, so no
// other write of the key comes between the two; when cond returns an
// error, that error is returned and nothing is stored. A StoreFrom reads
// its whole stream before cond runs. cond must not call the Manager, and
// may run more than once (when room must first be made): it must depend
// on what it is shown alone.
func OnlyIf(cond func(c *Current) error) StoreOption {
	return func(o storeOptions) storeOptions {
		o.cond = cond
		if cond == nil {
			o.invalid = fmt.Errorf("%w: OnlyIf(nil)", ErrOptions)
		}
		return o
	}
}

// Current is what a conditional change (OnlyIf, DeleteIf) finds under its
// key: whether the key holds a value, and the value's checksum and, for an
// array, its element type and shape. It is valid only during the
// condition's call; its methods are not safe for concurrent use.
type Current struct {
	found  bool
	v      ValueReader
	sum    uint64
	summed bool
}

// Found reports whether the key holds a value (not expired).
func (c *Current) Found() bool { return c.found }

// Checksum returns the XXH3-64 of the value's bytes (of an array's data):
// what ValueReader.Checksum returns for it, the checksum the cold tier
// stored for a value it reads from disk, else hashed from the bytes at
// the first call. 0 when the key holds no value.
func (c *Current) Checksum() uint64 {
	switch {
	case !c.found:
		return 0
	case c.summed:
	case c.v.raw != nil:
		c.sum = c.v.raw.Sum()
	case c.v.large != nil:
		c.v.large.View(func(value []byte) error { c.sum = xxh3.Hash(value); return nil })
	default:
		c.sum = xxh3.Hash(c.v.mem)
	}
	c.summed = true
	return c.sum
}

// Size returns the value's length in bytes; 0 when the key holds none.
func (c *Current) Size() int64 {
	if !c.found {
		return 0
	}
	return c.v.Size()
}

// Array returns the element type and shape of the array the key holds
// (StoreArray); ok is false when it holds none. shape is valid only during
// the condition's call.
func (c *Current) Array() (dtype DType, shape []int, ok bool) {
	if !c.found || c.v.env.Kind != header.Array {
		return 0, nil, false
	}
	return DType(c.v.env.DType), c.v.env.Shape, true
}

// checkLocked runs cond, if not nil, on what key holds; the key's lock is
// held.
func (m *Manager) checkLocked(key string, cond func(*Current) error) error {
	if cond == nil {
		return nil
	}
	c := &Current{}
	_, err := m.openFirst(key, &c.v)
	switch {
	case err == nil:
		c.found = true
		defer c.v.Close()
	case errors.Is(err, tier.ErrNotFound), errors.Is(err, errExpired):
	default:
		return fmt.Errorf("tiermem: reading %q for a condition: %w", key, storeError(err))
	}
	return cond(c)
}
