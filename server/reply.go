package server

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem"
)

// replies appends RESP replies to a buffer that the connection writes out
// when it has no whole command left to run. After HELLO 3 it writes RESP3
// nulls and maps; before, RESP2's.
type replies struct {
	b     []byte
	resp3 bool
	// shared are values queued without a copy (bulkShared, bulkReader):
	// each is sent where it lies, after b's bytes up to its at;
	// sharedBytes sums them.
	shared      []sharedValue
	sharedBytes int
	readers     int // the shared values that are readers
	// copied sums the values of readers in shared that hold a copy of
	// their value (tiermem.ValueReader.Copied): memory the replies keep,
	// as they keep b. copiedMax is the largest of them.
	copied, copiedMax int
}

// sharedValue is a value a reply sends from the memory that holds it, or
// in pieces from a reader.
type sharedValue struct {
	at int // where in b it goes
	v  []byte
	r  *tiermem.ValueReader // when v is nil: read in pieces as it is sent, then closed
	// off and n are the part of r's value sent.
	off, n int64
}

// bulkShared writes v as a bulk string without copying it: v must stay
// unchanged until the replies are written (a hot value the Manager shares).
func (w *replies) bulkShared(v []byte) {
	w.bulkHeader(len(v))
	w.shared = append(w.shared, sharedValue{at: len(w.b), v: v})
	w.sharedBytes += len(v)
	w.bulkEnd()
}

// ownedMin is the size from which bulkOwned sends a value where it lies:
// below it, a copy into the buffer costs less than a write of its own.
const ownedMin = 64 << 10

// bulkOwned writes v as a bulk string. The caller gives v up (a copy the
// Manager handed it: the old value of a GETDEL, GETSET or GETEX), so a
// large one is sent where it lies, as bulkShared sends it, instead of
// being copied into the buffer: it is held once, not twice.
func (w *replies) bulkOwned(v []byte) {
	if len(v) < ownedMin {
		w.bulk(v)
		return
	}
	w.bulkShared(v)
}

// bulkReader writes r's value as a bulk string, read in pieces as it is
// sent (through one pooled buffer), so that a large value is never held
// whole; the replies own r and close it once it is sent or dropped.
func (w *replies) bulkReader(r *tiermem.ValueReader) { w.bulkRange(r, 0, r.Size()) }

// bulkRange writes n bytes of r's value from off as a bulk string, as
// bulkReader writes the whole value; off and n lie within it.
func (w *replies) bulkRange(r *tiermem.ValueReader, off, n int64) {
	w.bulkHeader(int(n))
	w.shared = append(w.shared, sharedValue{at: len(w.b), r: r, off: off, n: n})
	w.sharedBytes += int(n)
	w.readers++
	if r.Copied() {
		w.copied += int(r.Size())
		w.copiedMax = max(w.copiedMax, int(r.Size()))
	}
	w.bulkEnd()
}

// bulkValue writes r's value as a bulk string and gives r to the replies:
// a large one as bulkReader does, a smaller one copied into the buffer now
// (a write of its own would cost more), r then closed. A copy that fails
// (a value whose segment was cut short since it was opened) leaves the
// buffer as it was and is returned, as is a value too large for the
// platform's int (r is then closed).
func (w *replies) bulkValue(r *tiermem.ValueReader) error {
	n := r.Size()
	if n > math.MaxInt { // a 32-bit platform
		r.Close()
		return fmt.Errorf("a value of %d bytes is more than this server's platform can send", n)
	}
	if n >= ownedMin {
		w.bulkReader(r)
		return nil
	}
	defer r.Close()
	before := len(w.b)
	w.bulkHeader(int(n))
	at := len(w.b)
	w.b = slices.Grow(w.b, int(n))[:at+int(n)]
	if _, err := r.ReadAt(w.b[at:], 0); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		w.b = w.b[:before]
		return err
	}
	w.bulkEnd()
	return nil
}

// pending returns the bytes the replies hold, shared values included.
func (w *replies) pending() int { return len(w.b) + w.sharedBytes }

// owned returns the memory the replies keep for themselves: their buffer
// and the copies their readers hold, not the values sent where they lie,
// nor the largest copy: a reply of one value is always served (a GET of a
// value from glacier, copied whatever its size), what the limit bounds is
// many values in one reply.
func (w *replies) owned() int { return cap(w.b) + w.copied - w.copiedMax }

// hasReaders reports whether a reply sends a reader's value, which only
// the sender writes (read in pieces as it goes).
func (w *replies) hasReaders() bool { return w.readers > 0 }

// buffers appends the replies' bytes to dst as the slices a writev takes:
// b's bytes with the shared values between them. It must not be called
// while a reply sends a reader's value (hasReaders).
func (w *replies) buffers(dst [][]byte) [][]byte {
	last := 0
	for i := range w.shared {
		s := &w.shared[i]
		dst = append(dst, w.b[last:s.at], s.v)
		last = s.at
	}
	return append(dst, w.b[last:])
}

