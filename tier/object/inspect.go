package object

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// PackInfo describes one pack, as Packs lists it.
type PackInfo struct {
	Name      string  // the pack object's name in the bucket
	Bytes     int64   // the pack object's length
	Entries   int     // frames: values and tombstones
	LiveBytes int64   // frame bytes of the values the catalog points at
	LiveShare float64 // LiveBytes over the frame bytes; Compact rewrites packs below Options.MinLiveShare
	Durable   bool    // in the bucket; false for the open pack and those uploading
}

// Packs lists the store's packs, oldest first, from memory: what
// `tiermem glacier ls` prints.
func (s *Store) Packs() ([]PackInfo, error) {
	t, ok := s.gate.Enter()
	if !ok {
		return nil, errClosed
	}
	defer s.gate.Leave(t)
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]PackInfo, 0, len(s.packs))
	for _, p := range s.packs {
		out = append(out, p.info())
	}
	slices.SortFunc(out, func(a, b PackInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// info describes p. Store.mu must be held.
func (p *pack) info() PackInfo {
	frames := p.framesLen()
	share := 1.0
	if frames > 0 {
		share = float64(p.live) / float64(frames)
	}
	return PackInfo{Name: packName(p.seq), Bytes: p.size, Entries: len(p.entries),
		LiveBytes: p.live, LiveShare: share, Durable: p.durable}
}

// Verify reads every durable pack whole and verifies every frame's
// checksum and that the pack agrees with the entries the store holds for
// it: what `tiermem glacier verify` runs. It returns every damage found,
// each a *CorruptError, joined; or the first error reading the bucket.
func (s *Store) Verify() error {
	t, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(t)
	var damage []error
	for _, seq := range s.durableSeqs() {
		err := s.verifyPack(seq)
		if errors.Is(err, ErrUnavailable) {
			return err
		}
		if err != nil {
			damage = append(damage, err)
		}
	}
	return errors.Join(damage...)
}

// durableSeqs returns the durable packs' sequence numbers, oldest first.
func (s *Store) durableSeqs() []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var seqs []uint64
	for seq, p := range s.packs {
		if p.durable {
			seqs = append(seqs, seq)
		}
	}
	sortSeqs(seqs)
	return seqs
}

func sortSeqs(seqs []uint64) { slices.Sort(seqs) }

// verifyPack reads pack seq and compares its frames with its entries.
func (s *Store) verifyPack(seq uint64) error {
	s.mu.RLock()
	p := s.packs[seq]
	var size int64
	var want []entry
	if p != nil {
		size, want = p.size, p.entries
	}
	s.mu.RUnlock()
	if p == nil {
		return nil // compacted meanwhile
	}
	_, got, err := s.readPack(seq, size)
	if errors.Is(err, ErrNotExist) {
		s.mu.RLock()
		retired := s.packs[seq] != p
		s.mu.RUnlock()
		if retired {
			return nil // compacted while it was read
		}
	}
	if err != nil {
		return s.damagedPack(seq, err)
	}
	if err := s.verifyIndex(seq, size, got); err != nil {
		return err
	}
	return s.compareEntries(seq, got, want)
}

// verifyIndex reads pack seq's index object, when the bucket holds one
// (Open scans a pack without one), and checks it against the pack: its
// checksum, the pack's length, and its entries against those scanned.
func (s *Store) verifyIndex(seq uint64, size int64, scanned []entry) error {
	name, idxSize := indexName(seq), int64(-1)
	err := s.bucket.list(name, func(listed string, n int64) error {
		if listed == name {
			idxSize = n
		}
		return nil
	})
	if err != nil || idxSize < 0 {
		return err
	}
	b, err := s.bucket.get(name, 0, idxSize)
	if err != nil {
		return err
	}
	entries, packLen, err := decodeIndex(b, seq)
	switch {
	case err != nil:
		return corruptIn(s.bucket.b, name, 0, err)
	case packLen != size:
		return &CorruptError{Bucket: s.String(), Object: name, Reason: fmt.Sprintf("the index is of a pack of %d bytes, the pack holds %d", packLen, size)}
	}
	if err := s.compareEntries(seq, scanned, entries); err != nil {
		return fmt.Errorf("object: %s does not match its pack: %w", name, err)
	}
	return nil
}

// compareEntries reports where a pack's scanned entries differ from the
// index the store loaded.
func (s *Store) compareEntries(seq uint64, got, want []entry) error {
	if len(got) != len(want) {
		return &CorruptError{Bucket: s.String(), Object: packName(seq),
			Reason: fmt.Sprintf("pack holds %d frames, its index %d", len(got), len(want))}
	}
	for i := range got {
		g, w := &got[i], &want[i]
		if g.key != w.key || g.off != w.off || g.frameLen != w.frameLen || g.kind != w.kind || g.rawLen != w.rawLen {
			return &CorruptError{Bucket: s.String(), Object: packName(seq), Off: g.off,
				Reason: fmt.Sprintf("frame %d (key %q) disagrees with its index entry", i, g.key)}
		}
	}
	return nil
}
