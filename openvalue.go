package tiermem

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
	"github.com/tiermem/tiermem/tier/offheap"
)

// ValueReader is one value open for reading in pieces (OpenValue). A value
// the cold tier stores raw, as large values are, is read from its segment
// as the reader asks, never held in memory whole (Streamed reports true).
// A large value in memory is read where its tier holds it, not copied: a
// hot value of 64 KiB or more (the hot tier never writes it again once it
// is stored), and a warm value in a mapping of its own, stored
// uncompressed (about 64 KiB and more; the mapping stays until the last
// reader of it closes). Any other value was copied into memory when it was
// opened. Its bytes are those of the value when it was opened, whatever
// Stores, Deletes, moves or a Close happen meanwhile. Safe for concurrent
// use; Close it once done (a warm value's mapping is otherwise kept until
// the garbage collector finds the reader unreachable).
type ValueReader struct {
	tier  Tier
	env   header.Header       // the value's header (a conditional change's Current reads it)
	mem   []byte              // the value, unless raw is set
	raw   *disk.RawValue      // a cold value read from its segment
	large *offheap.LargeValue // a warm value read where it lies
	// largeSum is large's XXH3-64, hashed at the open (outside the key's
	// lock), so that Checksum answers after Close too.
	largeSum uint64
	// copied says mem is a copy made at the open, not the tier's own bytes.
	copied bool
	// peek says the open is not a read of the value (PeekValue): the hot
	// tier's store must not record it either.
	peek   bool
	closed atomic.Bool

	// A raw value opened by OpenValueDeferred is verified by the first
	// ReadAt: check is set until then, checked runs it once, and bad keeps
	// its error for every later ReadAt.
	check   bool
	checked sync.Once
	bad     error
	key     string
}

// largeOpener is a store that opens large values for reading where they
// lie (tier/offheap).
type largeOpener interface {
	OpenLarge(key string) (*offheap.LargeValue, bool, error)
}

// rawOpener is a store that opens raw values for reading in pieces
// (tier/disk).
type rawOpener interface {
	OpenRaw(key string) (*disk.RawValue, bool, error)
}

// OpenValue opens key's value for reading with ReadAt: what serves a large
// value without holding it in memory twice. A cold value stored raw
// (values over 256 MiB, incompressible ones, those stored with StoreFrom)
// has its checksum verified by a first pass through a 1 MiB buffer and is
// then read from disk as asked; a large hot or warm value is read where
// the tier holds it (see ValueReader); other values are copied into
// memory, as Retrieve does. The read counts as a Retrieve for the tier's
// policy, promotion and analytics. The reader does not keep the Manager
// from closing. Errors: as Retrieve's.
func (m *Manager) OpenValue(key string) (*ValueReader, error) {
	return m.openValue(key, false, true)
}

// OpenValueDeferred is OpenValue whose verifying pass over a streamed
// value waits for the first ReadAt: Size, Checksum (the one the cold tier
// stored with the value) and Tier are known without reading the value,
// which is all a reply without a body needs (an HTTP HEAD, a 304); that
// holds for a cold value stored raw, while one stored compressed is
// decoded whole at the open, as OpenValue does, for its Checksum. No
// unverified byte ever leaves it: the first ReadAt reads the whole value
// once, and when its checksum fails that ReadAt and every later one return
// ErrCorrupt. A value in memory is as OpenValue gives it. The open counts
// as a read served by its tier (for the policy, promotion and analytics)
// before the value is verified: a corrupt value found by the first ReadAt
// is not counted again.
func (m *Manager) OpenValueDeferred(key string) (*ValueReader, error) {
	return m.openValue(key, true, true)
}

// PeekValue is OpenValueDeferred for a look at a value that is not a use
// of it: the open is not counted as a read, by the tier's policy, the
// key's ReadCount and promotion, or Analytics (Redis's OBJECT ENCODING,
// which does not touch the key; a monitoring tool).
func (m *Manager) PeekValue(key string) (*ValueReader, error) {
	return m.openValue(key, true, false)
}

