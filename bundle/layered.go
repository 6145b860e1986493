package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"slices"
	"sync"
	"sync/atomic"
)

// Layered is a read-only bundle with a mutable in-memory delta on top: sets
// and deletes go to the delta, reads look in the delta first and then in the
// bundle, so the two read as one store. Merge writes a new bundle that folds
// the delta in and swaps it in atomically while readers go on.
//
// This is the "static bundle + dynamic delta" layering: most data sits in the
// shared, compact bundle; what changed since it was built sits in the delta,
// which is small, and is lost if the process ends before a Merge.
//
// A Layered is safe for concurrent use: reads, writes and Merge may run in
// many goroutines at once. Get copies values out; a View reads without
// copying, with slices that stay valid until the View is released, across
// Merges.
type Layered struct {
	path    string
	opts    Options
	mergeMu sync.Mutex // serializes Merge

	mu      sync.RWMutex      // protects live, cur and closed
	live    map[string]change // the delta: changes since the last Merge began
	cur     *generation
	closed  bool
	closing atomic.Bool // closed, for a Merge to stop at without the lock
}

// change is one entry of the delta.
type change struct {
	// value and meta are owned by the delta and never modified. Their
	// capacity is their length, so that a reader's append to a value that
	// Get, View or View.All returned copies it instead of writing into
	// the delta, where another reader sees it.
	value, meta []byte
	deleted     bool
}

// generation is one bundle of a Layered store and the readers that use it.
// It holds a reference for being current and one per View and Merge; the
// bundle is closed when the last is released.
type generation struct {
	b      *Bundle           // nil while the store has no bundle yet
	file   os.FileInfo       // the file b was mapped from, to tell whether the path still names it; nil with b
	frozen map[string]change // the delta being merged into the next bundle; set under Layered.mu and never modified after
	next   *generation       // the generation that followed it as current (its Merge's, or a newer file's: follow); set under Layered.mu
	refs   atomic.Int64
}

func newGeneration(b *Bundle, file os.FileInfo) *generation {
	g := &generation{b: b, file: file}
	g.refs.Store(1)
	return g
}

func (g *generation) release() {
	if g.refs.Add(-1) == 0 && g.b != nil {
		g.b.Close()
	}
}

// OpenLayered opens the bundle at path with an empty delta. If path does not
// exist the store starts empty and the first Merge creates it. opts (nil for
// defaults) are used for the bundles Merge writes; an existing bundle's index
// kind and alignment take precedence. Approximate bundles keep no keys and are
// refused with ErrNoKeys. It removes what builds and Merges of path that a
// crash or SIGKILL stopped left beside it and in opts.TempDir.
func OpenLayered(path string, opts *Options) (*Layered, error) {
	o, err := opts.resolve(path)
	if err != nil {
		return nil, err
	}
	sweepLeftovers(path, o.TempDir)
	b, file, err := openCurrent(path)
	if err != nil {
		return nil, err
	}
	if b != nil {
		o.Index, o.Align = b.hdr.kind, int(b.hdr.align())
	}
	if o.Index == Approximate {
		if b != nil {
			b.Close()
		}
		return nil, fmt.Errorf("%w: %s", ErrNoKeys, path)
	}
	return &Layered{path: path, opts: o, live: map[string]change{}, cur: newGeneration(b, file)}, nil
}

// openCurrent opens the bundle at path and returns it with the identity of
// the file it mapped, or nil and nil if there is no file at path.
func openCurrent(path string) (*Bundle, os.FileInfo, error) {
	for range 100 {
		before, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("bundle: opening %s: %w", path, err)
		}
		b, err := Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, nil, err
		}
		if after, err := os.Stat(path); err == nil && os.SameFile(before, after) {
			return b, before, nil
		}
		b.Close() // replaced meanwhile: which file was mapped is not known
	}
	return nil, nil, fmt.Errorf("bundle: opening %s: the file kept being replaced", path)
}

// Path returns the path of the store's bundle.
func (l *Layered) Path() string { return l.path }

// Set records key's value (and, for a multi bundle, makes it the key's only
// value). key and value are copied.
func (l *Layered) Set(key, value []byte) error { return l.SetRecord(Record{Key: key, Value: value}) }

// SetRecord records a key's value and meta area. The record is copied.
func (l *Layered) SetRecord(r Record) error {
	c := change{value: slices.Clip(append([]byte{}, r.Value...)), meta: slices.Clip(append([]byte(nil), r.Meta...))}
	return l.put(r.Key, c)
}

// Delete removes key (every value of it, in a multi bundle). Deleting a
// missing key is not an error.
func (l *Layered) Delete(key []byte) error { return l.put(key, change{deleted: true}) }

