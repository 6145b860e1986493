package bundle

import (
	"bytes"
	"cmp"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"

	"github.com/cespare/xxhash/v2"

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
func (l *Layered) Merge() (Info, error) {
	l.mergeMu.Lock()
	defer l.mergeMu.Unlock()
	g, err := l.freeze()
	if err != nil {
		return Info{}, err
	}
	defer g.release() // the pin taken by freeze
	next := l.path + mergingSuffix
	info, err := l.build(g, next)
	if err == nil {
		err = l.swap(g, next)
	}
	if err != nil {
		l.thaw(g)
		return Info{}, err
	}
	return info, nil
}

// build verifies g's bundle and writes it, with g's frozen delta folded in,
// at next.
func (l *Layered) build(g *generation, next string) (Info, error) {
	if g.b != nil {
		if err := g.b.Verify(); err != nil {
			return Info{}, fmt.Errorf("merging into %s: %w", l.path, err)
		}
	}
	return BuildRecords(next, mergeChanges(g.b, sortChanges(g.frozen), l.closing.Load), &l.opts)
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

// mergingSuffix names the file a Merge builds beside the store's path. It
// is renamed over the path only if the store is still open then, so that a
// Close during a Merge leaves the old bundle in place. A crash may leave it:
// the next Merge builds over it.
const mergingSuffix = ".merging"

// swap renames the merged bundle at next over the store's path, unless the
// store was closed meanwhile, and makes it current.
func (l *Layered) swap(old *generation, next string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		os.Remove(next)
		return ErrClosed
	}
	if err := os.Rename(next, l.path); err != nil {
		os.Remove(next)
		return fmt.Errorf("bundle: merging into %s: %w", l.path, err)
	}
	if err := vfs.Default.SyncDir(filepath.Dir(l.path)); err != nil {
		return fmt.Errorf("bundle: merging into %s: %w", l.path, err)
	}
	b, err := Open(l.path)
	if err != nil {
		return err
	}
	l.cur = newGeneration(b)
	old.next = l.cur // Views of old read what its Merge folded in
	old.release()    // its reference as the current generation
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
				out = append(out, keyedChange{h: xxhash.Sum64String(k), key: []byte(k), change: c})
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
