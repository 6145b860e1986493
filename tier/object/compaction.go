package object

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tiermem/tiermem/tier"
)

// retiredPack is a pack compaction copied: deleted from the bucket once
// every pack up to upTo, where its copies went, is durable. Until its
// delete succeeds the bucket may hold its frames, so compaction keeps the
// tombstones that hide them (oldestValuesLocked counts them).
type retiredPack struct {
	p        *pack
	upTo     uint64
	deleting bool // a deleteRetired call is deleting it
}

// Compact rewrites every durable pack whose live share (the frame bytes of
// values the catalog points at, over all its frame bytes) is below
// Options.MinLiveShare: its live frames are copied verbatim (no
// recompression) into the open pack, with the tombstones still needed to
// hide an older pack's frames, and the old pack and its index are deleted
// only after Sync made the copies durable. Compact returns after that
// Sync. It is safe to call while other calls run; the Manager calls it
// from its migration loop, or a user through `tiermem glacier compact`.
func (s *Store) Compact() error {
	t, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(t)
	var errs []error
	for _, seq := range s.sparsePacks() {
		// The copies fill packs that must upload: while uploads fail,
		// copying more would hold every sparse pack in memory.
		if err := s.retryFailed(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("object: compaction stopped: %w", err))...)
		}
		if err := s.compactPack(seq); err != nil {
			errs = append(errs, err) // that pack stays as it is; the others are compacted all the same
		}
	}
	if err := s.flush(); err != nil {
		return errors.Join(append(errs, err)...)
	}
	return errors.Join(append(errs, s.deleteRetired())...)
}

// sparsePacks returns the durable packs below the live share whose
// rewrite would shrink them, oldest first.
func (s *Store) sparsePacks() []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var durable []*pack
	for _, p := range s.packs {
		if p.durable && p.framesLen() > 0 {
			durable = append(durable, p)
		}
	}
	oldest := s.oldestValuesLocked(durable...)
	var seqs []uint64
	for seq, p := range s.packs {
		frames := p.framesLen()
		if !p.durable || frames <= 0 {
			continue
		}
		kept := p.live + s.neededTombstonesLocked(p, oldest)
		if float64(kept) < s.opts.MinLiveShare*float64(frames) && kept < frames {
			seqs = append(seqs, seq)
		}
	}
	sortSeqs(seqs)
	return seqs
}

// oldestValuesLocked returns, for every key of a tombstone in one of
// packs that has no value now (the keys whose tombstones neededLocked
// asks about), the oldest pack the bucket may hold with a value frame of
// the key: the store's packs, and the retired ones not yet deleted. A
// tombstone that hides a retired pack's frame is needed as long as that
// pack may be in the bucket: a crash between dropping it and deleting the
// pack would bring the frame back. Only those keys are mapped, and none
// is when packs hold no such tombstone (most packs): the walk over every
// pack runs under the store's lock, and a map of every key held reads
// stalled for 70 ms at 400,000 keys.
func (s *Store) oldestValuesLocked(packs ...*pack) map[string]uint64 {
	var oldest map[string]uint64
	for _, p := range packs {
		for i := range p.entries {
			e := &p.entries[i]
			if e.kind != kindTombstone {
				continue
			}
			if _, live := s.catalog[e.key]; !live {
				if oldest == nil {
					oldest = map[string]uint64{}
				}
				oldest[e.key] = noValue
			}
		}
	}
	if oldest == nil {
		return nil
	}
	add := func(p *pack) {
		for i := range p.entries {
			e := &p.entries[i]
			if e.kind != kindValue {
				continue
			}
			if o, ok := oldest[e.key]; ok && p.seq < o {
				oldest[e.key] = p.seq
			}
		}
	}
	for _, p := range s.packs {
		add(p)
	}
	for _, r := range s.retired {
		add(r.p)
	}
	return oldest
}

// noValue is oldestValuesLocked's pack for a key no pack holds a value
// frame of: past every sequence number.
const noValue = ^uint64(0)

// neededLocked reports whether tombstone e of pack p must be kept when p
// is rewritten: its key has no value now, and an older pack holds a frame
// of the key that it hides.
func (s *Store) neededLocked(p *pack, e *entry, oldest map[string]uint64) bool {
	if _, live := s.catalog[e.key]; live {
		return false
	}
	o, ok := oldest[e.key]
	return ok && o < p.seq
}

func (s *Store) neededTombstonesLocked(p *pack, oldest map[string]uint64) int64 {
	var n int64
	for i := range p.entries {
		if e := &p.entries[i]; e.kind == kindTombstone && s.neededLocked(p, e, oldest) {
			n += int64(e.frameLen)
		}
	}
	return n
}

