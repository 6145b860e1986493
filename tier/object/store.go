package object

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tiermem/tiermem/internal/gate"
	"github.com/tiermem/tiermem/tier"
)

// Store is the glacier tier: a tier.Store whose values live in packs in a
// Bucket. It is safe for concurrent use.
//
// Put compresses the value in the caller's goroutine and appends its frame
// to the open pack in memory; it returns at once, unless the pack reached
// Options.PackSize, in which case that Put seals the pack and starts its
// upload (and waits while Options.Uploads others are uploading). A value is
// readable as soon as Put returns, from memory until its pack is durable
// and from the bucket after. Sync (and Close) seal the open pack and
// return once every pack sealed before is durable in the bucket: the
// acknowledgement the Manager waits for before it deletes a demoted value
// from the cold tier.
type Store struct {
	bucket *retrying
	opts   Options
	gate   gate.Gate // Close drains it: every method runs inside

	mu      sync.RWMutex     // protects the fields below and every pack's mutable fields
	catalog map[string]loc   // key → its newest value
	packs   map[uint64]*pack // every pack the catalog may point at, by sequence number
	open    *pack            // the pack Puts append to; nil until one is needed
	nextSeq uint64           // the sequence number of the next pack
	retired []*retiredPack   // packs compaction copied, until deleted (once their copies are durable), oldest retired first
	failed  int              // sealed packs whose last upload failed

	used atomic.Int64 // bytes charged by the entries the catalog holds
	n    atomic.Int64 // keys the catalog holds

	uploads chan struct{}  // one per pack uploading in the background
	wg      sync.WaitGroup // the background uploads
	closeMu sync.Mutex     // serializes Close
}

var (
	_ tier.StoredPutter = (*Store)(nil)
	_ tier.Persistent   = (*Store)(nil)
	_ tier.MetaGetter   = (*Store)(nil)
	_ tier.Sizer        = (*Store)(nil)
)

var errClosed = fmt.Errorf("object: %w", tier.ErrClosed)

// Open returns the store kept in b, rebuilding its catalog from the index
// objects (a pack whose index is missing or damaged is scanned, and its
// index rewritten). It fails, wrapping tier.ErrCorrupt, if a pack without
// a valid index does not verify (every such pack is reported), or an
// index names a pack the bucket does not hold (see the package doc). It
// fails with the first error reading the bucket (wrapping
// ErrUnavailable or ErrNoBucket), once the reads in flight end: a bucket
// that stops answering fails Open after one pack's retries. opts may be
// nil. The Store uses b until Close returns.
func Open(b Bucket, opts *Options) (*Store, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s := &Store{bucket: newRetrying(b, &o), opts: o, catalog: map[string]loc{},
		packs: map[uint64]*pack{}, nextSeq: 1, uploads: make(chan struct{}, o.Uploads)}
	if err := s.recover(); err != nil {
		return nil, err
	}
	return s, nil
}

// String names the store's bucket.
func (s *Store) String() string { return s.bucket.b.String() }

// checkPut returns the error of a Put whose key, value or meta the format
// cannot hold.
func checkPut(key string, value, meta []byte) error {
	switch {
	case key == "" || len(key) > maxKeyLen:
		return fmt.Errorf("object: key of %d bytes: %w", len(key), tier.ErrInvalidKey)
	case int64(len(value))+int64(len(meta))+int64(len(key)) > maxValueLen:
		return fmt.Errorf("object: value of %d bytes with meta of %d and key of %d: over a frame's %d bytes: %w",
			len(value), len(meta), len(key), maxFrameLen, tier.ErrTooLarge)
	}
	return nil
}

// Put stores value under key with meta, in the open pack, and returns the
// bytes the entry occupies (its frame and its index entry). The value is
// durable once a later Sync returns. While a pack whose upload failed is
// waiting, Put first uploads it again, and fails (ErrUnavailable,
// ErrNoBucket) if that fails: a failing bucket refuses new values rather
// than fill memory. The caller may reuse value and meta once Put returns.
func (s *Store) Put(key string, value, meta []byte) (int64, error) {
	t, err := s.admitPut(key, value, meta, true)
	if err != nil {
		return 0, err
	}
	defer s.gate.Leave(t)
	return s.put(key, value, meta), nil
}

// admitPut checks a Put's sizes and passes the gate, first retrying the
// failed uploads if retry is set; the caller leaves the gate with the
// token it returns.
func (s *Store) admitPut(key string, value, meta []byte, retry bool) (gate.Token, error) {
	if err := checkPut(key, value, meta); err != nil {
		return 0, err
	}
	t, ok := s.gate.Enter()
	if !ok {
		return 0, errClosed
	}
	if retry {
		if err := s.retryFailed(); err != nil {
			s.gate.Leave(t)
			return 0, err
		}
	}
	return t, nil
}

// Restore is Put without first retrying a failed upload: it puts back
// the value a key had before a Put whose Sync failed, so that the key
// reads as it did, even while the bucket refuses uploads. Like a Put it is
// durable once a later Sync returns, after the Put it takes back; a Sync
// that fails half way may make that Put durable without it, which Revert
// rules out where it can.
func (s *Store) Restore(key string, value, meta []byte) (int64, error) {
	t, err := s.admitPut(key, value, meta, false)
	if err != nil {
		return 0, err
	}
	defer s.gate.Leave(t)
	return s.put(key, value, meta), nil
}

