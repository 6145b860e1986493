package tiermem

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

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
	StageAll(r io.Reader) (*disk.Staged, error)
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
// smaller value bound for cold) StoreFrom reads the value into a buffer
// that grows as its bytes come, up to size bytes (a client that announces
// a large value and sends little of it costs what it sent), and stores
// it: the tier then holds its own copy, so for a moment the value takes
// twice its size. The glacier tier is not streamed: a value bound for it
// is held in memory while it is written.
//
// Before it reads the first byte, StoreFrom reserves the room the value
// will take in its tier, demoting other entries as a Store does: a stream
// in flight, however slow, counts against the tier's budget as the value
// it becomes will, so that many uploads at once never take a tier past
// its budget; Usage reports that room as Streaming. The room is the whole
// value's, even when it replaces key's entry in the same tier (that entry
// may be demoted first to make it). A write that names no tier goes to
// the fastest whose budget holds it beside the streams in flight there,
// and when only streams hold the room it needs there, on to the next tier
// at once; so do demotions. A write that names a tier (Store or
// StoreFrom with InTier) waits for the streams as for any write in
// flight, at most 5 s, then fails with ErrNoSpace saying that streams
// hold the room. A Close ends such a wait with ErrClosed.
//
// StoreFrom reads exactly size bytes and never past them. A reader that
// ends sooner fails it with an error wrapping io.ErrUnexpectedEOF, and a
// reader's error is returned wrapped; either way nothing is stored and the
// key keeps the value it had. The stream is read before the Manager admits
// the write: Close does not wait for a slow reader, and a StoreFrom whose
// stream ends after Close returns ErrClosed, storing nothing.
//
// A negative size says that the stream's length is not known ahead (an
// HTTP body sent in chunks): StoreFrom then reads r to its end into a
// staging file beside the cold tier's log, as above, and stores the value
// from there once its length is known: appended to the log from that
// file when it goes to the cold tier, else read back into its tier as a
// stream of that length. Memory stays bounded as for a known length. The
// staging file counts against the cold tier's budget as it grows, byte for
// byte read (Usage reports it as Streaming), demoting the cold tier's
// entries to make room as a Store would. A stream that outgrows the cold
// tier's whole budget moves on to glacier's, where a value that large
// goes, and fails with ErrTooLarge without a glacier tier (or past its
// budget); one the cold tier has no room left for (it is the last tier
// and full, or streams hold the room) fails with ErrNoSpace, even when the
// value would have gone to a memory tier: send its length to avoid
// staging. A stream named for glacier (InTier(Glacier)) is staged the
// same way, counted in glacier's budget. A stream bound for a memory tier
// named (InTier(Hot), InTier(Warm)) is not staged, so that it needs no
// disk: it is read into memory, in blocks never copied as they grow, its
// bytes counted against that tier's budget as they come, and stored from
// there as a stream of the length it had; it takes up to twice its size
// in memory while it is stored. Room made for a stream's first bytes stays
// made when it fails: a stream that turns out larger than every budget it
// may take fails with ErrTooLarge once it passes them, and the entries
// demoted for its first bytes stay where they went.
//
// It is safe for concurrent use; the last write of a key to finish wins.
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
	if err := m.precheck(key, o.cond); err != nil {
		return err
	}
	if size >= 0 {
		return m.storeFromSized(key, r, size, o, opts, nil)
	}
	s, ok := m.tiers[Cold].store.(stager)
	switch {
	case !ok:
		return m.storeFromMemory(key, r, m.tiers[:Cold+1], nil, o, opts)
	case o.named && o.tier < Cold:
		t, err := m.tierOf(o.tier)
		if err != nil {
			return err
		}
		room := &streamRoom{m: m, t: t, r: r}
		defer room.release() // on an early return; at once when the stream has ended
		return m.storeFromMemory(key, room, []*tierState{t}, room, o, opts)
	}
	room := &streamRoom{m: m, t: m.tiers[Cold], r: r}
	switch {
	case o.named && o.tier != Cold:
		t, err := m.tierOf(o.tier)
		if err != nil {
			return err
		}
		room.t = t // glacier: staged on cold's disk, counted in glacier's budget
	case !o.named && m.glacier != nil:
		room.next = []*tierState{m.glacier}
	}
	st, err := s.StageAll(room)
	room.release() // the value's own room is reserved where it goes
	if err != nil {
		return fmt.Errorf("tiermem: storing %q from a stream: %w", key, storeError(err))
	}
	defer st.Discard()
	return m.storeFromSized(key, st.Reader(), st.Size(), o, opts, st)
}

