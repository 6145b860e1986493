package trace

import (
	"encoding/binary"
	"fmt"
	"io"
	"iter"

	"github.com/ulikunitz/xz/lzma"
)

// The framing of an xz file (xz-file-format 1.0.4) that the dictionary
// check walks: streams of a 12-byte header, blocks and an index, a 12-byte
// footer, and zero padding between streams. A block is a header whose first
// byte s gives its size as (s+1)*4 bytes (0 is the index instead), LZMA2
// chunks up to a 0 byte, zero padding to 4 bytes and the check.
const (
	xzStreamHeaderLen = 12
	xzFooterLen       = 12
	xzCRC32Len        = 4
	xzFilterCountMask = 0x03 // block flags: number of filters - 1
	xzCompressedSize  = 0x40 // block flags: a compressed size follows
	xzUncompressedLen = 0x80 // block flags: an uncompressed size follows
	xzLZMA2           = 0x21 // the filter ID of LZMA2, whose one property byte is the dictionary
)

// xzCheckLen is the size of a block's check by the check ID, the low 4 bits
// of the stream flags' second byte.
var xzCheckLen = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

// checkXzDict refuses an xz stream whose first block, at the start of head,
// declares an LZMA2 dictionary over maxWindow, so that Open names the file.
// The blocks after it are checked as they are read (xzGuard).
func checkXzDict(head []byte) error {
	if len(head) <= xzStreamHeaderLen || head[xzStreamHeaderLen] == 0 {
		return nil
	}
	block := head[xzStreamHeaderLen:]
	if size := (int(block[0]) + 1) * 4; len(block) >= size {
		return blockDict(block[:size])
	}
	return nil // cut short: the decoder fails on it before allocating
}

// blockDict returns ErrWindow if the xz block header h (whole, with its
// CRC32) declares an LZMA2 dictionary over maxWindow. A malformed header is
// left to the decoder, which fails on it before allocating.
func blockDict(h []byte) error {
	flags := h[1]
	props := h[2 : len(h)-xzCRC32Len]
	for _, present := range []bool{flags&xzCompressedSize != 0, flags&xzUncompressedLen != 0} {
		if present {
			props = skipUvarint(props)
		}
	}
	for range int(flags&xzFilterCountMask) + 1 {
		id, n := binary.Uvarint(props)
		if n <= 0 {
			return nil
		}
		props = props[n:]
		plen, n := binary.Uvarint(props)
		if n <= 0 || uint64(len(props)-n) < plen {
			return nil
		}
		p := props[n : n+int(plen)]
		props = props[n+int(plen):]
		if id != xzLZMA2 || len(p) != 1 {
			continue
		}
		if dict, err := lzma.DecodeDictCap(p[0]); err == nil && dict > maxWindow {
			return fmt.Errorf("%w: %d bytes", ErrWindow, dict)
		}
	}
	return nil
}

// skipUvarint returns b after the varint it starts with, or nil when b holds
// no whole varint.
func skipUvarint(b []byte) []byte {
	_, n := binary.Uvarint(b)
	if n <= 0 {
		return nil
	}
	return b[n:]
}

// xzGuard passes an xz file through to the decoder, walking its framing as
// the bytes go by, and fails the read that holds a block header declaring a
// dictionary over maxWindow: ulikunitz/xz allocates the whole dictionary
// when a block starts, and offers no bound. The decoder reads a header only
// after the guard has passed it, so it never starts such a block. Framing
// the guard does not understand stops its checks and is left to the decoder.
type xzGuard struct {
	r       io.Reader
	pending []byte                  // the bytes of the current read the walk has not consumed
	resume  func() (struct{}, bool) // runs the walk over pending
	stop    func()                  // ends the walk
	err     error                   // what the walk found
}

// newXzGuard returns a guard of r; call its stop when done.
func newXzGuard(r io.Reader) *xzGuard {
	g := &xzGuard{r: r}
	g.resume, g.stop = iter.Pull(iter.Seq[struct{}](g.walk))
	return g
}

func (g *xzGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	g.pending = p[:n]
	g.resume() // returns once the walk has consumed pending, or has ended
	g.pending = nil
	if g.err != nil {
		return 0, g.err
	}
	return n, err
}

