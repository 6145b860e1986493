package tiermem

import (
	"errors"
	"fmt"
	"io"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// streamMin is the smallest value StoreFrom streams to the cold tier: a
// smaller one is read into memory and stored as Store stores it.
const streamMin = 64 << 10

// stager is a store that takes a value from a stream in bounded memory
// (tier/disk, the cold tier).
type stager interface {
	Stage(r io.Reader, size int64) (*disk.Staged, error)
	PutStaged(key string, st *disk.Staged, meta []byte) (int64, error)
}

// StoreFrom stores the size bytes read from r under key, as Store stores
// a value (the same options, placement and errors), for values too large
// to hold in memory twice: an HTTP body, a file.
//
// When the value goes to the cold tier (InTier(Cold), or no memory tier's
// budget can hold it) and is at least 64 KiB, it is streamed: read through
// a 1 MiB buffer into a staging file beside the cold tier's log, with its
// checksum, then appended to the log (checksummed again) under the key's
// lock. Memory stays bounded whatever the size; the disk writes the value
// twice, and the log is stored uncompressed. When it goes to a tier whose
// store can prepare memory for it (tier.Preparer: the built-in hot tier,
// for a value of any size, and the warm tier) it is read straight into the
// memory the tier keeps: held once, never copied. The warm tier gives a
// value too big for its slab (64 KiB and more) a mapping of its own, which
// stays the stream's until the value is stored, so that a Close during a
// slow stream unmaps nothing the stream writes to; such a value is stored
// uncompressed. Otherwise (a smaller value for warm; the glacier tier; a
// smaller value bound for cold) StoreFrom reads the value into one buffer
// of size bytes and stores it: the tier then holds its own copy, so for a
// moment the value takes twice its size.
//
// StoreFrom reads exactly size bytes and never past them. A reader that
// ends sooner fails it with an error wrapping io.ErrUnexpectedEOF, and a
// reader's error is returned wrapped; either way nothing is stored and the
// key keeps the value it had. The stream is read before the Manager admits
// the write: Close does not wait for a slow reader, and a StoreFrom whose
// stream ends after Close returns ErrClosed, storing nothing. A negative
// size is an error wrapping ErrOptions. It is safe for concurrent use; the
// last write of a key to finish wins.
func (m *Manager) StoreFrom(key string, r io.Reader, size int64, opts ...StoreOption) error {
	var o storeOptions
	for _, opt := range opts {
		o = opt(o)
	}
	if o.invalid != nil {
		return o.invalid
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("%w: StoreFrom(%q) of a negative size, %d", ErrOptions, key, size)
	}
	t, s, err := m.streamTo(key, size, o)
	if err != nil {
		return err
	}
	if p, ok := t.store.(tier.Preparer); ok && s == nil {
		return m.storeFromPrepared(key, r, size, o, t, p)
	}
	if s == nil {
		return m.storeFromBuffer(key, r, size, opts)
	}
	st, err := s.Stage(r, size)
	if err != nil {
		return fmt.Errorf("storing %q from a stream: %w", key, storeError(err))
	}
	defer st.Discard()
	return m.putStaged(key, st, o, s)
}

// streamTo returns the tier a value of size bytes goes to and, when it
// goes to the cold tier and is streamed there, the cold tier's store (nil
// when it is stored from memory); ErrTooLarge when the tier it goes to
// cannot hold it.
func (m *Manager) streamTo(key string, size int64, o storeOptions) (*tierState, stager, error) {
	tok, err := m.enter()
	if err != nil {
		return nil, nil, err
	}
	defer m.gate.Leave(tok)
	metaLen := len(storeMeta(o, 0))
	t, err := m.placement(key, int(size), metaLen, o)
	if err != nil {
		return nil, nil, err
	}
	if err := t.fits(t.estimate(key, int(size), metaLen), int(size)); err != nil {
		return nil, nil, err // before a byte is read
	}
	s, ok := m.tiers[Cold].store.(stager)
	if !ok || size < streamMin || t.level != Cold {
		return t, nil, nil
	}
	return t, s, nil
}

// storeMeta returns the header of a value stored with o at nowNano.
func storeMeta(o storeOptions, nowNano int64) []byte {
	env := header.Header{Pinned: o.pinned}
	if o.ttl > 0 {
		env.Expires = nowNano + int64(o.ttl)
	}
	return env.Encode()
}

// storeFromBuffer reads the value into memory and stores it.
func (m *Manager) storeFromBuffer(key string, r io.Reader, size int64, opts []StoreOption) error {
	buf := make([]byte, size)
	if err := readValue(key, buf, r); err != nil {
		return err
	}
	return m.Store(key, buf, opts...)
}

// storeFromPrepared reads the value into the memory t's store prepared
// for it, and stores it there: the value is never copied.
func (m *Manager) storeFromPrepared(key string, r io.Reader, size int64, o storeOptions, t *tierState, p tier.Preparer) error {
	pend, err := p.Prepare(key, int(size), len(storeMeta(o, 0)))
	if err != nil {
		return fmt.Errorf("tiermem: storing %q from a stream in the %s tier: %w", key, t.level, storeError(err))
	}
	defer pend.Discard()
	if err := readValue(key, pend.Value(), r); err != nil {
		return err
	}
	return m.storeWith(key, pend.Value(), header.Header{}, o, prepared{t: t, pend: pend})
}

// readValue fills buf from r, with an error naming key and how far it got.
func readValue(key string, buf []byte, r io.Reader) error {
	if n, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("tiermem: storing %q from a stream: it ended after %d of %d bytes: %w", key, n, len(buf), io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("tiermem: storing %q from a stream: reading after %d of %d bytes: %w", key, n, len(buf), err)
	}
	return nil
}

// putStaged stores a staged value under key in the cold tier, with the
// TTL counted from now.
func (m *Manager) putStaged(key string, st *disk.Staged, o storeOptions, s stager) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	env := header.Header{Pinned: o.pinned}
	if o.ttl > 0 {
		env.Expires = m.now().Add(o.ttl).UnixNano()
	}
	meta := env.Encode()
	t := m.tiers[Cold]
	for try := 0; ; try++ {
		err := m.putStagedReserved(key, st, meta, env, s, try < putTries)
		if errors.Is(err, errReplaced) && try < putTries {
			continue
		}
		if c := m.analytics.Load(); err == nil && c != nil {
			stripe := &c.stores[tok%counterStripes]
			count(&stripe.stores[t.level], &stripe.timeIt)
		}
		return err
	}
}

// putStagedReserved reserves the room the entry needs in the cold tier,
// less what key's present entry there occupies when discount is set, and
// stores it under the key's lock, dropping the key's copies in the other
// tiers.
func (m *Manager) putStagedReserved(key string, st *disk.Staged, meta []byte, env header.Header, s stager, discount bool) error {
	t := m.tiers[Cold]
	room, err := m.reserveFor(t, key, int(st.Size()), len(meta), discount)
	if err != nil {
		return fmt.Errorf("storing %q in the %s tier: %w", key, t.level, err)
	}
	defer room.release()
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if !room.holds() {
		return errReplaced
	}
	m.beforeChange(key)
	charged, err := s.PutStaged(key, st, meta)
	if err != nil {
		return fmt.Errorf("storing %q in the %s tier: %w", key, t.level, storeError(err))
	}
	if t.victims != nil {
		t.victims.added(key, charged, env.Pinned)
	}
	if err := m.dropExceptLocked(key, t, false); err != nil {
		m.removeFrom(t, key) // the older value stays where it is, whole, and the Store fails
		return fmt.Errorf("storing %q in the %s tier: %w", key, t.level, err)
	}
	m.ttl.set(key, env.Expires)
	return nil
}
