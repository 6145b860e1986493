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
// A named run is closed once written and opened again to be read; its
// name is removed by Close (and by tempfile.RemoveAll when a signal stops
// the command), so a process killed while it sorts leaves it behind, for a
// caller that sweeps Dir to remove. An unlinked run (Options.Unlink) has no
// name from the moment it is made: it is written and read through its
// descriptor, held open until Close, and a killed process leaves nothing.

// run is a run file the Sorter holds.
type run struct {
	name string   // a named run's path; "" for an unlinked one
	f    *os.File // an unlinked run's descriptor; nil for a named one
}

// free deletes the run: removes its name, or closes its descriptor.
func (r run) free() error {
	if r.f != nil {
		return r.f.Close()
	}
	if err := tempfile.Remove(r.name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// runWriter writes one run file.
type runWriter struct {
	f        *os.File
	w        *bufio.Writer
	unlinked bool // the file has no name
	head     [8 + binary.MaxVarintLen64]byte
}

func newRunWriter(dir string, bufSize int, unlink bool) (*runWriter, error) {
	if unlink {
		if f, err := openUnnamed(dir); err == nil { // never has a name, even for a moment
			return &runWriter{f: f, w: bufio.NewWriterSize(f, bufSize), unlinked: true}, nil
		}
	}
	f, err := tempfile.Create(dir, "extsort-run-*") // recorded while it has a name
	if err != nil {
		return nil, fmt.Errorf("extsort: creating run: %w", err)
	}
	if unlink {
		if err := tempfile.Remove(f.Name()); err != nil {
			f.Close()
			return nil, fmt.Errorf("extsort: unlinking run: %w", err)
		}
	}
	return &runWriter{f: f, w: bufio.NewWriterSize(f, bufSize), unlinked: unlink}, nil
}

// write appends one record; errors are kept by the bufio.Writer and reported
// by finish.
func (w *runWriter) write(key uint64, rec []byte) {
	binary.LittleEndian.PutUint64(w.head[:8], key)
	n := 8 + binary.PutUvarint(w.head[8:], uint64(len(rec)))
	w.w.Write(w.head[:n])
	w.w.Write(rec)
}

// finish flushes the run and returns it: a named run closed, an unlinked
// one open. On error the run is deleted.
func (w *runWriter) finish() (run, error) {
	err := w.w.Flush()
	if err != nil {
		w.abort()
		return run{}, fmt.Errorf("extsort: writing run: %w", err)
	}
	if w.unlinked {
		return run{f: w.f}, nil
	}
	if err := w.f.Close(); err != nil {
		tempfile.Remove(w.f.Name())
		return run{}, fmt.Errorf("extsort: writing run: %w", err)
	}
	return run{name: w.f.Name()}, nil
}

// abort closes and deletes the run.
func (w *runWriter) abort() {
	w.f.Close()
	if !w.unlinked {
		tempfile.Remove(w.f.Name())
	}
}

// writeRun writes the sorted buffer b to a new run file in dir.
func writeRun(dir string, b *buffer, bufSize int, unlink bool) (run, error) {
	w, err := newRunWriter(dir, bufSize, unlink)
	if err != nil {
		return run{}, err
	}
	for _, r := range b.refs {
		w.write(r.key, b.record(r))
	}
	return w.finish()
}

// runReader reads a run file back, one record at a time, from its start.
// It never trusts a record's length beyond the bytes left in the file, so a
// corrupt length costs no more memory than the run holds.
type runReader struct {
	f    *os.File // a named run, opened for reading; nil for an unlinked one, the Sorter's
	r    *bufio.Reader
	left int64 // bytes of the file not yet read by next
	k    uint64
	rec  []byte // the current record; reused
	idx  int    // position of the run in insertion order, for stability
	head [8]byte
}

// openRun opens ru for reading from its start: a named run by its name, an
// unlinked one through ReadAt on its descriptor (readers one after the
// other do not disturb each other's offset).
func openRun(ru run, idx, bufSize int) (*runReader, error) {
	f, own := ru.f, ru.f == nil
	if own {
		var err error
		if f, err = os.Open(ru.name); err != nil {
			return nil, fmt.Errorf("extsort: opening run: %w", err)
		}
	}
	st, err := f.Stat()
	if err != nil {
		if own {
			f.Close()
		}
		return nil, fmt.Errorf("extsort: opening run: %w", err)
	}
	r := &runReader{left: st.Size(), idx: idx}
	if own {
		r.f = f
		r.r = bufio.NewReaderSize(f, bufSize)
	} else {
		r.r = bufio.NewReaderSize(io.NewSectionReader(f, 0, st.Size()), bufSize)
	}
	return r, nil
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

// close closes a named run's file; an unlinked run's is the Sorter's. A
// second close does nothing.
func (r *runReader) close() error {
	if r.f == nil {
		return nil
	}
	f := r.f
	r.f = nil
	return f.Close()
}