// compactPack copies pack seq's live frames and needed tombstones into the
// open pack and retires it.
func (s *Store) compactPack(seq uint64) error {
	s.mu.RLock()
	p, ok := s.packs[seq]
	live, size := int64(0), int64(0)
	if ok {
		live, size = p.live, p.size
	}
	s.mu.RUnlock()
	if !ok {
		return nil // compacted meanwhile
	}
	var b []byte
	if live > 0 {
		var scanned []entry
		var err error
		b, scanned, err = s.readPack(seq, size)
		switch {
		case errors.Is(err, ErrNotExist) && s.retiredOrGone(seq):
			return nil // another Compact copied it meanwhile and deleted it
		case errors.Is(err, tier.ErrCorrupt):
			// A damaged frame no read reaches (a deleted value's) must not
			// keep the live ones from being copied: each is verified alone.
			if b, err = s.liveFrames(p, size); err != nil {
				return fmt.Errorf("object: compacting: %w", err)
			}
		case err != nil:
			return fmt.Errorf("object: compacting: %w", err)
		default:
			if err := s.compareEntries(seq, scanned, p.entries); err != nil {
				return err // the frames are not where the index says: copy nothing
			}
		}
	}
	s.startUploads(s.copyLive(p, b))
	return nil
}

// liveFrames returns pack p's bytes, size of them, once every frame the
// catalog points at in it verified by its own entry: what compaction
// copies of a pack that does not verify whole. A live frame that does not
// verify is an error, and nothing is copied.
func (s *Store) liveFrames(p *pack, size int64) ([]byte, error) {
	b, err := s.bucket.get(packName(p.seq), 0, size)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	var live []int
	for i := range p.entries {
		if p.entries[i].kind == kindValue && s.pointsAt(p.entries[i].key, p, i) {
			live = append(live, i)
		}
	}
	s.mu.RUnlock()
	for _, i := range live {
		e := p.entries[i]
		if e.off+int64(e.frameLen) > int64(len(b)) {
			return nil, corruptIn(s.bucket.b, packName(p.seq), e.off, badFormat(0, "frame of key %q past the pack's end", e.key))
		}
		if _, err := s.verify(e.key, p.seq, &e, b[e.off:e.off+int64(e.frameLen)]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// copyLive appends p's live frames, taken from b (p's bytes, verified),
// and its needed tombstones to the open pack, removes p from the packs
// and retires it; it returns the packs it sealed.
func (s *Store) copyLive(p *pack, b []byte) []*pack {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.packs[p.seq] != p {
		return nil // another Compact retired it meanwhile
	}
	oldest := s.oldestValuesLocked(p)
	var sealed []*pack
	for i := range p.entries {
		e := p.entries[i]
		var full *pack
		switch {
		case e.kind == kindValue && s.pointsAt(e.key, p, i):
			_, full = s.appendRawLocked(b[e.off:e.off+int64(e.frameLen)], e)
		case e.kind == kindTombstone && s.neededLocked(p, &e, oldest):
			_, full = s.appendLocked(&frame{kind: kindTombstone, key: []byte(e.key)})
		}
		if full != nil {
			sealed = append(sealed, full)
		}
	}
	delete(s.packs, p.seq)
	s.retired = append(s.retired, &retiredPack{p: p, upTo: s.nextSeq - 1})
	s.opts.Logger.Info("glacier: pack compacted", "pack", packName(p.seq), "live", p.live, "bytes", p.size)
	return sealed
}

func (s *Store) startUploads(packs []*pack) {
	for _, p := range packs {
		s.startUpload(p)
	}
}

// deleteRetired deletes the retired packs whose copies are durable: the
// index first, so that a crash between leaves a pack without an index,
// which Open scans (its frames are older than their copies and lose),
// never an index without its pack. It stops at the first failure; the
// rest wait for the next Sync.
//
// Several calls may run at once (Sync's, Compact's): each deletes the
// packs it marked, and a pack leaves s.retired only once deleted, so
// that until then compaction keeps the tombstones hiding its frames
// (oldestValuesLocked). The order of the deletes is then free: no pack
// compacted later dropped a tombstone that only hid a frame of a pack
// still in the bucket.
func (s *Store) deleteRetired() error {
	ready := s.takeRetired()
	for i, r := range ready {
		err := s.bucket.delete(indexName(r.p.seq))
		if err == nil {
			err = s.bucket.delete(packName(r.p.seq))
		}
		s.mu.Lock()
		if err == nil {
			s.retired = slices.DeleteFunc(s.retired, func(x *retiredPack) bool { return x == r })
		} else {
			for _, r := range ready[i:] {
				r.deleting = false
			}
		}
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("object: deleting a compacted pack: %w", err)
		}
	}
	return nil
}

// takeRetired marks as deleting, and returns in the order they were
// retired, the retired packs whose copies are all durable and that no
// other call is deleting.
func (s *Store) takeRetired() []*retiredPack {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ready []*retiredPack
	for _, r := range s.retired {
		if !r.deleting && s.durableUpToLocked(r.upTo) {
			r.deleting = true
			ready = append(ready, r)
		}
	}
	return ready
}

// durableUpToLocked reports whether every pack numbered up to seq is
// durable.
func (s *Store) durableUpToLocked(seq uint64) bool {
	for _, p := range s.packs {
		if p.seq <= seq && !p.durable {
			return false
		}
	}
	return true
}

// retiredOrGone reports whether pack seq was compacted: retired, awaiting
// deletion, or no longer a pack of the store.
func (s *Store) retiredOrGone(seq uint64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.packs[seq]; !ok {
		return true
	}
	for _, r := range s.retired {
		if r.p.seq == seq {
			return true
		}
	}
	return false
}