// walk consumes the file's bytes, waiting (yield) for each read, until it
// finds a dictionary over the bound, meets framing it does not know, or the
// reads end.
func (g *xzGuard) walk(yield func(struct{}) bool) {
	w := xzWalker{g: g, yield: yield}
	for {
		b, ok := w.byte()
		switch {
		case !ok:
			return
		case b == 0: // stream padding, between streams
		case !w.stream(b):
			return
		}
	}
}

// xzWalker reads the guard's bytes in order for walk.
type xzWalker struct {
	g     *xzGuard
	yield func(struct{}) bool
}

// fill waits for bytes; false when there are no more.
func (w *xzWalker) fill() bool {
	for len(w.g.pending) == 0 {
		if !w.yield(struct{}{}) {
			return false
		}
	}
	return true
}

func (w *xzWalker) byte() (byte, bool) {
	if !w.fill() {
		return 0, false
	}
	b := w.g.pending[0]
	w.g.pending = w.g.pending[1:]
	return b, true
}

// take returns the next n bytes, copied.
func (w *xzWalker) take(n int) ([]byte, bool) {
	out := make([]byte, 0, n)
	for len(out) < n {
		if !w.fill() {
			return nil, false
		}
		k := min(n-len(out), len(w.g.pending))
		out = append(out, w.g.pending[:k]...)
		w.g.pending = w.g.pending[k:]
	}
	return out, true
}

// skip passes over the next n bytes.
func (w *xzWalker) skip(n int64) bool {
	for n > 0 {
		if !w.fill() {
			return false
		}
		k := min(n, int64(len(w.g.pending)))
		w.g.pending = w.g.pending[k:]
		n -= k
	}
	return true
}

// uvarint reads a varint of the index; n counts its bytes.
func (w *xzWalker) uvarint(n *int64) (uint64, bool) {
	var x uint64
	for shift := uint(0); shift < 63; shift += 7 {
		b, ok := w.byte()
		if !ok {
			return 0, false
		}
		*n++
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x, true
		}
	}
	return 0, false
}

// stream walks one stream whose first byte, b, is read; false to stop
// walking.
func (w *xzWalker) stream(b byte) bool {
	h, ok := w.take(xzStreamHeaderLen - 1)
	if !ok || b != 0xfd {
		return false
	}
	check := xzCheckLen[h[6]&0x0f]
	for {
		size, ok := w.byte()
		if !ok {
			return false
		}
		if size == 0 {
			return w.index()
		}
		if !w.block(size, check) {
			return false
		}
	}
}

// block walks a block whose header's first byte, size, is read.
func (w *xzWalker) block(size byte, check int) bool {
	rest, ok := w.take((int(size)+1)*4 - 1)
	if !ok {
		return false
	}
	if err := blockDict(append([]byte{size}, rest...)); err != nil {
		w.g.err = err
		return false
	}
	n := int64(len(rest)) + 1 // the block's bytes so far, for its padding
	for {
		c, ok := w.byte()
		if !ok {
			return false
		}
		n++
		var data int64
		switch {
		case c == 0: // the end of the LZMA2 data
			return w.skip((4-n%4)%4 + int64(check))
		case c == 1 || c == 2: // uncompressed: a 2-byte size - 1
			s, ok := w.take(2)
			if !ok {
				return false
			}
			data = int64(s[0])<<8 | int64(s[1]) + 1
			n += 2
		case c >= 0x80: // LZMA: sizes - 1 of the unpacked and the packed data, then properties at c >= 0xc0
			s, ok := w.take(4)
			if !ok {
				return false
			}
			data = int64(s[2])<<8 | int64(s[3]) + 1
			n += 4
			if c >= 0xc0 {
				data++
			}
		default:
			return false
		}
		if !w.skip(data) {
			return false
		}
		n += data
	}
}

// index walks the index, its indicator read, and the footer after it.
func (w *xzWalker) index() bool {
	n := int64(1)
	records, ok := w.uvarint(&n)
	for i := uint64(0); ok && i < 2*records; i++ {
		_, ok = w.uvarint(&n)
	}
	return ok && w.skip((4-n%4)%4+xzCRC32Len+xzFooterLen)
}
