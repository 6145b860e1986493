package bundle

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/cespare/xxhash/v2"
)

// writeBuffer is the size of a sectionWriter's buffer.
const writeBuffer = 1 << 20

// sectionWriter appends one section to a file at a base offset, keeps its
// checksum, and can read back what it wrote (flushed or still buffered), for
// the dedup's byte comparison. The first error sticks and is returned by flush.
type sectionWriter struct {
	f       *os.File
	base    int64 // file offset of the section's first byte
	buf     []byte
	flushed int64 // section bytes already in the file
	sum     *xxhash.Digest
	err     error
}

func newSectionWriter(f *os.File, base int64) *sectionWriter {
	return &sectionWriter{f: f, base: base, buf: make([]byte, 0, writeBuffer), sum: xxhash.New()}
}

// offset returns the section offset of the next byte written.
func (w *sectionWriter) offset() uint64 { return uint64(w.flushed) + uint64(len(w.buf)) }

// write appends p.
func (w *sectionWriter) write(p []byte) {
	if len(w.buf)+len(p) > cap(w.buf) {
		w.flush()
		if len(p) > cap(w.buf) {
			w.writeOut(p)
			return
		}
	}
	w.buf = append(w.buf, p...)
}

// zeros is the padding pad writes.
var zeros [maxAlign]byte

// pad appends zeros up to a multiple of align.
func (w *sectionWriter) pad(align uint64) {
	off := w.offset()
	w.write(zeros[:alignUp(off, align)-off])
}

// writeOut writes p to the file at the current offset.
func (w *sectionWriter) writeOut(p []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.f.WriteAt(p, w.base+w.flushed); err != nil {
		w.err = fmt.Errorf("bundle: writing %s: %w", w.f.Name(), err)
		return
	}
	w.sum.Write(p)
	w.flushed += int64(len(p))
}

// flush writes the buffer out and returns the first error so far.
func (w *sectionWriter) flush() error {
	if len(w.buf) > 0 {
		w.writeOut(w.buf)
		w.buf = w.buf[:0]
	}
	return w.err
}

// readAt fills p with the section's bytes at off, from the file or the buffer.
func (w *sectionWriter) readAt(p []byte, off uint64) error {
	for len(p) > 0 {
		if off >= uint64(w.flushed) {
			i := off - uint64(w.flushed)
			if i+uint64(len(p)) > uint64(len(w.buf)) {
				return io.ErrUnexpectedEOF
			}
			copy(p, w.buf[i:])
			return nil
		}
		n := min(uint64(len(p)), uint64(w.flushed)-off)
		if _, err := w.f.ReadAt(p[:n], w.base+int64(off)); err != nil {
			return fmt.Errorf("bundle: reading back %s: %w", w.f.Name(), err)
		}
		p, off = p[n:], off+n
	}
	return nil
}

// equalAt reports whether the section holds the bytes of v at off. It reads
// in chunks, so v may be a spooled value of any size.
func (w *sectionWriter) equalAt(off uint64, v value, scratch []byte) (bool, error) {
	for done := int64(0); done < v.size; {
		n := min(int64(len(scratch)/2), v.size-done)
		stored := scratch[:n]
		if err := w.readAt(stored, off+uint64(done)); err != nil {
			return false, err
		}
		want, err := v.chunk(done, scratch[n:2*n])
		if err != nil {
			return false, err
		}
		if !bytes.Equal(stored, want) {
			return false, nil
		}
		done += n
	}
	return true, nil
}
