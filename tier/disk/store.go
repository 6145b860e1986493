package disk

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/tiermem/tiermem/internal/gate"
	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
)

// Store is a log-structured store in one directory: the cold tier. It
// implements tier.Persistent. All methods are safe for concurrent use;
// after Close they return tier.ErrClosed.
type Store struct {
	dir   string
	opts  Options
	fs    vfs.FS
	lock  io.Closer
	index *index
	segs  registry
	gate  gate.Gate // every operation passes it; Close drains it
	stats counters

	nextID   atomic.Uint64 // id of the next segment file
	dirDirty atomic.Bool   // a file was created since the directory was last synced
	dirSync  sync.Mutex    // held across syncDir's look at dirDirty and its fsync (see segment.sync)
	syncDebt atomic.Bool   // SyncEvery: the last background sync failed, and none succeeded since
	mode     atomic.Int64  // the SyncMode: opts.Sync until SetSync
	modeMu   sync.Mutex    // serializes SetSync

	dirSyncFailed atomic.Pointer[error] // the first directory fsync I/O error, returned by every later one

	queue struct {
		sync.Mutex          // protects the fields below
		writes     []*write // waiting for a leader
		spare      []*write // the last batch's slice, reused
		leading    bool     // a leader is at work
	}

	log struct {
		sync.Mutex          // held by the commit leader, flushes, rotation and reads of buffered records; protects the fields below
		active     *segment // where appends go
		seq        uint64   // the next sequence number
		app        appender // a batch on its way to the active segment
	}

	compactMu sync.Mutex // serializes compactions and hint writing
	bg        background

	closeMu sync.Mutex // serializes Close; protects closed
	closed  bool       // a Close succeeded
}

var errClosed = fmt.Errorf("disk: %w", tier.ErrClosed)

// Open opens the store in dir, creating dir if needed, and rebuilds its
// index: from each sealed segment's hint file, or by scanning the segments
// that have none (see the package doc for what recovery guarantees). A nil
// opts means defaults. Open fails with ErrLocked if another Store has dir
// open, and with ErrVersion for files from a newer format.
func Open(dir string, opts *Options) (*Store, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: o, fs: o.FS}
	s.mode.Store(int64(o.Sync))
	s.index = newIndex(s.onDead)
	s.segs.m = make(map[uint64]*segment)
	s.bg.init()
	if err := s.fs.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("disk: creating %s: %w", dir, err)
	}
	if err := s.lockDir(); err != nil {
		return nil, err
	}
	if err := s.recover(); err != nil {
		s.shutdownSegments()
		s.lock.Close()
		return nil, err
	}
	s.startBackground()
	return s, nil
}

func (s *Store) lockDir() error {
	lock, err := lockDir(s.fs, s.dir)
	s.lock = lock
	return err
}

// lockDir takes the lock that keeps a second Store (or Repair) out of dir,
// held until the returned Closer is closed.
func lockDir(fs vfs.FS, dir string) (io.Closer, error) {
	lock, err := fs.Lock(filepath.Join(dir, lockName))
	if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("disk: locking %s: %w", dir, err)
	}
	return lock, nil
}

// checkKey returns ErrInvalidKey for an empty key or one over MaxKeyLen.
func checkKey(key string) error {
	if len(key) == 0 || len(key) > MaxKeyLen {
		return fmt.Errorf("disk: key of %d bytes: %w (want 1 to %d)", len(key), tier.ErrInvalidKey, MaxKeyLen)
	}
	return nil
}

func notFound(string) error {
	// A miss is routine (the Manager asks each tier in turn): the bare
	// sentinel costs no allocation, and the caller knows the key.
	return tier.ErrNotFound
}

// Put stores value under key with meta and returns the bytes the record
// occupies on disk: header, key, meta and stored (maybe compressed) value.
// When Put returns the value is readable and as durable as the SyncMode
// says. A failed write leaves nothing of this Put behind and earlier ones
// intact; on a full disk the error wraps tier.ErrNoSpace. Meta longer than
// MaxMetaLen is tier.ErrTooLarge. The caller may reuse value and meta once
// Put returns.
func (s *Store) Put(key string, value, meta []byte) (int64, error) {
	charged, _, err := s.PutReplacing(key, value, meta)
	return charged, err
}

// PutReplacing is Put that also reports whether key held a value the put
// replaced (tier.Replacer): the index lookup the put makes anyway answers
// it, where asking first (Size) costs a second one.
func (s *Store) PutReplacing(key string, value, meta []byte) (charged int64, replaced bool, err error) {
	tok, err := s.beginPut(key, meta)
	if err != nil {
		return 0, false, err
	}
	defer s.gate.Leave(tok)
	scratch := getBuf(0)
	defer putBuf(scratch)
	w := s.newPut(key, value, meta, scratch)
	defer w.free()
	if err := s.commit(w); err != nil {
		return 0, false, err
	}
	return w.size, w.replacedLive, nil
}

// beginPut checks a put's key and meta, admits it and pays the sync debt
// of a failed background sync; the caller calls s.gate.Leave(tok) when the
// put is done.
func (s *Store) beginPut(key string, meta []byte) (gate.Token, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if len(meta) > MaxMetaLen {
		return 0, fmt.Errorf("disk: meta of %d bytes for %q: %w (at most %d)", len(meta), key, tier.ErrTooLarge, MaxMetaLen)
	}
	tok, ok := s.gate.Enter()
	if !ok {
		return 0, errClosed
	}
	if err := s.payDebt(); err != nil {
		s.gate.Leave(tok)
		return 0, err
	}
	return tok, nil
}

