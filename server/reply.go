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
}

// sharedValue is a value a reply sends from the memory that holds it, or
// in pieces from a reader.
type sharedValue struct {
	at int // where in b it goes
	v  []byte
	r  *tiermem.ValueReader // when v is nil: read in pieces as it is sent, then closed
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
func (w *replies) bulkReader(r *tiermem.ValueReader) {
	n := r.Size()
	w.bulkHeader(int(n))
	w.shared = append(w.shared, sharedValue{at: len(w.b), r: r})
	w.sharedBytes += int(n)
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

// writeTo writes the replies to c: b's bytes with the shared values
// between them, in one writev where no reader's value comes between.
func (w *replies) writeTo(c net.Conn) error {
	if len(w.shared) == 0 {
		_, err := c.Write(w.b)
		return err
	}
	bufs := make(net.Buffers, 0, 2*len(w.shared)+1)
	last := 0
	for i := range w.shared {
		s := &w.shared[i]
		bufs = append(bufs, w.b[last:s.at])
		last = s.at
		if s.r == nil {
			bufs = append(bufs, s.v) // writev: not copied
			continue
		}
		if _, err := bufs.WriteTo(c); err != nil {
			return err
		}
		bufs = bufs[:0]
		err := sendValue(c, s.r)
		s.r.Close()
		s.r = nil
		if err != nil {
			return err
		}
	}
	bufs = append(bufs, w.b[last:])
	_, err := bufs.WriteTo(c)
	return err
}

// sendChunk is the piece a reader's value is sent in.
const sendChunk = 256 << 10

var sendBufs = sync.Pool{New: func() any { b := make([]byte, sendChunk); return &b }}

// sendValue writes r's whole value to c in pieces. A read that fails
// midway (a segment cut short since the value was opened and verified)
// leaves the bulk string unfinished: the caller closes the connection,
// since no reply can follow it.
func sendValue(c net.Conn, r *tiermem.ValueReader) error {
	buf := sendBufs.Get().(*[]byte)
	defer sendBufs.Put(buf)
	// The struct hides c's ReadFrom, so that CopyBuffer uses buf.
	n, err := io.CopyBuffer(struct{ io.Writer }{c}, io.NewSectionReader(r, 0, r.Size()), *buf)
	if err == nil && n < r.Size() {
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
	w.shared, w.sharedBytes = w.shared[:0], 0
}

func (w *replies) ok() { w.b = append(w.b, "+OK\r\n"...) }

// status writes a simple string, which must hold no CR or LF.
func (w *replies) status(s string) {
	w.b = append(w.b, '+')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// error writes an error reply; msg starts with its code ("ERR ...",
// "WRONGTYPE ...") and has its CRs and LFs turned into spaces, as Redis does.
func (w *replies) error(msg string) {
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
