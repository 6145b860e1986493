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
// key: whether the key holds a value, and the value's checksum, size and,
// for an array, its element type and shape. Found and Array answer from
// the key's header; Checksum and Size open the value, once, at their first
// call, so a condition that asks only Found reads no value. It is valid
// only during the condition's call; its methods are not safe for
// concurrent use.
type Current struct {
	m      *Manager
	key    string
	found  bool
	env    header.Header // the key's header, when found and readable
	opened bool          // open ran
	err    error         // open's error
	v      ValueReader
	sum    uint64
	summed bool
}

// Found reports whether the key holds a value (not expired).
func (c *Current) Found() bool { return c.found }

// Readable reports whether the key holds a value that can be read: false
// when it holds none, or one that cannot be opened (a corrupt one, whose
// reads fail). Checksum and Size answer 0 for such a value, which a real
// value may also have: a condition that compares a checksum it was given
// (an HTTP If-Match) asks Readable first, so that an unreadable value
// matches none. It opens the value, once, as Checksum and Size do.
func (c *Current) Readable() bool { return c.open() }

// Checksum returns the XXH3-64 of the value's bytes (of an array's, of its
// data): what ValueReader.Checksum returns for it, the checksum the cold
// tier stored for a value it reads from disk, else hashed from the bytes.
// It returns 0 when the key holds no value, or one that cannot be read (a
// corrupt one); Readable tells those apart from a value whose checksum is
// 0.
func (c *Current) Checksum() uint64 {
	switch {
	case !c.open():
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

// Size returns the value's length in bytes; 0 when the key holds none, or
// one that cannot be read (Readable).
func (c *Current) Size() int64 {
	if !c.open() {
		return 0
	}
	return c.v.Size()
}

// Array returns the element type and shape of the array the key holds
// (StoreArray); ok is false when it holds none. shape is valid only during
// the condition's call.
func (c *Current) Array() (dtype DType, shape []int, ok bool) {
	if !c.found || c.env.Kind != header.Array {
		return 0, nil, false
	}
	return DType(c.env.DType), c.env.Shape, true
}

// open opens the value, once, and reports whether it could.
func (c *Current) open() bool {
	if !c.found {
		return false
	}
	if !c.opened {
		c.opened = true
		_, c.err = c.m.openFirst(c.key, &c.v)
	}
	return c.err == nil
}

// checkLocked runs cond, if not nil, on what key holds; the key's lock is
// held.
func (m *Manager) checkLocked(key string, cond func(*Current) error) error {
	if cond == nil {
		return nil
	}
	c := &Current{m: m, key: key}
	var err error
	if c.found, c.env, err = m.presentLocked(key); err != nil {
		return fmt.Errorf("tiermem: reading %q for a condition: %w", key, err)
	}
	defer func() {
		if c.opened && c.err == nil {
			c.v.Close()
		}
	}()
	return cond(c)
}

// presentLocked reports whether a tier holds key, unexpired, from its
// header alone, and returns the header; a header that cannot be decoded
// counts as a value held. The key's lock is held.
func (m *Manager) presentLocked(key string) (bool, header.Header, error) {
	for _, t := range m.tiers {
		meta, err := t.store.Meta(key)
		switch {
		case errors.Is(err, tier.ErrNotFound):
			continue
		case err != nil:
			return false, header.Header{}, fmt.Errorf("the %s tier: %w", t.level, storeError(err))
		}
		env, err := decodeHeader(meta)
		if err != nil {
			return true, header.Header{}, nil
		}
		return !env.Expired(m.now()), env, nil
	}
	return false, header.Header{}, nil
}

// precheck runs cond, if not nil, on what key holds now, under its lock,
// before a write reserves room: a write its condition refuses demotes
// nothing. The write checks again when it lands (checkLocked).
func (m *Manager) precheck(key string, cond func(*Current) error) error {
	if cond == nil {
		return nil
	}
	tok, err := m.enterKey(key)
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	return m.checkLocked(key, cond)
}
