package trace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// File is a trace file being read: a Decoder over the file, decompressed when the
// file starts with the magic bytes of zstd, gzip or xz. Close it when done.
type File struct {
	*Decoder
	f       *os.File
	size    int64
	counter *countingReader
	closer  func()
}

// Open opens path and reads it as format f.
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
	r, closer, err := decompress(bufio.NewReaderSize(counter, 1<<16))
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

var (
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicGzip = []byte{0x1f, 0x8b}
	magicXz   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// decompress returns a reader of r's decompressed bytes, recognising the
// compression by its magic bytes; other input is returned unchanged.
func decompress(r *bufio.Reader) (io.Reader, func(), error) {
	head, _ := r.Peek(len(magicXz))
	switch {
	case bytes.HasPrefix(head, magicZstd):
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	case bytes.HasPrefix(head, magicGzip):
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() { z.Close() }, nil
	case bytes.HasPrefix(head, magicXz):
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() {}, nil
	}
	return r, func() {}, nil
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
