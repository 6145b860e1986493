package bundle

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/internal/tempfile"
	"github.com/tiermem/tiermem/internal/vfs"
)

// Merge writes a new bundle at the store's path with the delta folded in,
// then swaps it in: reads and writes go on meanwhile, Views taken before keep
// reading the old bundle until they are released, and other processes that
// mapped the old file keep it too (the rename leaves their mapping intact).
// Changes made during the Merge stay in the delta. On error the delta is kept
// and the old bundle stays in place. Merges run one at a time.
//
// The old bundle is verified first (Verify, a read of the whole file): a
// damaged one is never copied into a new bundle whose fresh checksums would
// hide the damage for good. Merge then fails with ErrCorrupt.
//
// Several stores may merge one path, in one process or in many. A Merge
// folds the delta into the bundle that the path names when it starts: if
// another store replaced (or removed) the file since this one read it, the
// store reads the newer bundle from then on, under its delta. Its file
// replaces the path only if the path still names that bundle when it is
// done; else another store's Merge (or a build) replaced it meanwhile, and
// Merge returns ErrConflict and keeps the delta, which the next Merge folds
// into the newer bundle. So a Merge that returns nil never drops what
// another store merged. A Build of the path takes no part in this: if it
// renames its file between a Merge's check and rename, the Merge replaces
// it.
func (l *Layered) Merge() (Info, error) {
	l.mergeMu.Lock()
	defer l.mergeMu.Unlock()
	if err := l.follow(); err != nil {
		return Info{}, err
	}
	g, err := l.freeze()
	if err != nil {
		return Info{}, err
	}
	defer g.release() // the pin taken by freeze
	out, info, err := l.build(g)
	if err == nil {
		err = l.swap(g, out)
	}
	if err != nil {
		l.thaw(g)
		return Info{}, err
	}
	return info, nil
}

// build verifies g's bundle and writes a bundle with g's frozen delta folded
// in. It returns the file written, open and locked at its temporary name
// beside the store's path, for swap.
func (l *Layered) build(g *generation) (*os.File, Info, error) {
	if g.b != nil {
		if err := g.b.Verify(); err != nil {
			return nil, Info{}, fmt.Errorf("merging into %s: %w", l.path, err)
		}
	}
	b, err := NewBuilder(l.path, &l.opts)
	if err != nil {
		return nil, Info{}, err
	}
	b.detach = true
	info, err := b.addAll(mergeChanges(g.b, sortChanges(g.frozen), l.closing.Load))
	return b.detached, info, err
}

// follow makes the bundle at the store's path current if another store or
// process replaced the file since the store read it, so that the Merge folds
// the delta into the newest bundle. l.mergeMu is held, so no frozen delta
// lies between the two generations.
func (l *Layered) follow() error {
	l.mu.RLock()
	file := l.cur.file
	l.mu.RUnlock()
	if st, err := os.Stat(l.path); names(file, st, err) {
		return nil
	}
	b, file, err := openCurrent(l.path)
	if err != nil {
		return err
	}
	if b != nil && b.hdr.kind == Approximate {
		b.Close()
		return fmt.Errorf("%w: %s", ErrNoKeys, l.path)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		if b != nil {
			b.Close()
		}
		return ErrClosed
	}
	if b != nil {
		l.opts.Index, l.opts.Align = b.hdr.kind, int(b.hdr.align())
	}
	l.replaceCurrentLocked(newGeneration(b, file))
	return nil
}

// names reports whether a stat of a store's path that returned st and err
// finds file there: the file a generation's bundle was mapped from, or nil
// for none.
func names(file, st os.FileInfo, err error) bool {
	if file == nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	return err == nil && os.SameFile(file, st)
}

// replaceCurrentLocked makes g the current generation. Views of the old one
// read the frozen deltas from g on. l.mu is held.
func (l *Layered) replaceCurrentLocked(g *generation) {
	old := l.cur
	l.cur = g
	old.next = g
	old.release() // its reference as the current generation
}

// freeze moves the live delta into the current generation's frozen delta
// and pins the generation.
func (l *Layered) freeze() (*generation, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	g := l.cur
	g.frozen, l.live = l.live, map[string]change{}
	g.refs.Add(1)
	return g, nil
}

// swap installs the merged bundle out (its build's file, open and locked)
// at the store's path and makes it current, unless the store was closed
// meanwhile (ErrClosed) or the path no longer names old's bundle
// (ErrConflict). out is closed, and removed unless installed.
func (l *Layered) swap(old *generation, out *os.File) error {
	defer out.Close()                 // after the removal: its lock keeps sweeps off it
	defer tempfile.Remove(out.Name()) // once installed, the name names nothing
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	file, err := out.Stat()
	if err != nil {
		return fmt.Errorf("bundle: merging into %s: %w", l.path, err)
	}
	b, err := Open(out.Name())
	if err != nil {
		return err
	}
	if err := install(out.Name(), l.path, old.file); err != nil {
		b.Close()
		return err
	}
	b.path = l.path
	l.replaceCurrentLocked(newGeneration(b, file)) // Views of old read what the Merge folded in
	return nil
}