// detach hands the replies, less their first skip bytes (written
// already; none of them a reader's), to a batch for the sender, which
// then owns their readers, and empties them. A buffer of a few bytes is
// copied into the batch at its size and kept; a larger one goes with the
// batch, and a kept one takes its place. The batch's
// size is the memory it keeps, counted against the output limit: its
// buffer's capacity, the values it sends from where they lie, and its
// own bookkeeping, so that a client sending small commands one by one and
// reading none is bounded by what it costs, not by the bytes of its
// replies alone.
func (w *replies) detach(skip int) *batch {
	bt := &batch{}
	buf := w.b
	small := len(w.b) <= smallBatch
	if small {
		buf = slices.Clone(w.b)
	} else {
		bt.buf = w.b
	}
	last := 0
	for i := range w.shared {
		s := &w.shared[i]
		bt.add(buf[last:s.at], &skip)
		last = s.at
		if s.r == nil {
			bt.add(s.v, &skip)
			continue
		}
		bt.pieces = append(bt.pieces, piece{r: s.r, off: s.off, n: s.n})
	}
	bt.add(buf[last:], &skip)
	bt.size = cap(buf) + w.sharedBytes + batchOverhead + pieceOverhead*cap(bt.pieces)
	if small {
		w.b = w.b[:0]
	} else {
		w.b = getReplyBuffer()
	}
	clear(w.shared)
	w.shared = w.shared[:0]
	w.sharedBytes, w.copied, w.copiedMax, w.readers = 0, 0, 0, 0
	return bt
}

// smallBatch is the largest buffer detach copies into a batch at its
// size, keeping the connection's buffer.
const smallBatch = 4 << 10

// The memory a batch keeps besides its bytes, as counted against the
// output limit: the batch with its place in the queue, and each piece.
const (
	batchOverhead = 96
	pieceOverhead = 48
)

// writePiece is the most a write gets its write deadline for.
const writePiece = 256 << 10

// paced writes to a connection in pieces of at most writePiece bytes,
// each with a deadline d after its start when d is positive: a client
// that takes less than a piece in d is cut, one that reads, however
// slowly, is not. (A deadline cannot be renewed after a partial write
// instead: a TLS connection's writes all fail once one timed out.)
type paced struct {
	c net.Conn
	d time.Duration
	// progress, when set, is told when bytes were written (Unix ns), a
	// piece at a time: what a client's idle time counts from.
	progress *atomic.Int64
}

// piecewise reports whether writes go a piece at a time.
func (p *paced) piecewise() bool { return p.d > 0 || p.progress != nil }

// wrote marks that bytes went.
func (p *paced) wrote() {
	if p.progress != nil {
		p.progress.Store(time.Now().UnixNano())
	}
}

func (p *paced) arm() {
	if p.d > 0 {
		p.c.SetWriteDeadline(time.Now().Add(p.d))
	}
}

// Write writes b whole, a piece at a time.
func (p *paced) Write(b []byte) (int, error) {
	n := 0
	for {
		piece := b[n:]
		if p.piecewise() && len(piece) > writePiece {
			piece = piece[:writePiece]
		}
		p.arm()
		k, err := p.c.Write(piece)
		n += k
		if k > 0 {
			p.wrote()
		}
		if err != nil || n == len(b) {
			return n, err
		}
	}
}

