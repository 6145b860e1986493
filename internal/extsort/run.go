package extsort

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/tiermem/tiermem/internal/tempfile"
)

// A run file is a sequence of records in sorted order, each written as
//
//	key     8 bytes, little-endian
//	length  uvarint
//	bytes   length bytes
//
// It lives only for the duration of one sort, on the machine that wrote it.

// runWriter writes one run file.
type runWriter struct {
	f    *os.File
	w    *bufio.Writer
	head [8 + binary.MaxVarintLen64]byte
}

func newRunWriter(dir string, bufSize int) (*runWriter, error) {
	f, err := tempfile.Create(dir, "extsort-run-*")
	if err != nil {
		return nil, fmt.Errorf("extsort: creating run: %w", err)
	}
	return &runWriter{f: f, w: bufio.NewWriterSize(f, bufSize)}, nil
}

// write appends one record; errors are kept by the bufio.Writer and reported
// by finish.
func (w *runWriter) write(key uint64, rec []byte) {
	binary.LittleEndian.PutUint64(w.head[:8], key)
	n := 8 + binary.PutUvarint(w.head[8:], uint64(len(rec)))
	w.w.Write(w.head[:n])
	w.w.Write(rec)
}

// finish flushes and closes the run and returns its path.
func (w *runWriter) finish() (string, error) {
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tempfile.Remove(w.f.Name())
		return "", fmt.Errorf("extsort: writing run: %w", err)
	}
	return w.f.Name(), nil
}

// abort closes and removes the run.
func (w *runWriter) abort() {
	w.f.Close()
	tempfile.Remove(w.f.Name())
}

// writeRun writes the sorted buffer b to a new run file in dir.
func writeRun(dir string, b *buffer, bufSize int) (string, error) {
	w, err := newRunWriter(dir, bufSize)
	if err != nil {
		return "", err
	}
	for _, r := range b.refs {
		w.write(r.key, b.record(r))
	}
	return w.finish()
}

// runReader reads a run file back, one record at a time. It never trusts a
// record's length beyond the bytes left in the file, so a corrupt length
// costs no more memory than the run holds.
type runReader struct {
	f    *os.File
	r    *bufio.Reader
	left int64 // bytes of the file not yet read by next
	k    uint64
	rec  []byte // the current record; reused
	idx  int    // position of the run in insertion order, for stability
	head [8]byte
}

func openRun(path string, idx, bufSize int) (*runReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("extsort: opening run: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("extsort: opening run: %w", err)
	}
	return &runReader{f: f, r: bufio.NewReaderSize(f, bufSize), left: st.Size(), idx: idx}, nil
}

// next reads the next record; it returns false at the end of the run.
func (r *runReader) next() (bool, error) {
	if _, err := io.ReadFull(r.r, r.head[:]); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, runError(err)
	}
	r.k = binary.LittleEndian.Uint64(r.head[:])
	r.left -= int64(len(r.head))
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return false, runError(err)
	}
	if n > maxArena || int64(n) > r.left {
		return false, fmt.Errorf("%w: record of %d bytes, %d bytes left in the run", ErrCorruptRun, n, max(r.left, 0))
	}
	r.left -= int64(n)
	if uint64(cap(r.rec)) < n {
		r.rec = make([]byte, n)
	}
	r.rec = r.rec[:n]
	if _, err := io.ReadFull(r.r, r.rec); err != nil {
		return false, runError(err)
	}
	return true, nil
}

// ReadByte reads one byte of a record's length and counts it in r.left.
func (r *runReader) ReadByte() (byte, error) {
	r.left--
	return r.r.ReadByte()
}

// runError keeps errors of the file system and turns everything else (a
// short read, a varint overflow) into ErrCorruptRun.
func runError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("extsort: reading run: %w", err)
	}
	return fmt.Errorf("%w: %v", ErrCorruptRun, err)
}

func (r *runReader) key() uint64    { return r.k }
func (r *runReader) record() []byte { return r.rec }
func (r *runReader) close() error   { return r.f.Close() }