// storeFromMemory is StoreFrom of a stream of unknown length read into
// memory, up to the largest budget of the tiers that could take it, and
// stored: when the cold tier cannot stage it (a store of the caller's),
// or when the value is bound for a tier named other than cold (no disk is
// needed). The stream is read into blocks, never copied as it grows, and
// then stored as a stream of the length it had (storeFromSized): a tier
// that prepares memory (hot, warm) takes it from the blocks, so it is held
// at most twice, once in the blocks and once where it is stored. room,
// when not nil, is the room the stream holds as it is read: it is given
// back once the stream has ended, before the value's own room is reserved.
func (m *Manager) storeFromMemory(key string, r io.Reader, tiers []*tierState, room *streamRoom, o storeOptions, opts []StoreOption) error {
	limit := int64(0)
	for _, t := range tiers {
		limit = max(limit, t.capacity())
	}
	if limit < math.MaxInt64 {
		r = io.LimitReader(r, limit+1)
	}
	blocks, n, err := readBlocks(r)
	if room != nil {
		room.release()
	}
	switch {
	case err != nil:
		return fmt.Errorf("tiermem: storing %q from a stream: reading after %d bytes: %w", key, n, err)
	case n > limit:
		return fmt.Errorf("%w: storing %q from a stream of unknown length: over %d bytes, the largest budget of a tier that can hold it",
			ErrTooLarge, key, limit)
	}
	return m.storeFromSized(key, blocks.reader(), n, o, opts, nil)
}

// blockSize is the largest block readBlocks reads a stream into.
const blockSize = 1 << 20

// blocks is a stream's bytes read into memory a block at a time.
type blocks [][]byte

// readBlocks reads r to its end (io.EOF; any other error, a cut stream's
// io.ErrUnexpectedEOF included, is returned) into blocks that double in
// size up to blockSize, none copied as more come, and returns them with
// their length.
func readBlocks(r io.Reader) (blocks, int64, error) {
	var bs blocks
	total := int64(0)
	for size := 4 << 10; ; size = min(2*size, blockSize) {
		b := make([]byte, size)
		n, err := fill(r, b)
		if n > 0 {
			bs = append(bs, b[:n])
			total += int64(n)
		}
		if err == io.EOF {
			return bs, total, nil
		}
		if err != nil {
			return bs, total, err
		}
	}
}

// fill reads into b until it is full or r fails; unlike io.ReadFull it
// returns io.EOF itself, so that a reader's own io.ErrUnexpectedEOF (a
// cut HTTP body) is not taken for the end.
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// reader returns a reader of the blocks' bytes that lets each block go
// once it is read, so that the memory it holds can be reclaimed while the
// value is stored.
func (bs blocks) reader() io.Reader { return &blockReader{bs: bs} }

type blockReader struct{ bs blocks }

func (br *blockReader) Read(p []byte) (int, error) {
	for len(br.bs) > 0 && len(br.bs[0]) == 0 {
		br.bs[0] = nil
		br.bs = br.bs[1:]
	}
	if len(br.bs) == 0 {
		return 0, io.EOF
	}
	n := copy(p, br.bs[0])
	br.bs[0] = br.bs[0][n:]
	return n, nil
}

// storeFromSized is StoreFrom of a stream of size bytes; st, when not nil,
// is the stream staged already, which r reads.
func (m *Manager) storeFromSized(key string, r io.Reader, size int64, o storeOptions, opts []StoreOption, st *disk.Staged) error {
	t, s, room, err := m.streamTo(key, size, o)
	if err != nil {
		return err
	}
	defer func() { room.release() }() // once: the put that takes the room releases it
	if p, ok := t.store.(tier.Preparer); ok && s == nil {
		return m.storeFromPrepared(key, r, size, o, t, p, &room)
	}
	if s == nil {
		return m.storeFromBuffer(key, r, size, opts)
	}
	if st == nil {
		if st, err = s.Stage(r, size); err != nil {
			return fmt.Errorf("tiermem: storing %q from a stream: %w", key, storeError(err))
		}
		defer st.Discard()
	}
	return m.putStaged(key, st, o, s, &room)
}

// streamTo returns the tier a value of size bytes goes to and, when it
// goes to the cold tier and is streamed there, the cold tier's store (nil
// when it is stored from memory); ErrTooLarge when the tier it goes to
// cannot hold it. When the value is read into memory its tier prepares, or
// staged for cold, the room it will take there is reserved now, before its
// first byte is read (roomAhead), and returned; the caller releases it.
// Without a tier named, a tier whose room other streams hold is passed
// over for the next.
func (m *Manager) streamTo(key string, size int64, o storeOptions) (*tierState, stager, reservation, error) {
	tok, err := m.enter()
	if err != nil {
		return nil, nil, reservation{}, err
	}
	defer m.gate.Leave(tok)
	metaLen := len(storeMeta(o))
	t, err := m.placement(key, int(size), metaLen, o)
	for ; err == nil; t, err = m.nextTier(t, key, int(size), metaLen, err) {
		if err := t.fits(t.estimate(key, int(size), metaLen), int(size)); err != nil {
			return nil, nil, reservation{}, err // before a byte is read
		}
		s, ok := m.tiers[Cold].store.(stager)
		streamed := ok && size >= streamMin && t.level == Cold
		if _, prepares := t.store.(tier.Preparer); !streamed && !prepares {
			return t, nil, reservation{}, nil
		}
		if !streamed {
			s = nil
		}
		var room reservation
		if room, err = m.roomAhead(t, key, int(size), metaLen, waitFor(o.named)); err == nil {
			return t, s, room, nil
		}
		err = fmt.Errorf("tiermem: storing %q from a stream in the %s tier: %w", key, t.level, err)
		if o.named {
			break
		}
	}
	return nil, nil, reservation{}, err
}