// writeBuffers writes bufs whole with writev, a piece at a time. It
// consumes bufs's copy, not the caller's slice.
func (p *paced) writeBuffers(bufs net.Buffers) error {
	size := 0
	for _, b := range bufs {
		size += len(b)
	}
	if size == 0 {
		return nil
	}
	if !p.piecewise() || size <= writePiece {
		p.arm()
		n, err := bufs.WriteTo(p.c)
		if n > 0 {
			p.wrote()
		}
		return err
	}
	piece := make(net.Buffers, 0, len(bufs))
	for len(bufs) > 0 {
		piece = nextPiece(&bufs, piece[:0])
		p.arm()
		n, err := piece.WriteTo(p.c)
		if n > 0 {
			p.wrote()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// nextPiece moves the first writePiece bytes of *bufs (or all, when they
// are fewer) onto piece, cutting a buffer where the piece ends, and
// returns piece.
func nextPiece(bufs *net.Buffers, piece net.Buffers) net.Buffers {
	size := 0
	for len(*bufs) > 0 && size < writePiece {
		b := (*bufs)[0]
		if room := writePiece - size; len(b) > room {
			(*bufs)[0] = b[room:]
			return append(piece, b[:room])
		}
		piece = append(piece, b)
		size += len(b)
		*bufs = (*bufs)[1:]
	}
	return piece
}

// sendChunk is the piece a reader's value is sent in.
const sendChunk = 256 << 10

var sendBufs = sync.Pool{New: func() any { b := make([]byte, sendChunk); return &b }}

// sendValue writes n bytes of r's value from off to w in pieces. A read
// that fails midway (a segment cut short since the value was opened and
// verified) leaves the bulk string unfinished: the caller closes the
// connection, since no reply can follow it.
func sendValue(w *paced, r *tiermem.ValueReader, off, n int64) error {
	buf := sendBufs.Get().(*[]byte)
	defer sendBufs.Put(buf)
	sent, err := io.CopyBuffer(w, io.NewSectionReader(r, off, n), *buf) // w has no ReadFrom: buf is used
	if err == nil && sent < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// reset empties the replies, dropping the shared values and closing the
// readers not sent.
func (w *replies) reset(keep bool) {
	if keep {
		w.b = w.b[:0]
	} else {
		w.b = nil
	}
	for _, s := range w.shared {
		if s.r != nil {
			s.r.Close()
		}
	}
	clear(w.shared)
	w.shared, w.sharedBytes, w.copied, w.copiedMax, w.readers = w.shared[:0], 0, 0, 0, 0
}

func (w *replies) ok() { w.b = append(w.b, "+OK\r\n"...) }

// status writes a simple string, which must hold no CR or LF.
func (w *replies) status(s string) {
	w.b = append(w.b, '+')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// error writes an error reply; msg starts with its code ("ERR ...",
// "WRONGTYPE ...") and, as Redis does, loses the CRs and LFs at its ends
// and has those within turned into spaces.
func (w *replies) error(msg string) {
	msg = strings.Trim(msg, "\r\n")
	w.b = append(w.b, '-')
	start := len(w.b)
	w.b = append(w.b, msg...)
	for i := start; i < len(w.b); i++ {
		if w.b[i] == '\r' || w.b[i] == '\n' {
			w.b[i] = ' '
		}
	}
	w.b = append(w.b, '\r', '\n')
}

// errorf writes "ERR " and msg.
func (w *replies) errorf(msg string) { w.error("ERR " + msg) }

func (w *replies) int(n int64) {
	w.b = append(w.b, ':')
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '\r', '\n')
}

func (w *replies) bool(v bool) {
	if v {
		w.int(1)
	} else {
		w.int(0)
	}
}

// bulkHeader writes the "$n\r\n" of an n-byte bulk string whose bytes the
// caller appends, followed by CRLF (bulkEnd).
func (w *replies) bulkHeader(n int) {
	w.b = append(w.b, '$')
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '\r', '\n')
}

func (w *replies) bulkEnd() { w.b = append(w.b, '\r', '\n') }

func (w *replies) bulk(v []byte) {
	w.bulkHeader(len(v))
	w.b = append(w.b, v...)
	w.bulkEnd()
}

func (w *replies) bulkString(v string) {
	w.bulkHeader(len(v))
	w.b = append(w.b, v...)
	w.bulkEnd()
}

// null writes a null bulk string.
func (w *replies) null() {
	if w.resp3 {
		w.b = append(w.b, "_\r\n"...)
	} else {
		w.b = append(w.b, "$-1\r\n"...)
	}
}

// nullArray writes a null array.
func (w *replies) nullArray() {
	if w.resp3 {
		w.b = append(w.b, "_\r\n"...)
	} else {
		w.b = append(w.b, "*-1\r\n"...)
	}
}

func (w *replies) array(n int) {
	w.b = append(w.b, '*')
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '\r', '\n')
}

// mapOf writes the header of a map of n pairs: a RESP3 map, or a flat
// array of 2n elements in RESP2.
func (w *replies) mapOf(n int) {
	if !w.resp3 {
		w.array(2 * n)
		return
	}
	w.b = append(w.b, '%')
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '\r', '\n')
}

// set writes the header of a set of n elements (an array in RESP2).
func (w *replies) set(n int) {
	if !w.resp3 {
		w.array(n)
		return
	}
	w.b = append(w.b, '~')
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '\r', '\n')
}

// double writes a float: a RESP3 double, or a bulk string in RESP2.
func (w *replies) double(f float64) {
	s := strconv.FormatFloat(f, 'g', 17, 64)
	if !w.resp3 {
		w.bulkString(s)
		return
	}
	w.b = append(w.b, ',')
	w.b = append(w.b, strings.ToLower(s)...)
	w.b = append(w.b, '\r', '\n')
}

// verbatim writes text: a RESP3 verbatim string of format "txt", or a
// bulk string in RESP2, as Redis's INFO does.
func (w *replies) verbatim(text string) {
	if !w.resp3 {
		w.bulkString(text)
		return
	}
	w.b = append(w.b, '=')
	w.b = strconv.AppendInt(w.b, int64(len(text)+4), 10)
	w.b = append(w.b, "\r\ntxt:"...)
	w.b = append(w.b, text...)
	w.b = append(w.b, '\r', '\n')
}
