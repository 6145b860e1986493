package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// conn is one client's connection: its reader, its pending replies and
// its session state. Only its own goroutine uses it (Shutdown and Close
// touch nc alone).
type conn struct {
	s   *Server
	nc  net.Conn
	id  int64
	in  reader
	out replies
	// send writes the replies the socket did not take at once, in a
	// goroutine of its own; now, when the connection is a socket's (not
	// TLS), lets flush try the socket first, with iov as its scratch.
	send   sender
	now    *nowWriter
	iov    [][]byte
	authed bool // AUTH succeeded, or no password was set when it came
	quit   bool // close once the replies are written
	// overLimit says the replies passed the output limit: they are dropped
	// and the connection closes (limitOutput).
	overLimit bool
	lower     [32]byte

	// info is what CLIENT LIST shows of the connection to the others.
	info clientInfo

	// watched are the keys WATCH named, in s.watches too; dirty is set
	// (by any connection) when one of them is written. expiring are those
	// of them that had a TTL when watched: EXEC aborts if one has expired.
	watched  []string
	expiring []string
	dirty    atomic.Bool

	// pairs is MSET's keys then values, kept for the next MSET.
	pairs [][]byte

	// killed is set by the CLIENT KILL that closes the connection: a later
	// kill finds it gone, as Redis frees a killed client at once, while its
	// goroutine has yet to leave the client list.
	killed atomic.Bool
	// counted says that the server counts the connection as a client
	// (Server.clientCount); guarded by the server's mu.
	counted bool

	// holding says the connection holds s.exclusive's read side; isAlone,
	// its write side.
	holding, isAlone bool
	// idleSet says the connection's reads have an idle deadline set;
	// idleFrom, when not 0, is when the next one counts from (Unix ns):
	// the sender's last write (sentLately).
	idleSet  bool
	idleFrom int64
	// waitingSince is when the connection began to wait for its client
	// (Unix ns), 0 while it runs a command; read by CONFIG SET timeout.
	waitingSince atomic.Int64
	// tx is the MULTI queue; nil outside a transaction. inExec says EXEC
	// runs the queue (CLIENT LIST then shows EXEC as the last command).
	tx     *transaction
	inExec bool

	fromGet getReply // GET's ViewShared callback, bound once

	// ahead holds the keys prepareAhead hands the Manager (empty between
	// calls); prepared counts the commands after the running one whose keys
	// it handed already.
	ahead    [][]byte
	prepared int

	// clock times the commands for the Observer.
	clock cmdClock

	// value is the value of the plain SET running, while it is read from
	// the connection (streamMin); nil otherwise.
	value *valueStream
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, id: s.ids.Add(1), authed: s.Password() == ""}
	c.info.init(nc)
	c.now = newNowWriter(nc)
	c.send.init()
	c.in.maxBulk, c.in.maxArgs, c.in.unauthed = s.opts.MaxBulkLen, s.opts.MaxMultibulkLen, !c.authed
	c.fromGet.c = c
	c.fromGet.fn = c.fromGet.write
	return c
}

