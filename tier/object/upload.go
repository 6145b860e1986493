package object

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// appendLocked appends f to the open pack, opening one if needed, applies
// it to the catalog and returns where it lies; if the pack reached
// PackSize it is sealed and returned, for the caller to hand to
// startUpload once s.mu is released. s.mu must be held for writing.
func (s *Store) appendLocked(f *frame) (loc, *pack) {
	p := s.openLocked()
	e := entryOf(f, uint32(f.size()))
	e.off = int64(len(p.buf))
	p.buf = appendFrame(p.buf, f)
	return s.addLocked(p, e)
}

// appendRawLocked appends a verified frame's bytes, copied from another
// pack, as appendLocked appends a frame. s.mu must be held for writing.
func (s *Store) appendRawLocked(b []byte, e entry) (loc, *pack) {
	p := s.openLocked()
	e.off, e.copied = int64(len(p.buf)), true
	p.buf = append(p.buf, b...)
	return s.addLocked(p, e)
}

// addLocked records entry e, whose frame was appended to the open pack p.
func (s *Store) addLocked(p *pack, e entry) (loc, *pack) {
	p.entries = append(p.entries, e)
	p.size = int64(len(p.buf))
	l := loc{p: p, i: len(p.entries) - 1}
	s.applyLocked(p, l.i)
	if p.size >= s.opts.PackSize {
		return l, s.sealLocked()
	}
	return l, nil
}

// maxPackPrealloc bounds the buffer a new open pack allocates up front:
// a pack of the default size (with room for the frame that overflows it)
// never grows by copying, and a huge PackSize does not allocate it all.
const maxPackPrealloc = 64 << 20

// openLocked returns the open pack, starting one if there is none.
func (s *Store) openLocked() *pack {
	if s.open == nil {
		p := &pack{seq: s.nextSeq}
		s.nextSeq++
		p.buf = appendPackHeader(make([]byte, 0, min(s.opts.PackSize+s.opts.PackSize/8, maxPackPrealloc)), p.seq)
		p.size = int64(len(p.buf))
		s.packs[p.seq] = p
		s.open = p
	}
	return s.open
}

// sealLocked seals the open pack, if it holds a frame, builds its index
// and returns it; nil if there was nothing to seal.
func (s *Store) sealLocked() *pack {
	p := s.open
	if p == nil || len(p.entries) == 0 {
		return nil
	}
	s.open = nil
	p.sealed = true
	p.buf = appendPackEnd(p.buf, len(p.entries))
	p.size = int64(len(p.buf))
	p.index = encodeIndex(p.seq, p.size, p.entries)
	return p
}

// startUpload uploads p, if not nil, in the background, once fewer than
// Options.Uploads others are uploading. An upload that fails leaves p in
// memory for Sync to retry.
func (s *Store) startUpload(p *pack) {
	if p == nil {
		return
	}
	s.uploads <- struct{}{}
	s.wg.Go(func() {
		defer func() { <-s.uploads }()
		_ = s.upload(p)
	})
}

