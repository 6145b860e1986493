package server

import (
	"net"
	"strconv"
	"strings"
)

// replies appends RESP replies to a buffer that the connection writes out
// when it has no whole command left to run. After HELLO 3 it writes RESP3
// nulls and maps; before, RESP2's.
type replies struct {
	b     []byte
	resp3 bool
	// shared are values queued without a copy (bulkShared): each is sent
	// where it lies, after b's bytes up to its at; sharedBytes sums them.
	shared      []sharedValue
	sharedBytes int
}

// sharedValue is a value a reply sends from the memory that holds it.
type sharedValue struct {
	at int // where in b it goes
	v  []byte
}

// bulkShared writes v as a bulk string without copying it: v must stay
// unchanged until the replies are written (a hot value the Manager shares).
func (w *replies) bulkShared(v []byte) {
	w.bulkHeader(len(v))
	w.shared = append(w.shared, sharedValue{at: len(w.b), v: v})
	w.sharedBytes += len(v)
	w.bulkEnd()
}

// pending returns the bytes the replies hold, shared values included.
func (w *replies) pending() int { return len(w.b) + w.sharedBytes }

// buffers returns the replies as net.Buffers: b's bytes with the shared
// values between them.
func (w *replies) buffers() net.Buffers {
	bufs := make(net.Buffers, 0, 2*len(w.shared)+1)
	last := 0
	for _, s := range w.shared {
		bufs = append(bufs, w.b[last:s.at], s.v)
		last = s.at
	}
	return append(bufs, w.b[last:])
}

// reset empties the replies, dropping the shared values.
func (w *replies) reset(keep bool) {
	if keep {
		w.b = w.b[:0]
	} else {
		w.b = nil
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
