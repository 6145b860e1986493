package object

import "slices"

// Revert takes back a Put of key whose Sync failed: the key holds value
// and meta again when had is set (what it held before that Put), or
// nothing. Like Restore, it does not first retry the uploads that failed.
//
// A later write alone cannot take the Put back durably: a Sync that fails
// half way may upload the Put's pack and not the later one, and Open then
// finds the value of the Put that failed. So when the Put's frame lies in
// a pack that the bucket does not hold (the open pack, or a sealed one
// whose upload failed and whose objects are deleted, here if need be),
// Revert replaces the frame, in its place in that pack, by the older
// value's frame (or a tombstone), and reports withdrawn: no upload can
// then make the failed Put durable, whatever fails, and the pack that
// held it says what the key held before it, also where compaction
// dropped an older frame or tombstone of the key meanwhile.
//
// Otherwise (the pack was uploaded, or may have been and its objects
// could not be deleted), Revert writes the older value, or a tombstone,
// after the Put's frame, as Restore does: until a later Sync returns, a
// crash may bring the Put's value back, and the caller should Sync.
func (s *Store) Revert(key string, value, meta []byte, had bool) (withdrawn bool, err error) {
	if had {
		if err := checkPut(key, value, meta); err != nil {
			return false, err
		}
	}
	t, ok := s.gate.Enter()
	if !ok {
		return false, errClosed
	}
	defer s.gate.Leave(t)
	f := &frame{kind: kindTombstone, key: []byte(key)}
	if had {
		stored, codec := compressValue(s.opts.Compression, value)
		f = &frame{kind: kindValue, codec: codec, key: []byte(key), meta: meta, rawLen: uint32(len(value)), stored: stored}
	}
	s.mu.RLock()
	l, held := s.catalog[key]
	s.mu.RUnlock()
	var p *pack
	if held {
		p = l.p
		p.uploadMu.Lock() // no upload of p runs while its bytes change
		s.mu.RLock()
		clean := !p.placed || p.foreign || p.durable
		s.mu.RUnlock()
		if !clean {
			s.unplace(p) // the bucket holds none of p now, or p becomes stale below
		}
	}
	s.mu.Lock()
	replaced, clean := false, false
	if p != nil {
		replaced, clean = s.replaceLocked(key, p, f)
	}
	var sealed *pack
	if !replaced || !clean {
		// A later write, as Restore's (a Delete's when the key had none,
		// and the Put's frame may be in the bucket).
		if _, held := s.catalog[key]; had || held || replaced {
			_, sealed = s.appendLocked(f)
		}
	}
	s.mu.Unlock()
	if p != nil {
		p.uploadMu.Unlock() // before startUpload, which may wait for an upload of p
	}
	s.startUpload(sealed)
	return replaced && clean, nil
}

// replaceLocked replaces key's newest frame, where the catalog points in
// p, by f, if it is a value Put wrote there (not a copy compaction made)
// and p is neither durable nor another writer's; the catalog then points
// at f, or holds no key for a tombstone. It reports whether it replaced
// the frame, and whether the bucket holds no copy of the frame replaced:
// p was never placed, or its objects were deleted since (else p is marked
// stale, for its next upload to delete them first). s.mu is held for
// writing, and p.uploadMu.
func (s *Store) replaceLocked(key string, p *pack, f *frame) (replaced, clean bool) {
	l, ok := s.catalog[key]
	if !ok || l.p != p || p.durable || p.foreign || s.packs[p.seq] != p {
		return false, false
	}
	old := p.entries[l.i]
	if old.kind != kindValue || old.copied {
		return false, false // a copy compaction made: the frame it copied is durable
	}
	e := entryOf(f, uint32(f.size()))
	e.off = old.off
	delta := int64(e.frameLen) - int64(old.frameLen)
	end := int64(len(p.buf))
	if p.sealed {
		end -= packEnd
	}
	// Never in place: reads hold slices of the old bytes.
	buf := make([]byte, 0, max(int64(cap(p.buf)), end+delta+packEnd))
	buf = append(buf, p.buf[:old.off]...)
	buf = appendFrame(buf, f)
	buf = append(buf, p.buf[old.off+int64(old.frameLen):end]...)
	entries := slices.Clone(p.entries)
	entries[l.i] = e
	for j := l.i + 1; j < len(entries); j++ {
		entries[j].off += delta
	}
	if p.sealed {
		buf = appendPackEnd(buf, len(entries))
		p.index = encodeIndex(p.seq, int64(len(buf)), entries)
	}
	// As setLocked: a value is counted before the old entry is uncounted
	// (while p.entries is still the old one), so that Len never dips.
	if e.kind == kindValue {
		s.countLocked(&e)
	}
	s.unsetLocked(key)
	p.entries, p.buf, p.size = entries, buf, int64(len(buf))
	if e.kind == kindValue {
		s.pointLocked(key, loc{p: p, i: l.i})
	}
	if p.placed {
		p.stale = true
		return true, false
	}
	return true, true
}