// nextTier returns the tier after t that a write which failed in t with
// err tries next: the first whose budget can hold the entry, when err says
// that streams in flight hold t's own room (not the cold log's, which a
// durable write reserves too); else err.
func (m *Manager) nextTier(t *tierState, key string, n, metaLen int, err error) (*tierState, error) {
	var held *streamsHoldError
	if !errors.As(err, &held) || held.level != t.level {
		return nil, err
	}
	for _, next := range m.tiers[t.level+1:] {
		if next.estimate(key, n, metaLen) <= next.capacity() {
			return next, nil
		}
	}
	return nil, err
}

// roomAhead reserves the room a streamed entry will take in t before its
// first byte is read, so that the memory or disk the stream fills is
// counted in t's budget for as long as the stream lasts, however slow:
// streams in flight never take a tier past its budget. Unlike a Store's,
// the reservation never counts on the room key's present entry occupies:
// that entry may be demoted or deleted while the stream is read (its own
// reservation may demote it), and the stream would then hold memory its
// tier does not count. The Manager's gate is held.
func (m *Manager) roomAhead(t *tierState, key string, size, metaLen int, wait patience) (reservation, error) {
	r, err := m.reserveFor(t, key, size, metaLen, false, wait)
	if err == nil {
		r.stream = true
		t.streaming.Add(r.n)
	}
	return r, err
}

// storeMeta returns the header of a value stored with o, as encoded: its
// length is that of the header stored, whenever the store.
func storeMeta(o storeOptions) []byte {
	env := o.header(func() time.Time { return time.Unix(0, 0) })
	return env.Encode()
}

// storeFromBuffer reads the value into memory and stores it: into a
// buffer that grows as its bytes come, up to size, so that a client that
// announces a large value and sends little of it costs what it sent.
func (m *Manager) storeFromBuffer(key string, r io.Reader, size int64, opts []StoreOption) error {
	buf := make([]byte, 0, min(size, 64<<10))
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(cap(buf)), size-int64(len(buf)))))
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), size)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) && int64(len(buf)) < size {
			return fmt.Errorf("tiermem: storing %q from a stream: it ended after %d of %d bytes: %w", key, len(buf), size, io.ErrUnexpectedEOF)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("tiermem: storing %q from a stream: reading after %d of %d bytes: %w", key, len(buf), size, err)
		}
	}
	return m.Store(key, buf, opts...)
}

// storeFromPrepared reads the value into the memory t's store prepared
// for it, and stores it there, in the room held for it: the value is
// never copied.
func (m *Manager) storeFromPrepared(key string, r io.Reader, size int64, o storeOptions, t *tierState, p tier.Preparer, room *reservation) error {
	pend, err := p.Prepare(key, int(size), len(storeMeta(o)))
	if err != nil {
		return fmt.Errorf("tiermem: storing %q from a stream in the %s tier: %w", key, t.level, storeError(err))
	}
	defer pend.Discard()
	if err := readValue(key, pend.Value(), r); err != nil {
		return err
	}
	return m.storeWith(key, pend.Value(), header.Header{}, o, prepared{t: t, pend: pend, room: room})
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
// TTL counted from now; its first try uses the room held for it.
func (m *Manager) putStaged(key string, st *disk.Staged, o storeOptions, s stager, held *reservation) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	env := o.header(m.now)
	meta := env.Encode()
	t := m.tiers[Cold]
	for try := 0; ; try++ {
		err := m.putStagedReserved(key, st, meta, env, s, o.cond, try < putTries, held)
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
// less what key's present entry there occupies when discount is set (or
// takes the room held for it), and stores it under the key's lock,
// dropping the key's copies in the other tiers.
func (m *Manager) putStagedReserved(key string, st *disk.Staged, meta []byte, env header.Header, s stager, cond func(*Current) error, discount bool, held *reservation) error {
	t := m.tiers[Cold]
	room, ok := held.take(t)
	var err error
	if !ok {
		room, err = m.reserveFor(t, key, int(st.Size()), len(meta), discount, waitStreams)
	}
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
	if err := m.checkLocked(key, cond); err != nil {
		return err
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