// openValue is OpenValue, verifying a streamed value at its first ReadAt
// rather than now when deferred is set, and counted as a read when
// counted is.
func (m *Manager) openValue(key string, deferred, counted bool) (*ValueReader, error) {
	tok, err := m.enterKey(key)
	if err != nil {
		return nil, err
	}
	defer m.gate.Leave(tok)
	v := &ValueReader{peek: !counted}
	t, err := m.openLocked(key, v)
	switch {
	case err != nil:
	case deferred && v.raw != nil:
		v.check, v.key = true, key
	default:
		err = v.ready(key) // outside the key's lock: it may read the whole value
	}
	if err != nil {
		err = m.readError(key, err)
	} else if counted {
		m.accessed(t, key)
	}
	if c := m.analytics.Load(); c != nil && counted {
		c.countRead(tok, t, err)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// openLocked opens key from the first tier that holds it, under the key's
// lock's read side, as readLocked reads.
func (m *Manager) openLocked(key string, v *ValueReader) (*tierState, error) {
	lock := m.locks.Of(key)
	lock.RLock()
	defer lock.RUnlock()
	return m.openFirst(key, v)
}

// openFirst opens key from the first tier that holds it. The key's lock
// is held.
func (m *Manager) openFirst(key string, v *ValueReader) (*tierState, error) {
	for _, t := range m.tiers {
		if err := m.openIn(t, key, v); !errors.Is(err, tier.ErrNotFound) {
			return t, err
		}
	}
	return nil, tier.ErrNotFound
}

// openIn opens key in t: raw from its segment where the store can, else
// copied into memory.
func (m *Manager) openIn(t *tierState, key string, v *ValueReader) error {
	if opened, err := m.openWhere(t, key, v, 0); opened || err != nil {
		return err
	}
	mode := lent
	if v.peek {
		mode = lentUncounted
	}
	return m.readTier(t, key, mode, nil, v.set)
}

// openWhere opens key in t where it lies, when it is at least min bytes
// and t's store reads it there (a raw cold value from its segment, a
// large warm one from its mapping), and reports whether it did.
func (m *Manager) openWhere(t *tierState, key string, v *ValueReader, min int64) (bool, error) {
	if o, ok := t.store.(rawOpener); ok {
		raw, opened, err := o.OpenRaw(key)
		switch {
		case err != nil:
			return false, err
		case opened && raw.Size() < min:
			raw.Close()
			return false, nil
		case opened:
			if err := m.deliver(t, key, nil, raw.Meta(), v.set); err != nil {
				raw.Close()
				return false, err
			}
			v.raw = raw
			return true, nil
		}
	}
	if o, ok := t.store.(largeOpener); ok {
		large, opened, err := o.OpenLarge(key)
		switch {
		case err != nil:
			return false, err
		case opened && large.Size() < min:
			large.Close()
			return false, nil
		case opened:
			if err := m.deliver(t, key, nil, large.Meta(), v.set); err != nil {
				large.Close()
				return false, err
			}
			v.large = large
			// A reader dropped without Close must not keep the mapping forever.
			runtime.AddCleanup(v, func(l *offheap.LargeValue) { l.Close() }, large)
			return true, nil
		}
	}
	return false, nil
}

func (v *ValueReader) set(t *tierState, value []byte, env header.Header) error {
	v.tier, v.mem, v.env = t.level, value, env
	v.copied = value != nil && !t.lends(len(value)) // as readTier delivers a lent read
	return nil
}

// opened reports whether v holds a value.
func (v *ValueReader) opened() bool { return v.raw != nil || v.large != nil || v.mem != nil }

// Tier returns the tier the value was read from.
func (v *ValueReader) Tier() Tier { return v.tier }

// Size returns the value's length in bytes.
func (v *ValueReader) Size() int64 {
	if v.raw != nil {
		return v.raw.Size()
	}
	if v.large != nil {
		return v.large.Size()
	}
	return int64(len(v.mem))
}

// Streamed reports whether the value is read from disk as asked rather
// than held in memory.
func (v *ValueReader) Streamed() bool { return v.raw != nil }

// Copied reports whether the reader holds a copy of the value, made when
// it was opened and kept in memory until Close: a value neither read from
// disk as asked (Streamed) nor where its tier holds it (a compressed one,
// a small one, one from glacier). What a server counts against a client's
// output limit.
func (v *ValueReader) Copied() bool { return v.copied }

// Checksum returns the XXH3-64 of the value's bytes: the one the cold tier
// stored and OpenValue verified for a streamed value, computed from the
// bytes otherwise.
func (v *ValueReader) Checksum() uint64 {
	if v.raw != nil {
		return v.raw.Sum()
	}
	if v.large != nil {
		return v.largeSum
	}
	return xxh3.Hash(v.mem)
}

// ready finishes a value opened under the key's lock, outside it: a large
// warm value's checksum, a raw cold value's verifying pass (it reads the
// whole value), which closes v when it fails.
func (v *ValueReader) ready(key string) error {
	if v.large != nil {
		v.large.View(func(value []byte) error { v.largeSum = xxh3.Hash(value); return nil })
	}
	if v.raw != nil {
		if err := v.verify(key); err != nil {
			v.Close()
			return err
		}
	}
	return nil
}

// verify checks a streamed value against its checksum, reading it whole.
func (v *ValueReader) verify(key string) error {
	if err := v.raw.Verify(); err != nil {
		return fmt.Errorf("reading %q from the %s tier: %w", key, v.tier, storeError(err))
	}
	return nil
}

// Verify makes sure of a value opened by OpenValueDeferred before any of
// it is sent: it runs the verifying pass now (once) and returns its error,
// the one every ReadAt would return (ErrCorrupt when the checksum fails).
// It returns nil at once for a value OpenValue opened or held in memory.
func (v *ValueReader) Verify() error {
	if !v.check {
		return nil
	}
	v.checked.Do(func() { v.bad = v.verify(v.key) })
	return v.bad
}

// ReadAt reads len(p) bytes of the value at off, as io.ReaderAt does. A
// streamed value whose segment was cut short since it was opened is
// ErrCorrupt, as is every read of one opened by OpenValueDeferred whose
// checksum fails. ReadAt after Close is an error.
func (v *ValueReader) ReadAt(p []byte, off int64) (int, error) {
	if v.raw != nil {
		if err := v.Verify(); err != nil {
			return 0, err
		}
		n, err := v.raw.ReadAt(p, off)
		if err != nil && !errors.Is(err, io.EOF) {
			err = storeError(err)
		}
		return n, err
	}
	switch {
	case v.closed.Load():
		return 0, fmt.Errorf("tiermem: ReadAt of a %s value after its ValueReader's Close", v.tier)
	case off < 0:
		return 0, fmt.Errorf("tiermem: ReadAt of a %s value at the negative offset %d", v.tier, off)
	case v.large != nil:
		n, err := v.large.ReadAt(p, off)
		if errors.Is(err, tier.ErrClosed) {
			err = fmt.Errorf("tiermem: ReadAt of a %s value after its ValueReader's Close", v.tier)
		}
		return n, err
	case off >= int64(len(v.mem)):
		return 0, io.EOF
	}
	n := copy(p, v.mem[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases the value. Later calls do nothing.
func (v *ValueReader) Close() error {
	v.closed.Store(true)
	if v.raw != nil {
		return v.raw.Close()
	}
	if v.large != nil {
		return v.large.Close()
	}
	return nil
}
