package disk

import (
	"encoding/binary"
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
	recs []scanned
	end  int64 // end of the last record before the first byte that starts none; the size if every byte is in a record
	next int64 // where the first complete record with a verifying header after end starts; -1 if none does

	// damaged says that the bytes at end hold a record that was damaged
	// rather than cut short: a complete head that fails its checksum, or
	// one that a single flipped bit would make verify. A crash never
	// leaves that.
	damaged bool
}

// clean reports whether every byte of the segment after its header is in
// a record.
func (r *scanResult) clean(size int64) bool { return r.end >= size }

// torn reports whether the bytes from end on are what a crash leaves
// behind an append that it cut short: no verifying record after them, and
// no damaged record at their start.
func (r *scanResult) torn() bool { return r.next < 0 && !r.damaged }

// scanSegment reads the records of a segment of size bytes from r, from
// just after the segment header, up to the first byte where no complete
// record with a verifying header starts; it says what lies from there on.
// It never reads values. Only I/O errors are returned: garbage is what it
// reports. expect is how many records the caller thinks there are (0 if it
// cannot tell): the room made for them at once.
func scanSegment(r io.ReaderAt, size int64, expect int64) (scanResult, error) {
	w := window{r: r, size: size}
	res := scanResult{end: min(size, segmentHeaderSize), next: -1}
	recs, end, err := w.records(res.end, make([]scanned, 0, expect))
	res.recs, res.end = recs, end
	if err != nil || end >= size {
		return res, err
	}
	if res.next, err = w.resync(end + 1); err != nil {
		return res, err
	}
	res.damaged, err = w.damagedAt(end)
	return res, err
}

