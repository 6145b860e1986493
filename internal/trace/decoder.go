package trace

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Request is one access of a trace.
type Request struct {
	Key  uint64 // the object accessed
	Size uint32 // its size in bytes where the format records one (oracle), else 1
}

// Decoder reads the Requests of one trace. The zero value is not usable; make one
// with NewDecoder. A Decoder is not safe for concurrent use.
type Decoder struct {
	format Format
	r      *bufio.Reader
	line   int   // lines read so far, the last perhaps in part (text formats)
	offset int64 // bytes read so far (binary formats)
	// next and left hold the rest of an ARC run being expanded.
	next uint64
	left uint64
	buf  [24]byte
}

// NewDecoder returns a Decoder that reads format f from r, which must already be
// decompressed (Open does that for files).
func NewDecoder(r io.Reader, f Format) *Decoder {
	return &Decoder{format: f, r: bufio.NewReaderSize(r, 1<<16)}
}

// Next returns the next request. At the end of the trace it returns io.EOF; on
// malformed input (a truncated compressed stream included) an error wrapping
// ErrSyntax that names the line or byte offset. Any other error of the
// underlying reader is returned wrapped, with the line or byte offset.
func (d *Decoder) Next() (Request, error) {
	switch d.format {
	case ARC:
		return d.nextARC()
	case LIRS:
		return d.nextLIRS()
	case Scarab, Corda:
		return d.nextKey()
	case Oracle:
		return d.nextOracle()
	}
	return Request{}, fmt.Errorf("%w %v", ErrFormat, d.format)
}

// readLine returns the next line without its end, or io.EOF after the last one.
// A line counts from its first byte, so an error met within it names it.
func (d *Decoder) readLine() ([]byte, error) {
	line, err := d.r.ReadSlice('\n')
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	d.line++
	switch {
	case err == bufio.ErrBufferFull:
		return nil, d.syntax("line longer than %d bytes", d.r.Size())
	case err != nil && err != io.EOF:
		return nil, d.readError(err)
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// readError wraps an error of the underlying reader with the place it was met.
// Input that ends too soon (a truncated compressed stream) is also ErrSyntax.
func (d *Decoder) readError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s: input ends too soon: %w", ErrSyntax, d.where(), err)
	}
	return fmt.Errorf("%s: %w", d.where(), err)
}

func (d *Decoder) syntax(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrSyntax, d.where(), fmt.Sprintf(format, args...))
}

// where names the place the decoder has reached: the line of a text format,
// the byte offset of a binary one.
func (d *Decoder) where() string {
	if d.format == Scarab || d.format == Corda || d.format == Oracle {
		return fmt.Sprintf("offset %d", d.offset)
	}
	return fmt.Sprintf("line %d", d.line)
}

func (d *Decoder) nextARC() (Request, error) {
	for d.left == 0 {
		if err := d.readRun(); err != nil {
			return Request{}, err
		}
	}
	d.left--
	d.next++
	return Request{Key: d.next - 1, Size: 1}, nil
}

// readRun reads the next ARC line into next and left. A line of count 0 sets
// left to 0; the caller reads on.
func (d *Decoder) readRun() error {
	line, err := d.readLine()
	if err != nil {
		return err
	}
	fields := bytes.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	if len(fields) < 2 {
		return d.syntax("want \"start count ...\", got %q", line)
	}
	if bytes.HasPrefix(fields[1], []byte("-")) {
		return d.syntax("count %s is negative", fields[1])
	}
	start, err := parseUint(fields[0])
	if err != nil {
		return d.syntax("start: %v", err)
	}
	count, err := parseUint(fields[1])
	if err != nil {
		return d.syntax("count: %v", err)
	}
	if count > 0 && start > math.MaxUint64-(count-1) {
		return d.syntax("start %d + count %d runs past the largest key", start, count)
	}
	d.next, d.left = start, count
	return nil
}

// skip reads past the next requests without producing their keys and returns
// how many it passed: the rest of the current ARC run, or the next ARC line
// whole, or one request of the other formats. Counting a trace this way takes
// time in its lines, not in the requests they stand for.
func (d *Decoder) skip() (uint64, error) {
	if d.format != ARC {
		_, err := d.Next()
		return 1, err
	}
	for d.left == 0 {
		if err := d.readRun(); err != nil {
			return 0, err
		}
	}
	n := d.left
	d.next += n // wraps to 0 after the largest key, which the run may end on
	d.left = 0
	return n, nil
}

func (d *Decoder) nextLIRS() (Request, error) {
	for {
		line, err := d.readLine()
		if err != nil {
			return Request{}, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || string(line) == "*" {
			continue
		}
		key, err := parseUint(line)
		if err != nil {
			return Request{}, d.syntax("key: %v", err)
		}
		return Request{Key: key, Size: 1}, nil
	}
}

func (d *Decoder) nextKey() (Request, error) {
	if err := d.readRecord(d.buf[:8]); err != nil {
		return Request{}, err
	}
	return Request{Key: binary.BigEndian.Uint64(d.buf[:8]), Size: 1}, nil
}

func (d *Decoder) nextOracle() (Request, error) {
	if err := d.readRecord(d.buf[:24]); err != nil {
		return Request{}, err
	}
	return Request{Key: binary.LittleEndian.Uint64(d.buf[4:12]), Size: binary.LittleEndian.Uint32(d.buf[12:16])}, nil
}

// readRecord fills p with the next fixed-size record.
func (d *Decoder) readRecord(p []byte) error {
	n, err := io.ReadFull(d.r, p)
	switch {
	case err == io.EOF:
		return io.EOF
	case err == io.ErrUnexpectedEOF && n > 0:
		return d.syntax("truncated record: %d of %d bytes", n, len(p))
	case err != nil:
		return d.readError(err)
	}
	d.offset += int64(n)
	return nil
}

func parseUint(b []byte) (uint64, error) {
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an unsigned integer", b)
	}
	return v, nil
}
