package disk

import (
	"errors"
	"fmt"
	"io"
)

// scanned is one record a scan or a hint file found: where it starts in its
// segment, its header, and head = header ‖ key ‖ meta.
type scanned struct {
	off  int64
	h    header
	head []byte
}

func (r *scanned) key() []byte  { return r.head[recordHeaderSize : recordHeaderSize+r.h.keyLen] }
func (r *scanned) meta() []byte { return r.head[recordHeaderSize+r.h.keyLen:] }
func (r *scanned) end() int64   { return r.off + r.h.size() }

// scanResult says what a scan of a segment found besides its records.
type scanResult struct {
	recs         []scanned
	end          int64 // end of the last complete record; the rest is torn or garbage
	skipped      int   // regions of bad headers skipped by resynchronising
	skippedBytes int64 // bytes in those regions
}

// scanSegment reads the records of a segment of size bytes from r, from
// just after the segment header. It never reads values. A header that does
// not verify is skipped by resynchronising on the next offset where a
// complete record with a verifying header starts; a scan stops where none
// does. Only I/O errors are returned: garbage is what it reports.
func scanSegment(r io.ReaderAt, size int64) (scanResult, error) {
	w := window{r: r, size: size}
	res := scanResult{end: min(size, segmentHeaderSize)}
	for off := res.end; off < size; {
		rec, ok, err := w.record(off)
		if err != nil {
			return res, err
		}
		if ok {
			res.recs = append(res.recs, rec)
			off, res.end = rec.end(), rec.end()
			continue
		}
		next, err := w.resync(off + 1)
		if err != nil || next < 0 {
			return res, err
		}
		res.skipped++
		res.skippedBytes += next - off
		off = next
	}
	return res, nil
}

// window reads a file through a buffer, so that a scan of small records
// costs one read per window rather than one per record.
type window struct {
	r    io.ReaderAt
	size int64  // file size
	base int64  // file offset of buf[0]
	buf  []byte // bytes read at base
	mem  []byte // the buffer buf lives in
}

const windowSize = 256 << 10 // holds the longest head (48 B + 64 KiB key + 64 KiB meta) and a few thousand small records

// bytes returns the n bytes at off, or nil if they run past the end of the
// file. The slice is valid until the next call.
func (w *window) bytes(off int64, n int) ([]byte, error) {
	if off < 0 || int64(n) > w.size-off {
		return nil, nil
	}
	if off >= w.base && off+int64(n) <= w.base+int64(len(w.buf)) {
		return w.buf[off-w.base : off-w.base+int64(n)], nil
	}
	if err := w.fill(off, n); err != nil {
		return nil, err
	}
	return w.buf[:n], nil
}

// fill reads the window at off, at least n bytes of it.
func (w *window) fill(off int64, n int) error {
	if cap(w.mem) < max(n, windowSize) {
		w.mem = make([]byte, max(n, windowSize))
	}
	want := int(min(int64(cap(w.mem)), w.size-off))
	got, err := w.r.ReadAt(w.mem[:want], off)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("reading at %d: %w", off, err)
	}
	w.base, w.buf = off, w.mem[:got]
	return nil
}

// record returns the record at off if a complete one with a verifying
// header starts there. Its head is a copy.
func (w *window) record(off int64) (scanned, bool, error) {
	b, err := w.bytes(off, recordHeaderSize)
	if b == nil || err != nil {
		return scanned{}, false, err
	}
	h, herr := decodeHeader(b)
	if herr != nil || h.size() > w.size-off {
		return scanned{}, false, nil
	}
	head, err := w.bytes(off, h.headLen())
	if head == nil || err != nil || !headOK(head) {
		return scanned{}, false, err
	}
	return scanned{off: off, h: h, head: append([]byte(nil), head...)}, true, nil
}

// resync returns the first offset from off on where a complete record with
// a verifying header starts, or -1 if there is none.
func (w *window) resync(off int64) (int64, error) {
	for ; off+recordHeaderSize <= w.size; off++ {
		_, ok, err := w.record(off)
		if ok || err != nil {
			return off, err
		}
	}
	return -1, nil
}

// valueOK reports whether the stored value of rec, in r, matches its
// checksum. It reads the value in pieces, so a huge value needs no memory.
func valueOK(r io.ReaderAt, rec *scanned) (bool, error) {
	d := newDigest()
	buf := make([]byte, min(rec.h.stored, 1<<20))
	for done := uint64(0); done < rec.h.stored; {
		n := min(uint64(len(buf)), rec.h.stored-done)
		if _, err := r.ReadAt(buf[:n], rec.off+int64(len(rec.head))+int64(done)); err != nil {
			return false, err
		}
		d.Write(buf[:n])
		done += n
	}
	return d.Sum64() == rec.h.sum, nil
}
