package disk

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// RawValue is one value stored raw (uncompressed), open for reading in
// pieces: what serves a large value without holding it in memory. It holds
// a reference on its segment, not the store's admission, so that it stays
// readable after the key is replaced, deleted or compacted away, and after
// Close (which does not wait for it); the segment's file is closed once the
// last RawValue reading it is closed. A RawValue is safe for concurrent use;
// Close it once done.
type RawValue struct {
	s   *Store
	key string
	e   entry

	mu     sync.RWMutex // ReadAt holds the read side, Close the write side
	closed bool
}

// rawChunk is how much of a value a verifying pass reads at a time.
const rawChunk = 1 << 20

// OpenRaw opens key's value for reading with ReadAt. It reports false, and
// holds nothing, when the value is compressed, or under 1 MiB and still in
// the write buffer: read it with Get then (a larger one is written out of
// the buffer first). The bytes are not verified until Verify
// returns nil: call it before trusting them (it reads the whole value, so a
// caller may do it after releasing its own locks). A key the store does not
// hold is tier.ErrNotFound.
func (s *Store) OpenRaw(key string) (*RawValue, bool, error) {
	e, tok, err := s.startRead(key)
	if err != nil {
		return nil, false, err
	}
	defer s.gate.Leave(tok)
	if e.codec != codecRaw || !s.written(key, &e) {
		e.seg.release()
		return nil, false, nil
	}
	return &RawValue{s: s, key: strings.Clone(key), e: e}, true, nil
}

// written reports whether the record of key's entry e is in its segment's
// file: a large one still partly in the write buffer is written out first
// (a flush, no fsync), a small one is left there for Get.
func (s *Store) written(key string, e *entry) bool {
	end := e.valueOff(key) + e.stored(key)
	if end <= e.seg.written.Load() {
		return true
	}
	if e.stored(key) < rawChunk || s.flushLog() != nil {
		return false
	}
	return end <= e.seg.written.Load()
}

// Verify reads the whole value through a 1 MiB buffer and checks it against
// its checksum: tier.ErrCorrupt if it fails, or if the segment ends inside
// the value.
func (v *RawValue) Verify() error {
	buf := getBuf(int(min(rawChunk, v.Size())))
	defer putBuf(buf)
	d := newDigest()
	for off := int64(0); off < v.Size(); {
		n, err := v.ReadAt(*buf, off)
		d.Write((*buf)[:n])
		off += int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && off == v.Size()) {
			return err
		}
	}
	if d.Sum64() != v.e.sum {
		return v.s.corrupt(v.key, &v.e, "value checksum mismatch")
	}
	return nil
}

// Size returns the value's length in bytes.
func (v *RawValue) Size() int64 { return v.e.raw }

// Meta returns the meta stored with the value; it must not be modified.
func (v *RawValue) Meta() []byte { return v.e.meta() }

// Sum returns the value's XXH3-64 checksum, which Verify checks.
func (v *RawValue) Sum() uint64 { return v.e.sum }

// ReadAt reads len(p) bytes of the value at off, as io.ReaderAt does: fewer
// only at the value's end, with io.EOF. The bytes are read from the segment
// file at each call, with pread rather than through the segment's mapping,
// so that streaming a large value leaves none of it resident in the process
// (the page cache keeps what the kernel chooses). A segment cut short is
// tier.ErrCorrupt. ReadAt after Close is an error.
func (v *RawValue) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("disk: ReadAt of %q at offset %d", v.key, off)
	}
	if off >= v.Size() {
		return 0, io.EOF
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.closed {
		return 0, fmt.Errorf("disk: ReadAt of %q after Close", v.key)
	}
	n := int(min(int64(len(p)), v.Size()-off))
	err := v.s.readAt(v.e.seg, p[:n], v.e.valueOff(v.key)+off)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return 0, v.s.corrupt(v.key, &v.e, "the segment ends inside the value")
	case err != nil:
		return 0, ioError(err, "reading %q from segment %d at %d", v.key, v.e.seg.id, v.e.off)
	case n < len(p):
		return n, io.EOF
	}
	return n, nil
}

// Close releases the value's segment. Later calls do nothing.
func (v *RawValue) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		v.closed = true
		v.e.seg.release()
	}
	return nil
}
