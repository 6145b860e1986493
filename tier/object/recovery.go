package object

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tiermem/tiermem/tier"
)

// listing is what the bucket holds of one pack.
type listing struct {
	seq               uint64
	packSize, idxSize int64
	hasPack, hasIndex bool
}

// recover rebuilds the catalog from the bucket: it lists the packs, reads
// their entries (from the index, or by scanning a pack whose index is
// missing or damaged) with Options.Concurrency requests at once, and
// replays them oldest first, so that a key's newest frame wins and a
// tombstone removes what came before it.
func (s *Store) recover() error {
	listings, err := s.listPacks()
	if err != nil {
		return err
	}
	entries, err := s.loadAll(listings)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ls := range listings {
		p := &pack{seq: ls.seq, entries: entries[i], size: ls.packSize, sealed: true, durable: true}
		s.packs[p.seq] = p
		for j := range p.entries {
			s.applyLocked(p, j)
		}
	}
	if len(listings) > 0 {
		s.nextSeq = listings[len(listings)-1].seq + 1
	}
	return nil
}

// listPacks returns the packs the bucket holds, oldest first.
func (s *Store) listPacks() ([]listing, error) {
	bySeq := map[uint64]*listing{}
	err := s.bucket.list(packDir, func(name string, size int64) error {
		seq, isIndex, ok := parseName(name)
		if !ok {
			return nil
		}
		ls := bySeq[seq]
		if ls == nil {
			ls = &listing{seq: seq}
			bySeq[seq] = ls
		}
		if isIndex {
			ls.hasIndex, ls.idxSize = true, size
		} else {
			ls.hasPack, ls.packSize = true, size
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]listing, 0, len(bySeq))
	for _, ls := range bySeq {
		out = append(out, *ls)
	}
	slices.SortFunc(out, func(a, b listing) int { return cmp.Compare(a.seq, b.seq) })
	return out, nil
}

// loadAll reads the entries of every listed pack, Options.Concurrency at
// a time. A pack that does not verify (tier.ErrCorrupt) does not stop the
// others, and every such pack is reported, joined; any other error (the
// bucket unavailable or gone) stops the reads not yet begun, and the
// first such error is returned alone: a store that stopped answering
// fails Open after one pack's retries, not after every pack's.
func (s *Store) loadAll(listings []listing) ([][]entry, error) {
	entries := make([][]entry, len(listings))
	errs := make([]error, len(listings))
	next := make(chan int)
	var stopped atomic.Bool // a read failed other than by damage
	var wg sync.WaitGroup
	for range min(s.opts.Concurrency, len(listings)) {
		wg.Go(func() {
			for i := range next {
				entries[i], errs[i] = s.loadPack(listings[i])
				if errs[i] != nil && !errors.Is(errs[i], tier.ErrCorrupt) {
					stopped.Store(true)
				}
			}
		})
	}
	for i := range listings {
		if stopped.Load() {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, tier.ErrCorrupt) {
			return nil, err
		}
	}
	return entries, errors.Join(errs...)
}

// loadPack returns the entries of one pack: from its index if that
// verifies and agrees with the pack's size, else by scanning the pack.
func (s *Store) loadPack(ls listing) ([]entry, error) {
	if !ls.hasPack {
		return nil, &CorruptError{Bucket: s.String(), Object: indexName(ls.seq),
			Reason: "index of a pack the bucket does not hold: the pack was deleted outside the store (its values " +
				"are lost), or, when this is the newest index, an upload that failed timed out on its index request, " +
				"deleted the pack, and the request landed later; in that case, and only then, no acknowledged value " +
				"was in the pack, and deleting this index lets the store open"}
	}
	if ls.hasIndex {
		entries, err := s.readIndex(ls)
		if err == nil || (!errors.Is(err, ErrNotExist) && !isFormat(err)) {
			return entries, err
		}
		s.opts.Logger.Warn("glacier: pack index unusable, scanning the pack", "index", indexName(ls.seq), "err", err)
	}
	return s.rebuildIndex(ls)
}

// readIndex reads and decodes the index of a listed pack.
func (s *Store) readIndex(ls listing) ([]entry, error) {
	b, err := s.bucket.get(indexName(ls.seq), 0, ls.idxSize)
	if err != nil {
		return nil, err
	}
	entries, packLen, err := decodeIndex(b, ls.seq)
	if err == nil && packLen != ls.packSize {
		// The index verifies, so the pack changed size since both were
		// written: a pack cut at a frame boundary would scan as sound and
		// serve older values from earlier packs. The index is kept as it is,
		// the evidence of the pack's length.
		return nil, &CorruptError{Bucket: s.String(), Object: packName(ls.seq), Off: min(packLen, ls.packSize),
			Reason: fmt.Sprintf("the pack is %d bytes, its index (which verifies) says %d", ls.packSize, packLen)}
	}
	return entries, err
}

func isFormat(err error) bool {
	var fe *formatError
	return errors.As(err, &fe)
}

// rebuildIndex scans a pack's frames and writes its index anew; a pack
// that does not verify fails the open (a frame past the damage could hold
// a newer version of a key).
func (s *Store) rebuildIndex(ls listing) ([]entry, error) {
	_, entries, err := s.readPack(ls.seq, ls.packSize)
	if err != nil {
		return nil, err
	}
	if err := s.bucket.put(indexName(ls.seq), encodeIndex(ls.seq, ls.packSize, entries)); err != nil {
		s.opts.Logger.Warn("glacier: rewriting a pack index failed; the next open scans the pack again", "index", indexName(ls.seq), "err", err)
	}
	return entries, nil
}

// readPack reads pack seq, size bytes, whole and scans it, verifying every
// frame; a pack that does not verify is read once more (the damage may
// have been on the wire) before it is a *CorruptError.
func (s *Store) readPack(seq uint64, size int64) ([]byte, []entry, error) {
	var err error
	for range 2 {
		var b []byte
		if b, err = s.bucket.get(packName(seq), 0, size); err != nil {
			return nil, nil, err
		}
		var entries []entry
		if entries, err = scanPack(b, seq); err == nil {
			return b, entries, nil
		}
	}
	return nil, nil, corruptIn(s.bucket.b, packName(seq), 0, err)
}