// PutStored stores v as Put stores its value, but keeps a zstd frame as
// it is instead of decompressing it to compress it again: a value demoted
// from the cold tier, which keeps zstd frames too, moves at the speed of a
// copy. The frame is not decoded here; a read of it decodes and checks it
// against v.RawLen, so a frame that does not decode is tier.ErrCorrupt
// then. See tier.StoredPutter.
func (s *Store) PutStored(key string, v tier.Stored) (int64, error) {
	if !v.Zstd {
		return s.Put(key, v.Value, v.Meta)
	}
	if v.RawLen < 0 || v.RawLen > maxValueLen {
		return 0, fmt.Errorf("object: value of %d bytes: %w", v.RawLen, tier.ErrTooLarge)
	}
	t, err := s.admitPut(key, v.Value, v.Meta, true)
	if err != nil {
		return 0, err
	}
	defer s.gate.Leave(t)
	f := frame{kind: kindValue, codec: codecZstd, key: []byte(key), meta: v.Meta, rawLen: uint32(v.RawLen), stored: v.Value}
	return s.appendFrame(&f), nil
}

// put compresses value and appends its frame to the open pack, sealing
// and uploading the pack if full, and returns the bytes charged.
func (s *Store) put(key string, value, meta []byte) int64 {
	stored, codec := compressValue(s.opts.Compression, value)
	f := frame{kind: kindValue, codec: codec, key: []byte(key), meta: meta, rawLen: uint32(len(value)), stored: stored}
	return s.appendFrame(&f)
}

// appendFrame appends f to the open pack, sealing and uploading the pack
// if full, and returns the bytes charged.
func (s *Store) appendFrame(f *frame) int64 {
	s.mu.Lock()
	l, sealed := s.appendLocked(f)
	charged := l.entry().charge()
	s.mu.Unlock()
	s.startUpload(sealed)
	return charged
}

// Delete removes key, recording a tombstone in the open pack, and returns
// the bytes its entry occupied; tier.ErrNotFound if absent. Like a Put it
// is durable once a later Sync returns, and like a Put, while a pack whose
// upload failed is waiting, it first uploads it again and fails
// (ErrUnavailable, ErrNoBucket) if that fails, the key still held:
// tombstones, too, must not fill memory while the bucket refuses them.
func (s *Store) Delete(key string) (int64, error) {
	t, ok := s.gate.Enter()
	if !ok {
		return 0, errClosed
	}
	defer s.gate.Leave(t)
	// The Manager deletes a key from every tier on each Store, so most
	// Deletes here are of keys glacier does not hold: they take the read
	// lock only and return a prebuilt error (24% of a warm load's CPU went
	// to the write lock and formatting the key into the error).
	s.mu.RLock()
	_, ok = s.catalog[key]
	s.mu.RUnlock()
	if !ok {
		return 0, errDeleteMissing
	}
	if err := s.retryFailed(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	l, ok := s.catalog[key]
	if !ok {
		s.mu.Unlock()
		return 0, errDeleteMissing
	}
	charged := l.entry().charge()
	_, sealed := s.appendLocked(&frame{kind: kindTombstone, key: []byte(key)})
	s.mu.Unlock()
	s.startUpload(sealed)
	return charged, nil
}

// errDeleteMissing is Delete's error for a key the store does not hold.
var errDeleteMissing = fmt.Errorf("object: delete: %w", tier.ErrNotFound)

// Meta returns a copy of key's meta, or tier.ErrNotFound, from memory.
func (s *Store) Meta(key string) ([]byte, error) {
	t, ok := s.gate.Enter()
	if !ok {
		return nil, errClosed
	}
	defer s.gate.Leave(t)
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.catalog[key]
	if !ok {
		return nil, fmt.Errorf("object: meta of %q: %w", key, tier.ErrNotFound)
	}
	return bytes.Clone(l.entry().meta), nil
}

// Size returns the bytes key's entry occupies, as Put reported them, or
// tier.ErrNotFound.
func (s *Store) Size(key string) (int64, error) {
	t, ok := s.gate.Enter()
	if !ok {
		return 0, errClosed
	}
	defer s.gate.Leave(t)
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.catalog[key]
	if !ok {
		return 0, fmt.Errorf("object: size of %q: %w", key, tier.ErrNotFound)
	}
	return l.entry().charge(), nil
}

// Scan calls fn for every key with its meta and size, from memory,
// holding the store's read lock: fn must not call the store, and meta is
// valid only during fn.
func (s *Store) Scan(fn func(key string, meta []byte, size int64) error) error {
	t, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(t)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for key, l := range s.catalog {
		e := l.entry()
		if err := fn(key, e.meta, e.charge()); err != nil {
			return err
		}
	}
	return nil
}

// Used returns the bytes all entries occupy. It may be called after Close.
func (s *Store) Used() int64 { return s.used.Load() }

// Len returns the number of keys. It may be called after Close.
func (s *Store) Len() int64 { return s.n.Load() }

// Cost returns the most bytes Put charges for an entry of these sizes: a
// raw frame and its index entry (a compressed value is kept only if
// smaller).
func (s *Store) Cost(keyLen, valueLen, metaLen int) int64 {
	return int64(frameFixed+keyLen+metaLen+valueLen) + indexEntrySize(keyLen, metaLen)
}

// Close waits for the calls in flight, seals the open pack and waits until
// every pack is durable. If an upload fails, Close returns the error and
// the store stays open, holding everything: call Close (or Sync) again
// once the bucket is reachable. After a Close that returned nil, every
// method returns an error wrapping tier.ErrClosed (Used and Len excepted),
// a second Close included.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if !s.gate.Close() {
		return errClosed
	}
	err := s.flush()
	s.wg.Wait()
	if err != nil {
		s.gate.Reopen()
		return fmt.Errorf("object: close: %w (nothing was dropped: Close or Sync again once the store is reachable)", err)
	}
	s.mu.Lock()
	s.catalog, s.packs, s.open = nil, nil, nil
	s.mu.Unlock()
	return nil
}
