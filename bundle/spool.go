package bundle

import (
	"fmt"
	"io"
	"os"

	"github.com/cespare/xxhash/v2"
)

// value is the bytes of a value on their way into the data section: in
// memory, or, for a value too large to buffer, in the spool file.
type value struct {
	b     []byte   // the bytes, when in memory
	spool *os.File // the spool, when not
	off   int64    // offset in the spool
	size  int64
}

// chunk returns len(buf) bytes of v from at: a slice of v's own bytes when in
// memory, else buf filled from the spool.
func (v value) chunk(at int64, buf []byte) ([]byte, error) {
	if v.spool == nil {
		return v.b[at : at+int64(len(buf))], nil
	}
	if _, err := v.spool.ReadAt(buf, v.off+at); err != nil {
		return nil, fmt.Errorf("bundle: reading spooled value: %w", err)
	}
	return buf, nil
}

// writeTo appends v to w, through scratch when it is spooled.
func (v value) writeTo(w *sectionWriter, scratch []byte) error {
	if v.spool == nil {
		w.write(v.b)
		return nil
	}
	for done := int64(0); done < v.size; {
		b, err := v.chunk(done, scratch[:min(int64(len(scratch)), v.size-done)])
		if err != nil {
			return err
		}
		w.write(b)
		done += int64(len(b))
	}
	return nil
}

// spool holds values too large to go through the sort: they are written here
// as they are added, and the sorted records carry their place instead.
type spool struct {
	f    *os.File
	size int64
	buf  []byte // the copy buffer, reused: io.Copy would allocate one per value
}

// spoolBuffer is the size of a spool's copy buffer.
const spoolBuffer = 256 << 10

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "bundle-spool-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: creating spool: %w", err)
	}
	os.Remove(f.Name()) // used through its descriptor only: a crash or a signal leaves nothing behind
	return &spool{f: f}, nil
}

// add copies size bytes from r to the spool and returns where they are and
// their hash.
func (s *spool) add(r io.Reader, size int64) (off int64, hash uint64, err error) {
	off = s.size
	d := xxhash.New()
	w := io.NewOffsetWriter(s.f, off)
	if s.buf == nil {
		s.buf = make([]byte, spoolBuffer)
	}
	n, err := io.CopyBuffer(io.MultiWriter(w, d), io.LimitReader(r, size), s.buf)
	s.size += n
	if err != nil {
		return 0, 0, fmt.Errorf("bundle: spooling value: %w", err)
	}
	if n < size {
		return 0, 0, fmt.Errorf("%w: %d of %d bytes", ErrShortValue, n, size)
	}
	return off, d.Sum64(), nil
}

// close closes the spool, whose file has no name left.
func (s *spool) close() { s.f.Close() }