// serve reads commands and runs them until the client leaves, a protocol
// error, or the server closes. Replies are written when no whole command
// is left in the buffer, so a pipeline of any depth costs one write per
// read; those the socket does not take go to the sender, and the
// connection reads on. Before it closes, its replies are written.
func (c *conn) serve() {
	defer c.nc.Close()
	defer c.send.wait(c)
	defer c.pauseClock()     // the last batch's times
	defer c.out.reset(false) // closes the readers of replies never sent
	defer c.unwatch()
	defer c.release()
	defer func() {
		// A bug in a command must cost its connection, not the server.
		if r := recover(); r != nil {
			c.s.log.Error("server: a command panicked; closing its connection", "client", c.nc.RemoteAddr().String(),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	for {
		if err := c.runBuffered(); err != nil {
			var pe *protocolError
			if errors.As(err, &pe) {
				c.out.errorf("Protocol error: " + pe.msg)
				c.s.log.Debug("server: closing a client after a protocol error", "client", c.nc.RemoteAddr().String(), "error", pe.msg)
			}
			c.release()
			c.flush()
			return
		}
		c.release() // before a write that a slow client may block
		c.pauseClock()
		if !c.flush() || c.quit || !c.readDeadline() {
			return
		}
		n, err := c.nc.Read(c.in.space())
		c.waitingSince.Store(0)
		c.in.w += n
		c.info.active.Store(time.Now().UnixNano())
		if err != nil && n == 0 {
			if isTimeout(err) && !c.s.stopping.Load() {
				if c.sentLately() {
					continue // a client taking its replies is not idle, as in Redis
				}
				c.nc.Close() // idle: its replies are dropped, as Redis drops them
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !c.s.isClosing() {
				c.s.log.Debug("server: reading from a client", "client", c.nc.RemoteAddr().String(), "error", err)
			}
			return
		}
	}
}

// runBuffered runs every whole command in the buffer.
func (c *conn) runBuffered() error {
	for !c.quit {
		c.in.stream = c.authed && c.tx == nil
		args, err := c.in.next()
		if errors.Is(err, errIncomplete) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(args) > 0 {
			c.prepareAhead(args)
			c.hold()
			if err := c.runStreaming(args); err != nil {
				return err
			}
		}
		if c.out.pending() > 64<<10 {
			c.release()
			c.pauseClock()
			if !c.flush() {
				return io.ErrClosedPipe
			}
		}
	}
	return nil
}

// runStreaming runs a command, with its value read from the connection
// while it runs when the reader streams it (a large plain SET's), and
// returns the connection's error if reading that value failed.
func (c *conn) runStreaming(args [][]byte) error {
	v := c.in.value
	if v == nil {
		c.run(args)
		return nil
	}
	c.in.value, c.value, v.c = nil, v, c
	defer func() { c.value = nil }()
	c.run(args)
	return v.finish()
}

// hold takes the server's shared lock for the commands of a batch; the
// wait for it is no command's time.
func (c *conn) hold() {
	if !c.holding {
		c.pauseClock()
		c.s.exclusive.RLock()
		c.holding = true
	}
}

// release lets commands that run alone in.
func (c *conn) release() {
	if c.holding {
		c.s.exclusive.RUnlock()
		c.holding = false
	}
}

// pauseClock hands the commands' times to the Observer, if any, and
// restarts their chain (cmdClock).
func (c *conn) pauseClock() {
	if obs := c.s.opts.Observer; obs != nil {
		c.clock.pause(obs)
	}
}

// alone runs fn with no other connection running a command.
func (c *conn) alone(fn func()) {
	if c.isAlone { // a command of an EXEC
		fn()
		return
	}
	c.release()
	c.s.lockAlone()
	c.isAlone = true
	defer func() {
		c.isAlone = false
		c.s.unlockAlone()
	}()
	fn()
}

// unheld runs fn, a write of the keys args names that may wait for room
// that streams hold (RENAME's, COPY's), without the server's shared lock:
// the other clients are served while it waits. It holds the read side of
// the server's unheldWrites instead, so that a command that runs alone
// waits for it to end (out of the shared lock, the others served
// meanwhile) and stays atomic with respect to it; and it marks the
// watchers of the keys before it lets go, so that EXEC sees the write. In
// an EXEC, which runs alone, fn runs at once.
func (c *conn) unheld(args [][]byte, fn func() error) error {
	if c.isAlone {
		return fn()
	}
	c.release()
	c.s.unheldWrites.RLock()
	defer c.s.unheldWrites.RUnlock()
	err := fn()
	c.s.watches.touch(c.lookup(args[0]), args)
	return err
}

// readDeadline sets the idle deadline of the next read and marks the
// connection as waiting for its client from now (CONFIG SET timeout then
// moves the deadline: Server.setIdle), and reports false when the server
// is stopping: Shutdown sets the stopping flag before it moves every read
// deadline to now, so whichever of the two deadlines is set last, a
// connection does not wait for its next command. The caller clears
// waitingSince once its read returns.
func (c *conn) readDeadline() bool {
	now := time.Now()
	if c.idleFrom != 0 {
		now, c.idleFrom = time.Unix(0, c.idleFrom), 0
	}
	c.waitingSince.Store(now.UnixNano())
	for {
		d := c.s.idle.Load()
		if d > 0 {
			c.nc.SetReadDeadline(now.Add(time.Duration(d)))
			c.idleSet = true
		} else if c.idleSet { // CONFIG SET timeout 0: the deadline of an earlier timeout goes
			c.nc.SetReadDeadline(time.Time{})
			c.idleSet = false
		}
		if c.s.idle.Load() == d { // else a CONFIG SET came between: its value wins
			break
		}
	}
	return !c.s.stopping.Load()
}

// sentLately reports whether the sender wrote to the client within the
// idle timeout: a read that timed out then waits again, the idle time
// counted from that write (idleFrom), as Redis counts a client's idle time
// from its last read or write. A client whose replies wait on it but who
// took none of them that long is idle.
func (c *conn) sentLately() bool {
	last := c.send.progress.Load()
	if last == 0 || time.Now().UnixNano()-last >= c.s.idle.Load() {
		return false
	}
	c.idleFrom = last
	return true
}

// applyIdle moves the read deadline of a connection waiting for its client
// to the idle timeout d (ns; 0 for none) counted from when it began to
// wait. Called by another connection's CONFIG SET, under the server's mu.
func (c *conn) applyIdle(d int64) {
	since := c.waitingSince.Load()
	switch {
	case since == 0: // running a command: its next wait reads the new timeout
	case d > 0:
		c.nc.SetReadDeadline(time.Unix(0, since).Add(time.Duration(d)))
	default:
		c.nc.SetReadDeadline(time.Time{})
	}
}

// flush writes the pending replies, or as much of them as the socket
// takes at once when nothing is queued before them, and queues the rest for
// the sender (waiting while more than MaxOutput is queued). It reports
// whether the connection can go on.
func (c *conn) flush() bool {
	if c.out.pending() == 0 {
		return !c.send.failed()
	}
	skip := 0
	if c.now != nil && !c.out.hasReaders() && c.send.idle() {
		c.iov = c.out.buffers(c.iov[:0])
		n, err := c.now.write(c.iov)
		clear(c.iov)
		if err != nil {
			c.writeFailed(err)
			c.out.reset(false)
			return false
		}
		if n == c.out.pending() {
			c.out.reset(cap(c.out.b) <= maxKeptBuffer)
			return true
		}
		skip = n
	}
	return c.send.push(c, c.out.detach(skip))
}

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// checkPassword compares a password with RequirePass in constant time.
// The check is an attempt of the client's address, throttled as
// wrongPassPause says: it waits (without the server's shared lock) for
// the address's turn and for wrongPassPause after its last failure. In an
// EXEC, which runs alone and must not wait, an attempt that would wait is
// not checked (passUnchecked), nor is one whose wait a stopping server or
// a CLIENT KILL ended. A wrong password is logged (without it), one line
// a second at most.
func (c *conn) checkPassword(pass []byte) passCheck {
	st := c.s.authOf()
	remote := c.nc.RemoteAddr().String()
	at, ok := st.limit.TryBegin(remote)
	if !ok {
		if c.isAlone {
			return passUnchecked // in an EXEC: a wait would stop every client
		}
		c.release() // the wait must not hold up MSET or EXEC on other connections
		var err error
		at, err = st.limit.Begin(context.Background(), remote, func() bool { return c.s.stopping.Load() || c.killed.Load() })
		if err != nil {
			return passUnchecked // a stopping server or a killed client finishes at once
		}
	}
	want := c.s.Password()
	right := want != "" && subtle.ConstantTimeCompare(pass, []byte(want)) == 1
	at.End(!right)
	if right {
		c.authed, c.in.unauthed = true, false
		return passRight
	}
	if log, held := st.logged.Allow(); log {
		c.s.log.Warn("server: AUTH failed", "client", remote, "not_logged_since", held)
	}
	return passWrong
}

// passCheck is the outcome of checkPassword.
type passCheck int

const (
	passWrong     passCheck = iota
	passRight               // the client is authenticated
	passUnchecked           // not compared: an attempt that would wait, in an EXEC
)

// wrongPassPause slows down password guessing, by client address (its IP,
// an IPv6 one's /64 prefix): after a wrong password from an address, its
// next AUTH or HELLO AUTH, right or wrong, is checked only once
// wrongPassPause has passed since that failure, and the attempts of one
// address are checked one at a time, on however many connections they
// come. So N guesses from an address cost about N pauses, however they
// are sent. An address that never gives a wrong password never waits.
const wrongPassPause = 10 * time.Millisecond