// install puts the finished bundle tmp at path if path still names the
// bundle file base (no file, if base is nil), and makes that durable; else
// it returns ErrConflict. Every Merge checks and renames under an flock of
// the file at path, so that of the Merges of one path, in any processes,
// that folded their deltas into one bundle, only the first installs its
// file. Where there is no file, link(2) fails if another Merge made one.
func install(tmp, path string, base os.FileInfo) error {
	if err := replaceIfNames(tmp, path, base); err != nil {
		return err
	}
	if err := vfs.Default.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("bundle: merging into %s: %w", path, err)
	}
	return nil
}

// replaceIfNames renames (or links) tmp to path if path names base.
func replaceIfNames(tmp, path string, base os.FileInfo) error {
	conflict := fmt.Errorf("%w: %s", ErrConflict, path)
	if base == nil {
		err := os.Link(tmp, path)
		if errors.Is(err, fs.ErrExist) {
			return conflict
		}
		if err != nil {
			return fmt.Errorf("bundle: merging into %s: %w", path, err)
		}
		return nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return conflict
	}
	if err != nil {
		return fmt.Errorf("bundle: merging into %s: %w", path, err)
	}
	defer f.Close()
	if err := lock(f); err != nil {
		return fmt.Errorf("bundle: merging into %s: locking it: %w", path, err)
	}
	// Stat, not Lstat: path may be a symbolic link to the bundle.
	held, err := f.Stat()
	if now, serr := os.Stat(path); err != nil || serr != nil || !os.SameFile(held, now) || !os.SameFile(held, base) {
		return conflict
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("bundle: merging into %s: %w", path, err)
	}
	return nil
}

// thaw puts a frozen delta back after a failed Merge, under the changes made
// since.
func (l *Layered) thaw(g *generation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, c := range g.frozen {
		if _, newer := l.live[k]; !newer {
			l.live[k] = c
		}
	}
	g.frozen = nil
}

// keyedChange is a delta entry with its key and hash, for ordering.
type keyedChange struct {
	h   uint64
	key []byte
	change
}

// sortChanges flattens delta layers, newest first, into one list in index
// order: by key hash, then key.
func sortChanges(layers ...map[string]change) []keyedChange {
	seen := map[string]bool{}
	var out []keyedChange
	for _, layer := range layers {
		for k, c := range layer {
			if !seen[k] {
				seen[k] = true
				out = append(out, keyedChange{h: xxhash.Sum64String(k), key: slices.Clip([]byte(k)), change: c})
			}
		}
	}
	slices.SortFunc(out, func(a, b keyedChange) int { return compareEntry(a.h, a.key, b.h, b.key) })
	return out
}

// compareEntry orders records as the index does.
func compareEntry(ha uint64, ka []byte, hb uint64, kb []byte) int {
	if c := cmp.Compare(ha, hb); c != 0 {
		return c
	}
	return bytes.Compare(ka, kb)
}

// mergeChanges yields the records of b (nil for none) with changes applied,
// in index order: a changed key's records are replaced by its new value, or
// dropped if it was deleted. It yields ErrClosed and stops if b is closed,
// or released (nil for never) reports true, before a record is read.
func mergeChanges(b *Bundle, changes []keyedChange, released func() bool) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		j := 0
		// emitUntil yields the changes ordered before (h, key).
		emitUntil := func(h uint64, key []byte, all bool) bool {
			for ; j < len(changes) && (all || compareEntry(changes[j].h, changes[j].key, h, key) < 0); j++ {
				c := changes[j]
				if !c.deleted && !yield(Record{Key: c.key, Value: c.value, Meta: c.meta}, nil) {
					return false
				}
			}
			return true
		}
		if b != nil {
			for i := range b.ix.e.len() {
				if b.closed.Load() || released != nil && released() {
					yield(Record{}, ErrClosed)
					return
				}
				h := b.ix.e.hash(i)
				r, err := b.record(i)
				if err != nil {
					yield(Record{}, err)
					return
				}
				if !emitUntil(h, r.Key, false) {
					return
				}
				if j < len(changes) && changes[j].h == h && bytes.Equal(changes[j].key, r.Key) {
					continue // replaced or deleted by the delta
				}
				if !yield(r, nil) {
					return
				}
			}
		}
		emitUntil(0, nil, true)
	}
}
