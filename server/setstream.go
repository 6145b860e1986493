package server

import (
	"errors"
	"io"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/spin"
)

// streamMin is the smallest value a plain SET (SET key value, no options)
// reads from its connection straight into the memory that keeps it, or
// into the cold tier's staging file, through Manager.StoreFrom, instead
// of into the connection's buffer first and then a copy: a large value is
// so held once. A SET with options, in a transaction or before AUTH is
// read whole first, as any other command.
const streamMin = tiermem.SmallValueMax

// streamAfter: a value is streamed once 1/streamAfter of it has come. The
// memory a tier prepares for the value is its whole size, so a client that
// announces a large value and sends little of it costs at most streamAfter
// times what it sent (the read buffer, grown by doubling, costs twice);
// and the part read into the buffer first is held twice for a moment.
const streamAfter = 16

// errStopping ends the reading of a value when the server stops.
var errStopping = errors.New("server: the server is stopping")

// streamsValue reports whether the argument of size bytes, announced at
// b[next:] and not all read yet, is the value of a plain SET that the
// connection streams (see streamMin), now that enough of it has come
// (streamAfter).
func (p *reader) streamsValue(b []byte, next int, size int64) bool {
	if !p.stream || p.count != 3 || len(p.spans) != 2 || size < streamMin {
		return false
	}
	if int64(len(b)-next) < size/streamAfter {
		return false // an announced value costs what came, until enough of it has
	}
	name := p.spans[0]
	return equalFold(b[name[0]:name[1]], "set")
}

// streamValue returns a plain SET whose value, of size bytes, starts at
// b[next:] and is not all read yet: its arguments, the value's nil, and
// the value's frame in p.value for the connection to read. Everything
// buffered belongs to the command.
func (p *reader) streamValue(b []byte, next int, size int64) [][]byte {
	p.args = p.args[:0]
	for _, sp := range p.spans {
		p.args = append(p.args, b[sp[0]:sp[1]:sp[1]])
	}
	p.args = append(p.args, nil)
	p.value = &valueStream{pre: b[next:], left: size}
	p.r = p.w
	p.need, p.partial = 0, false
	return p.args
}

// valueStream is the value of a plain SET read from its connection while
// StoreFrom stores it (an io.Reader of exactly the value's bytes). Reads
// of the connection happen without the server's shared lock, so that a
// slow upload holds up no MSET or EXEC; the read that ends the value takes
// the lock back before it returns (holdStreamed: unless a command running
// alone keeps it for 200 ms), so the value is stored under it, as any
// command runs. The value's last byte is handed out only once its frame's
// CRLF has come: a value cut short is never stored.
type valueStream struct {
	c       *conn
	pre     []byte    // the frame's bytes already in the read buffer
	left    int64     // the value's bytes not handed out yet
	err     error     // the connection's read error, if any
	done    bool      // the frame was read whole, CRLF included
	arrived time.Time // when it was
}

// cut reports whether the connection failed before the value's frame
// came whole: the command then did nothing.
func (v *valueStream) cut() bool { return v.err != nil && !v.done }

func (v *valueStream) Read(b []byte) (int, error) {
	if v.left == 0 {
		return 0, io.EOF
	}
	if v.err != nil {
		return 0, v.err
	}
	b = b[:min(int64(len(b)), v.left)]
	var n int
	if len(v.pre) > 0 {
		n = copy(b, v.pre)
		v.pre = v.pre[n:]
	} else {
		n, v.err = v.c.readValue(b)
	}
	if v.left -= int64(n); v.left == 0 && !v.end() {
		return n - 1, v.err
	}
	return n, v.err
}

// end reads the frame's CRLF (Redis skips it unchecked, and so do we) and
// takes the server's shared lock back; false when the connection failed
// first.
func (v *valueStream) end() bool {
	var crlf [2]byte
	have := copy(crlf[:], v.pre)
	for have < len(crlf) && v.err == nil {
		var n int
		n, v.err = v.c.readValue(crlf[have:])
		have += n
	}
	if have < len(crlf) {
		if v.err == nil {
			v.err = io.ErrUnexpectedEOF
		}
		return false
	}
	v.c.holdStreamed()
	v.done, v.arrived = true, time.Now()
	return true
}

// streamTurnWait is how long a streamed value tries for the server's shared
// lock before it is stored without it: long enough for the commands that
// run alone to end (an EXEC of a few hundred commands), short enough that
// one waiting for the room the value holds stalls the clients no longer.
const streamTurnWait = 200 * time.Millisecond

// holdStreamed takes the server's shared lock for the store of a streamed
// value, as hold does, but tries for it for streamTurnWait rather than
// waiting in line: the value holds its room in its tier, and a command
// that runs alone (an EXEC's COPY, a durable MSET) may be waiting for that
// room with the lock held; waiting for each other, both would wait out the
// 5 s room wait, every client stalled. Not given the lock, the value is
// stored without it: that EXEC or MSET is then not atomic with respect to
// it (its key's watchers are still marked, as after any write).
func (c *conn) holdStreamed() {
	if c.holding {
		return
	}
	c.pauseClock()
	c.holding = spin.TryFor(streamTurnWait, c.s.exclusive.TryRLock)
}

// finish reads what the command left of the value's frame, so that the
// next command starts where it should, and returns the connection's read
// error, if any: the connection then closes.
func (v *valueStream) finish() error {
	if !v.done && v.err == nil {
		io.Copy(io.Discard, v)
	}
	if !v.done {
		return v.err
	}
	return nil
}

// readValue reads a streamed value's bytes from the connection, without
// the server's shared lock, with the idle deadline of a command's read.
// The replies of the commands before are sent first: a client waits for
// none of them while it uploads.
func (c *conn) readValue(b []byte) (int, error) {
	c.release()
	if c.out.pending() > 0 && !c.flush() {
		return 0, io.ErrClosedPipe
	}
	if !c.readDeadline() {
		return 0, errStopping
	}
	n, err := c.nc.Read(b)
	c.waitingSince.Store(0)
	c.info.active.Store(time.Now().UnixNano())
	if n > 0 {
		err = nil // the next read gives it again
	}
	return n, err
}

// setStreamed stores the value the reader streams (a plain SET's) under
// key. When the connection fails during the value, nothing is stored and
// nothing is replied: finish returns the error, and the connection closes.
func (c *conn) setStreamed(key []byte, v *valueStream) {
	err := c.s.m.StoreFrom(string(key), v, v.left)
	switch {
	case err == nil:
		c.out.ok()
	case v.cut():
	default:
		c.managerError(err)
	}
}
