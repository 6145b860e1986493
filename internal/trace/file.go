package trace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// File is a trace file being read: a Decoder over the file, decompressed when
// it is zstd, gzip or xz (see Open). Close it when done.
type File struct {
	*Decoder
	f       *os.File
	size    int64
	counter *countingReader
	closer  func()
}

// Open opens path and reads it as format f. A path ending in .zst, .gz or .xz
// is decompressed with that codec, and is an error if the codec rejects its
// header. Any other file is decompressed when it starts with the whole magic
// of zstd, gzip or xz and that codec accepts the header that follows (within
// the first 64 KiB); else it is read as it is: an uncompressed binary trace
// whose first bytes look like a magic is not taken for a compressed one.
// A zstd window or xz dictionary over 64 MiB, which the decoder would
// allocate whole, is ErrWindow: at Open for the first frame or block, else
// from the read that reaches it.
func Open(path string, f Format) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, err
	}
	counter := &countingReader{r: osf}
	r, closer, err := decompress(bufio.NewReaderSize(counter, 1<<16), path)
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("trace: %s: %w", path, err)
	}
	return &File{Decoder: NewDecoder(r, f), f: osf, size: st.Size(), counter: counter, closer: closer}, nil
}

// Size returns the size of the file on disk (compressed), for progress reports.
func (f *File) Size() int64 { return f.size }

// Consumed returns how many bytes of the file on disk have been read so far.
func (f *File) Consumed() int64 { return f.counter.n.Load() }

// Close releases the file and the decompressor.
func (f *File) Close() error {
	f.closer()
	return f.f.Close()
}

// codec is a compression Open recognises.
type codec struct {
	ext   string                  // the file name extension that names it
	magic []byte                  // the bytes its streams start with, whole
	check func(head []byte) error // validates the stream header at the start of head
	open  func(r io.Reader) (io.Reader, func(), error)
}

var codecs = []codec{
	{".zst", []byte{0x28, 0xb5, 0x2f, 0xfd}, checkZstd, openZstd},
	{".gz", []byte{0x1f, 0x8b, 0x08}, checkGzip, openGzip}, // 8 is deflate, gzip's only method
	{".xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, checkXz, openXz},
}

// decompress returns a reader of r's decompressed bytes, choosing the codec
// by the file's name and by the first 64 KiB of r (its buffer), by the rules
// of Open. Uncompressed input is returned unchanged.
func decompress(r *bufio.Reader, name string) (io.Reader, func(), error) {
	head, _ := r.Peek(r.Size()) // a short head is the whole file, or an error the decoder meets next
	for _, c := range codecs {
		if strings.HasSuffix(name, c.ext) {
			if err := c.check(head); err != nil {
				return nil, nil, fmt.Errorf("named %s but not a valid stream: %w", c.ext, err)
			}
			return c.open(r)
		}
	}
	for _, c := range codecs {
		if bytes.HasPrefix(head, c.magic) && c.check(head) == nil && c.decodes(head) {
			return c.open(r)
		}
	}
	return r, func() {}, nil
}

// decodes reports whether head, the start of a file, decompresses with c
// without an error (a stream cut short at head's end is fine): a raw trace
// whose first bytes happen to make a valid header fails here.
func (c codec) decodes(head []byte) bool {
	z, closer, err := c.open(bytes.NewReader(head))
	if err != nil {
		return false
	}
	defer closer()
	_, err = io.Copy(io.Discard, io.LimitReader(z, 4<<20)) // enough to tell; a bomb stops there
	return err == nil || errors.Is(err, io.ErrUnexpectedEOF)
}

// gzipReserved are the bits of a gzip header's flags that RFC 1952 reserves;
// a decompressor must reject a header that sets them.
const gzipReserved = 0xe0

func checkGzip(head []byte) error {
	if len(head) > 3 && head[3]&gzipReserved != 0 {
		return gzip.ErrHeader
	}
	_, err := gzip.NewReader(bytes.NewReader(head))
	return err
}

func openGzip(r io.Reader) (io.Reader, func(), error) {
	z, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	return z, func() { z.Close() }, nil
}

// maxWindow bounds the window (zstd) or dictionary (xz) a compressed trace
// may declare, since the decoder allocates it before it decodes a byte: 64 MiB
// is xz -9's dictionary and more than zstd -19 uses. A larger one is refused.
const maxWindow = 64 << 20

func checkZstd(head []byte) error {
	var h zstd.Header
	if err := h.Decode(head); err != nil {
		return err
	}
	if h.WindowSize > maxWindow {
		return fmt.Errorf("%w: %d bytes", ErrWindow, h.WindowSize)
	}
	return nil
}

// openZstd bounds the window of every frame, not only the first that
// checkZstd sees.
func openZstd(r io.Reader) (io.Reader, func(), error) {
	z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(maxWindow), zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, nil, err
	}
	return zstdReader{z}, z.Close, nil
}

// zstdReader reports a frame whose window is over maxWindow as ErrWindow.
type zstdReader struct{ z *zstd.Decoder }

func (r zstdReader) Read(p []byte) (int, error) {
	n, err := r.z.Read(p)
	if errors.Is(err, zstd.ErrWindowSizeExceeded) {
		err = fmt.Errorf("%w: %w", ErrWindow, err)
	}
	return n, err
}

func checkXz(head []byte) error {
	if _, err := xz.NewReader(bytes.NewReader(head)); err != nil {
		return err
	}
	return checkXzDict(head)
}

// openXz reads r through an xzGuard, which refuses any block declaring a
// dictionary over maxWindow before the decoder allocates it.
func openXz(r io.Reader) (io.Reader, func(), error) {
	g := newXzGuard(r)
	z, err := xz.NewReader(g)
	if err != nil {
		g.stop()
		return nil, nil, err
	}
	return z, g.stop, nil
}

// countingReader counts the bytes read through it; the count may be read from
// another goroutine (a progress bar).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