// newPut encodes a put: it compresses value into scratch when that pays.
func (s *Store) newPut(key string, value, meta []byte, scratch *[]byte) *write {
	stored, c := s.opts.Compression.compress(value, scratch)
	// The key is read during the call only (the index copies it into a new
	// entry), so callers may pass strings over memory they reuse.
	w := newWrite()
	w.kind, w.key, w.value, w.raw, w.codec, w.sum = kindPut, key, stored, int64(len(value)), c, valueSum(stored)
	if len(meta) > 0 {
		w.meta = append([]byte(nil), meta...)
	}
	w.size = int64(recordHeaderSize + len(key) + len(meta) + len(stored))
	return w
}

// Delete removes key and returns the bytes its record occupied; it appends
// a tombstone, durable as a Put is. A key the store does not hold is
// tier.ErrNotFound, and nothing is written; while the store holds no key
// at all, that answer takes no lock (the Manager deletes every key it
// stores in another tier from this one).
func (s *Store) Delete(key string) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	tok, ok := s.gate.Enter()
	if !ok {
		return 0, errClosed
	}
	defer s.gate.Leave(tok)
	if err := s.payDebt(); err != nil {
		return 0, err
	}
	// keys counts a key from its insertion into the index, under its
	// shard's lock, and a moved record before its old place is uncounted:
	// it reads 0 only when no key is live.
	if s.index.keys.Load() == 0 {
		return 0, notFound(key)
	}
	if e, ok := s.index.get(key); !ok || e.tomb {
		return 0, notFound(key)
	}
	w := newWrite()
	defer w.free()
	w.kind, w.key, w.sum, w.size = kindDelete, key, valueSum(nil), int64(recordHeaderSize+len(key))
	if err := s.commit(w); err != nil {
		return 0, err
	}
	if !w.replacedLive {
		return 0, notFound(key) // deleted concurrently
	}
	return w.replaced.size, nil
}

// Scan calls fn for every key with its meta and record size, in no
// particular order, and stops at fn's first error, which it returns. It
// sees each key at most once; keys stored or deleted while it runs may or
// may not be seen. The meta slice is valid only during fn. Scan holds no
// lock while fn runs, so fn may call the Store's methods (but not Close).
func (s *Store) Scan(fn func(key string, meta []byte, size int64) error) error {
	tok, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(tok)
	var items []liveItem
	var meta []byte
	for i := range shardCount {
		items = s.index.snapshot(i, items[:0])
		for _, it := range items {
			meta = append(meta[:0], it.meta...)
			if err := fn(it.key, meta, it.size); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sync makes every Put and Delete that returned before it durable: it
// writes the write buffer, fsyncs every segment written since its last
// sync, and the directory if a segment was created.
func (s *Store) Sync() error {
	tok, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(tok)
	return s.syncAll()
}

func (s *Store) syncAll() error {
	if err := s.flushLog(); err != nil {
		return err
	}
	if err := s.syncDir(); err != nil {
		return err
	}
	gs := s.segs.all()
	defer releaseAll(gs)
	for _, g := range gs {
		if err := g.sync(&s.stats.fsyncs); err != nil {
			return err
		}
	}
	return nil
}

// syncDir syncs the directory if a segment was created since it was last
// synced.
func (s *Store) syncDir() error {
	s.dirSync.Lock()
	defer s.dirSync.Unlock()
	if failed := s.dirSyncFailed.Load(); failed != nil {
		return *failed
	}
	if !s.dirDirty.Swap(false) {
		return nil
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		s.dirDirty.Store(true)
		err = ioError(err, "syncing %s", s.dir)
		if !errors.Is(err, tier.ErrNoSpace) { // as for segments: see ErrSyncFailed
			sticky := fmt.Errorf("%w: %w", ErrSyncFailed, err)
			s.dirSyncFailed.Store(&sticky)
			return sticky
		}
		return err
	}
	return nil
}

// Close waits for the operations in flight and the background work, writes
// the write buffer, syncs every segment, writes the missing hint files (so
// the next Open reads no segment) and releases the directory.
//
// If the buffer cannot be written or a sync fails (a full disk: the error
// wraps tier.ErrNoSpace), Close returns the error and leaves the store
// open and usable, every record still buffered kept and readable: once
// the cause is gone (space freed), Close again. Concurrent Closes wait for
// each other. After a Close that succeeded, every method returns
// tier.ErrClosed. View and Scan callbacks must not call Close.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed || !s.gate.Close() {
		return errClosed
	}
	s.stopBackground()
	if err := s.syncAll(); errors.Is(err, ErrSyncFailed) {
		// No retry can succeed: close without writing hints (the next Open
		// scans what reached the disk) and report the loss.
		s.closed = true
		s.shutdownSegments()
		return errors.Join(err, s.lock.Close())
	} else if err != nil {
		s.startBackground()
		s.gate.Reopen()
		return err
	}
	s.closed = true
	s.sealActiveForClose()
	s.writeMissingHints()
	s.shutdownSegments()
	return s.lock.Close()
}

// sealActiveForClose marks the active segment sealed, so that Close writes
// its hint file. The write buffer is empty: syncAll wrote it.
func (s *Store) sealActiveForClose() {
	s.log.Lock()
	if s.log.active != nil {
		s.log.active.sealed.Store(true)
	}
	s.log.Unlock()
}

// shutdownSegments drops the store's reference on every segment.
func (s *Store) shutdownSegments() {
	gs := s.segs.all()
	for _, g := range gs {
		s.segs.remove(g)
		g.release()
	}
	releaseAll(gs)
}

// Reserve makes room in the index for about n more keys, so that a load of
// that many new keys (the Manager's Close, writing memory to disk) does
// not grow it step by step (tier.Reserver).
func (s *Store) Reserve(n int) {
	tok, ok := s.gate.Enter()
	if !ok {
		return
	}
	defer s.gate.Leave(tok)
	s.index.grow(n)
}