// upload writes p and then its index to the bucket, unless it is durable
// already, and marks it durable: the index is written after the pack so
// that an index never names a pack that is not there. When the index
// fails after the pack was created, the pack is deleted again (best
// effort): a pack without its index is scanned at Open and its frames
// applied, though no Sync acknowledged them, and a Put taken back since
// (Revert) would come back with them.
//
// An index request that failed may still land later (one that timed out
// at the client can still be in flight at the server), after those
// deletes or Revert's: the bucket then holds the index of a pack it does
// not hold, perhaps of bytes Revert changed since. So p is marked stale,
// for its next upload to delete what landed first; an index found under
// its name all the same, once p's own pack is in place, is such a late
// landing and is replaced (putIndex). A late index that a crash left
// behind makes Open fail closed (see the package doc).
func (s *Store) upload(p *pack) error {
	p.uploadMu.Lock()
	defer p.uploadMu.Unlock()
	s.mu.Lock()
	durable, buf, index, stale := p.durable, p.buf, p.index, p.stale
	if !durable {
		p.placed = true // from the first request on, the bucket may hold it
	}
	s.mu.Unlock()
	if durable {
		return nil
	}
	var err error
	if stale {
		// The bucket may hold an older version of the pack, with a frame
		// Revert took out, or an index that landed late: gone first, or
		// nothing is created.
		if err = s.removeObjects(p.seq); err == nil {
			s.mu.Lock()
			p.stale = false
			s.mu.Unlock()
		}
	}
	if err == nil {
		err = s.bucket.create(packName(p.seq), buf) // never over another writer's pack
		if err == nil {
			if err = s.putIndex(p.seq, index); err != nil {
				s.mu.Lock()
				p.stale = true // the failed request may land after unplace's deletes
				s.mu.Unlock()
				s.unplace(p)
			}
		}
	}
	if err != nil {
		s.opts.Logger.Warn("glacier: pack upload failed; kept in memory for the next Sync", "pack", packName(p.seq), "err", err)
		s.mu.Lock()
		if !p.failed {
			p.failed = true
			s.failed++
		}
		if errors.Is(err, ErrExists) {
			p.foreign = true
		}
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	p.durable, p.buf, p.index = true, nil, nil
	if p.failed {
		p.failed = false
		s.failed--
	}
	s.mu.Unlock()
	s.opts.Logger.Info("glacier: pack uploaded", "pack", packName(p.seq), "bytes", len(buf), "entries", len(p.entries))
	return nil
}

// putIndex creates index, pack seq's, once the pack is in the bucket.
// The pack object is then this pack's bytes, which the index is built
// from, so an index with other bytes under its name is not another
// writer's (its pack create would have failed): it is an earlier upload
// of this pack, of bytes Revert changed since, whose index request landed
// after the failed upload deleted the pack. It is replaced.
func (s *Store) putIndex(seq uint64, index []byte) error {
	err := s.bucket.create(indexName(seq), index)
	if errors.Is(err, ErrExists) {
		s.opts.Logger.Warn("glacier: replacing an index of an earlier upload of the pack, which landed late", "index", indexName(seq))
		err = s.bucket.put(indexName(seq), index)
	}
	return err
}

// unplace deletes what a failed upload of p may have left in the bucket
// and, if that succeeds, notes that the bucket holds nothing of p. p stays
// stale if it was: a failed request may yet land, and p's next upload
// deletes it first. p.uploadMu is held.
func (s *Store) unplace(p *pack) bool {
	if err := s.removeObjects(p.seq); err != nil {
		s.opts.Logger.Warn("glacier: deleting a pack whose upload failed failed; Open would scan it", "pack", packName(p.seq), "err", err)
		return false
	}
	s.mu.Lock()
	p.placed = false
	s.mu.Unlock()
	return true
}

// removeObjects deletes pack seq's index, then the pack: an index never
// names a pack that is not there. Deleting an absent object succeeds.
func (s *Store) removeObjects(seq uint64) error {
	if err := s.bucket.delete(indexName(seq)); err != nil {
		return err
	}
	return s.bucket.delete(packName(seq))
}

// Sync seals the open pack and returns once every pack sealed before it
// returned is durable in the bucket: every Put and Delete that returned
// before Sync began is then durable. A pack whose upload fails stays in
// memory, readable, and the next Sync retries it: an object store's
// writes are atomic, so a failed upload proves nothing lost and a retry
// that succeeds is a true acknowledgement (unlike a failed fsync).
// Packs that Compact replaced are deleted once their copies are durable.
func (s *Store) Sync() error {
	t, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(t)
	return s.flush()
}

// flush is Sync without the gate.
func (s *Store) flush() error {
	s.mu.Lock()
	s.sealLocked()
	pending := s.pendingLocked()
	s.mu.Unlock()
	if err := s.uploadAll(pending); err != nil {
		return fmt.Errorf("object: sync: %w", err)
	}
	if err := s.deleteRetired(); err != nil {
		// The copies are durable: what failed is only the cleanup, which
		// the next Sync retries; the packs are merely stale meanwhile.
		s.opts.Logger.Warn("glacier: deleting compacted packs failed; the next Sync retries", "err", err)
	}
	return nil
}

// uploadAll uploads packs, oldest first, and returns their errors joined.
func (s *Store) uploadAll(packs []*pack) error {
	var errs []error
	for _, p := range packs {
		if err := s.upload(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// retryFailed uploads again, before a Put or a Delete adds to memory, the
// packs whose background uploads failed: while the bucket fails, Puts and
// Deletes fail with it (the Manager keeps the value in cold, or the key
// where it is) rather than fill memory with packs that cannot leave it.
func (s *Store) retryFailed() error {
	s.mu.RLock()
	failed := s.failed
	var packs []*pack
	if failed > 0 {
		for _, p := range s.pendingLocked() {
			if p.failed {
				packs = append(packs, p)
			}
		}
	}
	s.mu.RUnlock()
	if len(packs) == 0 {
		return nil
	}
	if err := s.uploadAll(packs); err != nil {
		return fmt.Errorf("object: write refused while earlier packs cannot be uploaded: %w", err)
	}
	return nil
}

// Pending reports whether a Sync has anything to do: values or deletes in
// the open pack, packs not yet durable, or compacted packs to delete. It
// reads memory only.
func (s *Store) Pending() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.open != nil && len(s.open.entries) > 0 || len(s.retired) > 0 {
		return true
	}
	for _, p := range s.packs {
		if p.sealed && !p.durable {
			return true
		}
	}
	return false
}

// pendingLocked returns the sealed packs not yet durable, oldest first.
func (s *Store) pendingLocked() []*pack {
	var pending []*pack
	for _, p := range s.packs {
		if p.sealed && !p.durable {
			pending = append(pending, p)
		}
	}
	slices.SortFunc(pending, func(a, b *pack) int { return cmp.Compare(a.seq, b.seq) })
	return pending
}