func (l *Layered) put(key []byte, c change) error {
	if len(key) > maxKey || len(c.meta) > maxKey {
		return fmt.Errorf("%w: key of %d bytes, meta of %d", ErrTooLarge, len(key), len(c.meta))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.live[string(key)] = c
	return nil
}

// Get appends the value of key to dst and returns it, or ErrNotFound. The
// copy makes it safe to use whatever happens to the store afterwards; a View
// reads without copying.
func (l *Layered) Get(dst, key []byte) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return dst, ErrClosed
	}
	r, err := l.lookupLocked(l.cur, key)
	if err != nil {
		return dst, err
	}
	return append(dst, r.Value...), nil
}

// lookupLocked finds key in the delta, then in the frozen deltas of the
// Merges since g (newest first), then in g's bundle: a View's generation
// may be several Merges old, and what they folded in is newer than its
// bundle. l.mu is held for reading.
func (l *Layered) lookupLocked(g *generation, key []byte) (Record, error) {
	if c, ok := l.live[string(key)]; ok {
		return c.record(key)
	}
	if c, ok := frozenSince(g, key); ok {
		return c.record(key)
	}
	if g.b == nil {
		return Record{}, ErrNotFound
	}
	return g.b.GetRecord(key)
}

// frozenSince finds key in the frozen deltas of g and the generations after
// it, newest first.
func frozenSince(g *generation, key []byte) (change, bool) {
	if g.next != nil {
		if c, ok := frozenSince(g.next, key); ok {
			return c, true
		}
	}
	c, ok := g.frozen[string(key)]
	return c, ok
}

// deltasSince returns the live delta and the frozen deltas of g and the
// generations after it, newest first; l.mu is held.
func (l *Layered) deltasSince(g *generation) []map[string]change {
	var chain []map[string]change
	for ; g != nil; g = g.next {
		chain = append(chain, g.frozen)
	}
	chain = append(chain, l.live)
	slices.Reverse(chain)
	return chain
}

// record returns the change as a record of key.
func (c change) record(key []byte) (Record, error) {
	if c.deleted {
		return Record{}, ErrNotFound
	}
	return Record{Key: key, Value: c.value, Meta: c.meta}, nil
}

// DeltaLen returns the number of keys changed since the last Merge finished.
func (l *Layered) DeltaLen() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := len(l.cur.frozen)
	for k := range l.live {
		if _, merging := l.cur.frozen[k]; !merging {
			n++
		}
	}
	return n
}

// Close releases the store's bundle; Views still open keep theirs until they
// are released. The delta is dropped: Merge first to keep it. A Merge in
// progress stops and returns ErrClosed, leaving the old bundle in place.
// Close of a closed store returns ErrClosed.
func (l *Layered) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	l.closing.Store(true)
	l.cur.release()
	return nil
}

// View is a reader of a Layered store that pins the store's bundle as it was
// when the View was taken: slices it returns stay valid until Release, even
// if a Merge replaces the bundle meanwhile. Its reads see that bundle and the
// delta as it is at each read. A View is safe for concurrent use; release it
// once, when done.
type View struct {
	l        *Layered
	g        *generation
	released atomic.Bool
}

// View returns a new View of the store.
func (l *Layered) View() (*View, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	l.cur.refs.Add(1)
	return &View{l: l, g: l.cur}, nil
}

// Get returns the value of key without copying, or ErrNotFound. The value is
// valid until Release.
func (v *View) Get(key []byte) ([]byte, error) {
	r, err := v.GetRecord(key)
	return r.Value, err
}

// GetRecord returns the record of key, valid until Release, or ErrNotFound.
func (v *View) GetRecord(key []byte) (Record, error) {
	if v.released.Load() {
		return Record{}, ErrClosed
	}
	v.l.mu.RLock()
	defer v.l.mu.RUnlock()
	return v.l.lookupLocked(v.g, key)
}

// All yields every record of the store, the delta applied, in key-hash order.
// The delta is read once, when the iteration starts. An iteration that goes
// on after Release yields ErrClosed and stops.
func (v *View) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if v.released.Load() {
			yield(Record{}, ErrClosed)
			return
		}
		v.l.mu.RLock()
		changes := sortChanges(v.l.deltasSince(v.g)...)
		v.l.mu.RUnlock()
		for r, err := range mergeChanges(v.g.b, changes, v.released.Load) {
			if !yield(r, err) {
				return
			}
		}
	}
}

// Release unpins the View's bundle. The View and every slice it returned
// must not be used afterwards. Release of a released View does nothing.
func (v *View) Release() {
	if v.released.CompareAndSwap(false, true) {
		v.g.release()
	}
}
