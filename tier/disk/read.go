package disk

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/tiermem/tiermem/internal/gate"
	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
)

// Reads copy from a read-only shared mapping of each segment file (see
// segment.mapping): a copy out of the page cache without a system call,
// where a pread of a warm 4 KiB block costs about 0.6 µs here. A page that
// the file stopped backing (something cut it short) raises SIGBUS, which
// vfs.AppendMapped turns into an error, so a truncated file is ErrCorrupt as
// it is with pread. Files that cannot be mapped are read with pread.

// Get appends key's value to dst and returns the result. The stored value's
// checksum is verified on every read: a mismatch, or a value that does not
// decode to its recorded length, is tier.ErrCorrupt and dst comes back
// unchanged. A key the store does not hold is tier.ErrNotFound.
func (s *Store) Get(key string, dst []byte) ([]byte, error) {
	e, tok, err := s.startRead(key)
	if err != nil {
		return dst, err
	}
	defer s.endRead(e, tok)
	return s.getEntry(key, &e, dst)
}

// getEntry appends the verified, decoded value of key's entry e to dst.
func (s *Store) getEntry(key string, e *entry, dst []byte) ([]byte, error) {
	if e.codec == codecRaw {
		return s.appendStored(key, e, dst)
	}
	buf := getBuf(0)
	defer putBuf(buf)
	stored, err := s.appendStored(key, e, *buf)
	*buf = stored[:0]
	if err != nil {
		return dst, err
	}
	return s.decode(key, e, dst, stored)
}

// View calls fn with key's value, verified as Get verifies it, and returns
// fn's error. The slice is a pooled buffer: it is valid only until fn
// returns and must not be modified or retained. fn must not call Close.
func (s *Store) View(key string, fn func(value []byte) error) error {
	e, tok, err := s.startRead(key)
	if err != nil {
		return err
	}
	defer s.endRead(e, tok)
	return s.viewEntry(key, &e, fn)
}

// ViewStored calls fn with key's value as stored (one zstd frame, or the
// value itself), verified against its checksum but not decoded, with its
// decoded length and meta; see tier.StoredViewer. The slices are valid
// only during fn.
func (s *Store) ViewStored(key string, fn func(v tier.Stored) error) error {
	e, tok, err := s.startRead(key)
	if err != nil {
		return err
	}
	defer s.endRead(e, tok)
	buf := getBuf(0)
	defer putBuf(buf)
	stored, err := s.appendStored(key, &e, *buf)
	*buf = stored[:0]
	if err != nil {
		return err
	}
	return fn(tier.Stored{Value: stored, Zstd: e.codec == codecZstd, RawLen: e.raw, Meta: e.meta()})
}

// viewEntry reads and verifies the value of key's entry e into a pooled
// buffer and calls fn with it.
func (s *Store) viewEntry(key string, e *entry, fn func(value []byte) error) error {
	buf := getBuf(0)
	defer putBuf(buf)
	stored, err := s.appendStored(key, e, *buf)
	*buf = stored[:0]
	if err != nil {
		return err
	}
	if e.codec == codecRaw {
		return fn(stored)
	}
	out := getBuf(0)
	defer putBuf(out)
	v, err := s.decode(key, e, *out, stored)
	if err != nil {
		return err
	}
	*out = v[:0]
	return fn(v)
}

// startRead admits a read of key and returns its entry with a reference on
// its segment; the caller must call endRead.
func (s *Store) startRead(key string) (entry, gate.Token, error) {
	if err := checkKey(key); err != nil {
		return entry{}, 0, err
	}
	tok, ok := s.gate.Enter()
	if !ok {
		return entry{}, 0, errClosed
	}
	e, ok := s.index.acquire(key)
	if !ok {
		s.gate.Leave(tok)
		return entry{}, 0, notFound(key)
	}
	return e, tok, nil
}

// endRead ends a read that startRead admitted with token tok.
func (s *Store) endRead(e entry, tok gate.Token) {
	e.seg.release()
	s.gate.Leave(tok)
}

// appendStored appends the stored value of key's record to dst and
// verifies its checksum; on failure it returns dst unchanged.
func (s *Store) appendStored(key string, e *entry, dst []byte) ([]byte, error) {
	start := len(dst)
	dst, err := s.appendAt(e.seg, dst, e.valueOff(key), e.stored(key))
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, vfs.ErrMappingFault) {
		return dst[:start], s.corrupt(key, e, "the segment ends inside the value")
	}
	if err != nil {
		return dst[:start], ioError(err, "reading %q from segment %d at %d", key, e.seg.id, e.off)
	}
	if valueSum(dst[start:]) != e.sum {
		return dst[:start], s.corrupt(key, e, "value checksum mismatch")
	}
	return dst, nil
}

// appendAt appends the n bytes at off in g to dst: copied straight out of
// g's mapping where they are in the file, else read with readAt.
func (s *Store) appendAt(g *segment, dst []byte, off, n int64) ([]byte, error) {
	end := off + n
	if end <= g.written.Load() {
		if m := g.mapping(s.opts.SegmentSize); end <= int64(len(m)) {
			return vfs.AppendMapped(dst, m[off:end])
		}
	}
	start := len(dst)
	dst = slices.Grow(dst, int(n))[:start+int(n)]
	if err := s.readAt(g, dst[start:], off); err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// readAt reads len(p) bytes at off in g: from the file, and from the write
// buffer for bytes not written yet.
func (s *Store) readAt(g *segment, p []byte, off int64) error {
	if off+int64(len(p)) <= g.written.Load() {
		_, err := g.file.ReadAt(p, off)
		return err
	}
	s.log.Lock()
	defer s.log.Unlock()
	a := &s.log.app
	if a.g != g || off+int64(len(p)) <= a.off {
		_, err := g.file.ReadAt(p, off) // written since
		return err
	}
	n := 0
	if off < a.off {
		var err error
		if n, err = g.file.ReadAt(p[:a.off-off], off); err != nil {
			return err
		}
	}
	if copy(p[n:], a.buf[off+int64(n)-a.off:]) < len(p)-n {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// decode appends the decompressed value of key's record to dst.
func (s *Store) decode(key string, e *entry, dst, stored []byte) ([]byte, error) {
	out, err := decompress(dst, stored, e.raw)
	if err != nil {
		return dst, fmt.Errorf("disk: reading %q from segment %d at %d: %w", key, e.seg.id, e.off, err)
	}
	return out, nil
}

func (s *Store) corrupt(key string, e *entry, why string) error {
	return fmt.Errorf("disk: reading %q from segment %d at %d: %s: %w", key, e.seg.id, e.off, why, tier.ErrCorrupt)
}

// bufPool holds read and compression buffers; a buffer over maxPooled is
// left to the garbage collector rather than kept.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 4 << 20

// getBuf returns a pooled buffer of length n.
func getBuf(n int) *[]byte {
	p := bufPool.Get().(*[]byte)
	*p = slices.Grow((*p)[:0], n)[:n]
	return p
}

func putBuf(p *[]byte) {
	if cap(*p) <= maxPooled {
		bufPool.Put(p)
	}
}

// ReleaseMapped drops the pages of the segments' read mappings from the
// process: the bytes stay on disk and in the page cache, and a read faults
// them in again. Reads map segments and leave what they touched resident;
// a caller that reads much of the store once (a snapshot) calls it as it
// goes, so that the process's resident memory does not grow by what it
// read. Safe for concurrent use with every other method.
func (s *Store) ReleaseMapped() {
	gs := s.segs.all()
	defer releaseAll(gs)
	for _, g := range gs {
		g.releasePages()
	}
}