// corruptAt returns the CorruptError for a scan of file in dir that is
// not clean.
func (r *scanResult) corruptAt(dir, file string) error {
	why := "the bytes hold no record, and the segment is not the newest"
	switch {
	case r.next >= 0:
		why = fmt.Sprintf("the bytes hold no record with a verifying header, and one follows at byte %d", r.next)
	case r.damaged:
		why = "a record header or key does not verify"
	}
	return &CorruptError{Dir: dir, File: file, Off: r.end, Reason: why}
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

// records appends to recs the records that start at off, back to back,
// and returns them with the end of the last one: the first offset where
// no complete record with a verifying header starts, or the file's size.
func (w *window) records(off int64, recs []scanned) ([]scanned, int64, error) {
	for off < w.size {
		rec, ok, err := w.record(off)
		if !ok || err != nil {
			return recs, off, err
		}
		recs = append(recs, rec)
		off = rec.end()
	}
	return recs, off, nil
}

// damagedAt reports whether the bytes at off, where no record with a
// verifying header starts, hold a damaged record rather than what a crash
// leaves behind an append it cut short. A cut leaves fewer bytes than a
// header, a header whose head (header, key, meta) runs past the end of
// the file, a complete head that verifies with a value that does, or
// zeros (pages the crash never wrote). Anything else is damage: a header
// that does not decode over bytes that are not all zero, a complete head
// that fails its checksum, or a head that runs past the end only because
// one bit of a length flipped.
func (w *window) damagedAt(off int64) (bool, error) {
	b, err := w.bytes(off, recordHeaderSize)
	if b == nil || err != nil {
		return false, err
	}
	hdr := append([]byte(nil), b...) // b is valid only until the next read
	h, herr := decodeHeader(hdr)
	if herr != nil {
		zero, err := w.zeroFrom(off)
		return !zero, err
	}
	head, err := w.bytes(off, h.headLen())
	if head != nil || err != nil {
		return head != nil && !headOK(head), err
	}
	if _, fixed, err := w.fixHead(off); fixed || err != nil {
		return fixed, err
	}
	return w.fitsEnd(off, hdr)
}

// fitsEnd reports whether the record at off, with header hdr, verifies
// once one of its lengths (key, meta or stored value), whatever its bits
// became, is set so that the record ends exactly at the end of the file:
// damage to the last record's lengths, not a cut.
func (w *window) fitsEnd(off int64, hdr []byte) (bool, error) {
	rest := uint64(w.size - off - recordHeaderSize)
	keyLen := uint64(binary.LittleEndian.Uint32(hdr[8:]))
	metaLen := uint64(binary.LittleEndian.Uint32(hdr[12:]))
	stored := binary.LittleEndian.Uint64(hdr[24:])
	for _, c := range []struct {
		at    int
		other uint64 // the other two lengths
		width int
	}{{8, metaLen + stored, 4}, {12, keyLen + stored, 4}, {24, keyLen + metaLen, 8}} {
		if c.other >= rest {
			continue
		}
		cand := append([]byte(nil), hdr...)
		if c.width == 4 {
			binary.LittleEndian.PutUint32(cand[c.at:], uint32(min(rest-c.other, 1<<32-1)))
		} else {
			binary.LittleEndian.PutUint64(cand[c.at:], rest-c.other)
		}
		if _, ok, err := w.tryHead(off, cand); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// zeroFrom reports whether every byte from off to the end of the file is
// zero.
func (w *window) zeroFrom(off int64) (bool, error) {
	for off < w.size {
		n := int(min(w.size-off, windowSize))
		b, err := w.bytes(off, n)
		if b == nil || err != nil {
			return false, err
		}
		for _, c := range b {
			if c != 0 {
				return false, nil
			}
		}
		off += int64(n)
	}
	return true, nil
}

// tornCreation reports whether a segment of size bytes in r, whose header
// does not verify, is one whose creation a crash cut short: nothing past
// its header, or nothing but zeros.
func tornCreation(r io.ReaderAt, size int64) (bool, error) {
	if size <= segmentHeaderSize {
		return true, nil
	}
	w := window{r: r, size: size}
	return w.zeroFrom(0)
}

// maxFixHead bounds the heads whose key and meta bits fixHead tries: 8
// checksums of 4 KiB per byte, about 30 ms at most.
const maxFixHead = 4 << 10

// fixHead looks for the record at off as it was before one bit of its head
// flipped: it returns the record, its head corrected (a copy), if flipping
// one bit of its header, or of a key and meta of at most maxFixHead bytes,
// gives a complete record in the file whose head verifies.
func (w *window) fixHead(off int64) (scanned, bool, error) {
	b, err := w.bytes(off, recordHeaderSize)
	if b == nil || err != nil {
		return scanned{}, false, err
	}
	hdr := append([]byte(nil), b...)
	for bit := range recordHeaderSize * 8 {
		hdr[bit/8] ^= 1 << (bit % 8)
		rec, ok, err := w.tryHead(off, hdr)
		hdr[bit/8] ^= 1 << (bit % 8)
		if ok || err != nil {
			return rec, ok, err
		}
	}
	return w.fixKey(off, hdr)
}

// tryHead returns the record at off with header hdr, a candidate, and the
// key and meta found in the file, if it is complete and its head verifies.
func (w *window) tryHead(off int64, hdr []byte) (scanned, bool, error) {
	h, err := decodeHeader(hdr)
	if err != nil || h.size() > w.size-off {
		return scanned{}, false, nil
	}
	rest, err := w.bytes(off+recordHeaderSize, h.headLen()-recordHeaderSize)
	if rest == nil || err != nil {
		return scanned{}, false, err
	}
	head := append(append(make([]byte, 0, h.headLen()), hdr...), rest...)
	if !headOK(head) {
		return scanned{}, false, nil
	}
	return scanned{off: off, h: h, head: head}, true, nil
}

// fixKey tries, for the record at off with header hdr, each single bit
// flip of its key and meta.
func (w *window) fixKey(off int64, hdr []byte) (scanned, bool, error) {
	h, err := decodeHeader(hdr)
	if err != nil || h.headLen() > maxFixHead || h.size() > w.size-off {
		return scanned{}, false, nil
	}
	b, err := w.bytes(off, h.headLen())
	if b == nil || err != nil {
		return scanned{}, false, err
	}
	head := append([]byte(nil), b...)
	for bit := recordHeaderSize * 8; bit < len(head)*8; bit++ {
		head[bit/8] ^= 1 << (bit % 8)
		if headOK(head) {
			return scanned{off: off, h: h, head: head}, true, nil
		}
		head[bit/8] ^= 1 << (bit % 8)
	}
	return scanned{}, false, nil
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
