package disk

import (
	"errors"
	"fmt"

	"github.com/tiermem/tiermem/tier"
)

// SetMeta replaces key's meta, keeping its value as stored
// (tier.MetaSetter): it appends a record of the stored bytes, verified
// against their checksum and copied as they are (a compressed value is not
// decoded and encoded again), with the new meta, as durable as a Put. The
// record is appended only if key's record is still the one read: a Put or
// Delete of key that commits in between makes SetMeta read again, so that
// it never brings back the value that Put replaced. Errors: those of Put
// and of a read (tier.ErrCorrupt for stored bytes that fail their check),
// tier.ErrNotFound, and tier.ErrNoSpace when the record would take more
// than grow bytes more than the old one.
func (s *Store) SetMeta(key string, meta []byte, grow int64) (int64, error) {
	tok, err := s.beginPut(key, meta)
	if err != nil {
		return 0, err
	}
	defer s.gate.Leave(tok)
	for {
		charged, err := s.setMetaOnce(key, meta, grow)
		if !errors.Is(err, errChanged) {
			return charged, err
		}
	}
}

// errChanged fails a write of SetMeta's whose key another write changed
// since SetMeta read it.
var errChanged = errors.New("disk: the key changed since it was read")

// setMetaOnce reads key's stored value and appends it with meta, if key's
// record is still the one read when the write is committed (errChanged
// otherwise).
func (s *Store) setMetaOnce(key string, meta []byte, grow int64) (int64, error) {
	e, rtok, err := s.startRead(key)
	if err != nil {
		return 0, err
	}
	buf := getBuf(0)
	defer putBuf(buf)
	stored, err := s.appendStored(key, &e, *buf)
	s.endRead(e, rtok)
	*buf = stored[:0]
	if err != nil {
		return 0, err
	}
	size := int64(recordHeaderSize + len(key) + len(meta) + len(stored))
	if more := size - e.size; more > grow {
		return 0, fmt.Errorf("disk: %q with meta of %d bytes takes %d bytes more than the %d allowed: %w", key, len(meta), more, grow, tier.ErrNoSpace)
	}
	w := newWrite()
	defer w.free()
	w.kind, w.key, w.value, w.raw, w.codec, w.sum, w.size = kindPut, key, stored, e.raw, e.codec, e.sum, size
	w.ifSeq = e.seq
	if len(meta) > 0 {
		w.meta = append([]byte(nil), meta...)
	}
	if err := s.commit(w); err != nil {
		return 0, err
	}
	return w.size, nil
}

// staleLocked returns batch without the conditional writes (SetMeta's)
// whose key changed since they read it: its record is no longer the one
// they read, or a write before them in the batch is of the same key. It
// fails those with errChanged; batch itself is left as it is (the leader
// wakes its writes from it). The log's lock is held.
func (s *Store) staleLocked(batch []*write) []*write {
	var kept []*write
	for i, w := range batch {
		stale := w.ifSeq != 0 && s.changedLocked(w, batch[:i])
		switch {
		case stale && kept == nil:
			kept = append(make([]*write, 0, len(batch)), batch[:i]...)
			finish([]*write{w}, errChanged)
		case stale:
			finish([]*write{w}, errChanged)
		case kept != nil:
			kept = append(kept, w)
		}
	}
	if kept == nil {
		return batch
	}
	return kept
}

// changedLocked reports whether w's key changed since w read its record
// (of sequence number w.ifSeq), or is written by one of before.
func (s *Store) changedLocked(w *write, before []*write) bool {
	if e, ok := s.index.get(w.key); !ok || e.seq != w.ifSeq {
		return true
	}
	for _, b := range before {
		if b.key == w.key {
			return true
		}
	}
	return false
}
