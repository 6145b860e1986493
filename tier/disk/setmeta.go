package disk

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/tiermem/tiermem/tier"
)

// SetMeta replaces key's meta, keeping its value as stored
// (tier.MetaSetter): it appends a record of the stored bytes, verified
// against their checksum and copied as they are (a compressed value is not
// decoded and encoded again), with the new meta, as durable as a Put. The
// record is appended only if key's record is still the one read: a Put or
// Delete of key that commits in between makes SetMeta read again, so that
// it never brings back the value that Put replaced. A value stored in
// more than 1 MiB (copyBuffered) is copied from its segment under the log's
// lock, through one buffer, so that SetMeta never holds it in memory
// whole; other writers wait meanwhile, as they do for PutStaged (readers
// do not). Errors: those of Put and of a read (tier.ErrCorrupt for stored
// bytes that fail their check), tier.ErrNotFound, and tier.ErrNoSpace when
// the record would take more than grow bytes more than the old one (that
// check comes first: a damaged value with too little grow is ErrNoSpace).
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

// copyBuffered is the most stored bytes SetMeta reads into memory (stageBuf;
// tests lower it): it copies a larger value from segment to segment
// (copyLocked).
var copyBuffered atomic.Int64

func init() { copyBuffered.Store(stageBuf) }

// errChanged fails a write of SetMeta's whose key another write changed
// since SetMeta read it.
var errChanged = errors.New("disk: the key changed since it was read")

// setMetaOnce appends key's stored value with meta, if key's record is
// still the one read when the write is committed (errChanged otherwise).
// The caller is inside the store's gate.
func (s *Store) setMetaOnce(key string, meta []byte, grow int64) (int64, error) {
	e, ok := s.index.acquire(key)
	if !ok {
		return 0, notFound(key)
	}
	defer e.seg.release()
	w := newWrite()
	defer w.free()
	w.kind, w.key, w.raw, w.codec, w.sum, w.ifSeq = kindPut, key, e.raw, e.codec, e.sum, e.seq
	w.size = int64(recordHeaderSize+len(key)+len(meta)) + e.stored(key)
	if more := w.size - e.size; more > grow {
		return 0, fmt.Errorf("disk: %q with meta of %d bytes takes %d bytes more than the %d allowed: %w", key, len(meta), more, grow, tier.ErrNoSpace)
	}
	if len(meta) > 0 {
		w.meta = append([]byte(nil), meta...)
	}
	if e.stored(key) > copyBuffered.Load() {
		return s.setMetaCopied(key, &e, w)
	}
	buf := getBuf(0)
	defer putBuf(buf)
	stored, err := s.appendStored(key, &e, *buf)
	*buf = stored[:0]
	if err != nil {
		return 0, err
	}
	w.value = stored
	if err := s.commit(w); err != nil {
		return 0, err
	}
	return w.size, nil
}

// setMetaCopied appends w, a record of e's stored value, copying the value
// from e's segment under the log's lock, if key's record is still e
// (errChanged otherwise).
func (s *Store) setMetaCopied(key string, e *entry, w *write) (int64, error) {
	s.log.Lock()
	defer s.log.Unlock()
	if now, ok := s.index.get(key); !ok || now.seq != e.seq {
		return 0, errChanged
	}
	// The records committed so far go to the file first: the source is then
	// read from the file, and readers of the newest records do not wait for
	// the copy (Store.readAt takes the log's lock for bytes in the buffer).
	if a := &s.log.app; len(a.buf) > 0 {
		if err := a.flush(); err != nil {
			return 0, ioError(err, "writing the log's buffer to segment %d", a.g.id)
		}
	}
	if err := s.appendCopiedLocked(w, s.recordSource(key, e)); err != nil {
		return 0, err
	}
	return w.size, nil
}

// recordSource is the copySource of e's stored value, read from its
// segment's file (all of it there: setMetaCopied flushed the buffer).
func (s *Store) recordSource(key string, e *entry) copySource {
	base := e.valueOff(key)
	return copySource{
		size: e.stored(key),
		sum:  e.sum,
		readAt: func(p []byte, off int64) error {
			_, err := e.seg.file.ReadAt(p, base+off)
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return s.corrupt(key, e, "the segment ends inside the value")
			}
			return err
		},
		mismatch: func() error { return s.corrupt(key, e, "value checksum mismatch") },
	}
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
