package server

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem"
)

// sender writes the replies a connection's socket did not take at once, in
// a goroutine of its own, so that the connection goes on reading and
// running its client's commands meanwhile, as Redis reads on while a
// client's output waits: a client that writes a whole pipeline before it
// reads a reply is served whatever the pipeline's depth. What it queues is
// bounded by the server's MaxOutput: past it, the connection stops reading
// until the client takes some of its replies (push waits).
//
// The connection's goroutine pushes batches and waits for the queue to
// empty before it closes; the sender's goroutine runs while the queue is
// not empty. A failed write closes the connection and drops what is
// queued. Make one with init before use.
type sender struct {
	mu sync.Mutex
	// moved is broadcast when bytes leave the queue, a write fails, or the
	// output limit changes.
	moved   sync.Cond
	queue   []*batch
	queued  int  // the memory queue's batches keep (batch.size)
	running bool // a goroutine writes the queue
	err     error
	// progress is when the sender last wrote bytes to the socket (Unix
	// ns; 0 when never): the client took some of its replies.
	progress atomic.Int64
}

// init readies a sender.
func (s *sender) init() { s.moved.L = &s.mu }

// idle reports whether nothing is queued or being written: the
// connection's goroutine may then write to the socket itself.
func (s *sender) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.running && s.err == nil
}

// failed reports whether a write failed: the connection is closing.
func (s *sender) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil
}

// push queues b, starts the sender's goroutine if it is not running, and
// waits while more than the server's MaxOutput is queued (not past a write
// that fails, nor past the idle timeout with the client taking nothing).
// It reports whether the connection can go on.
func (s *sender) push(c *conn, b *batch) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		b.release()
		return false
	}
	s.queue = append(s.queue, b)
	s.queued += b.size
	c.info.output.Store(int64(s.queued))
	if !s.running {
		s.running = true
		go s.run(c)
	}
	for s.err == nil {
		if limit := c.s.maxOutput.Load(); limit <= 0 || int64(s.queued) <= limit {
			break
		}
		s.waitMoved(c)
	}
	return s.err == nil
}

// wait waits until the queue is written, a write failed, or, with an idle
// timeout, the client took nothing for that long: the connection is then
// closed, its replies dropped.
func (s *sender) wait(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.running && s.err == nil {
		s.waitMoved(c)
	}
}

// wake wakes a connection waiting for its queue (the output limit changed).
func (s *sender) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.moved.Broadcast()
}

// waitMoved waits for moved, with s.mu held. With an idle timeout it
// waits no longer than the client may stay idle, counted from its last
// read or the last byte the sender wrote, as Redis counts a client's idle
// time; a client idle that long is closed (s.err is then set).
func (s *sender) waitMoved(c *conn) {
	d := c.s.idle.Load()
	if d <= 0 {
		s.moved.Wait()
		return
	}
	since := max(c.info.active.Load(), s.progress.Load())
	left := time.Duration(since + d - time.Now().UnixNano())
	if left <= 0 {
		s.err = errIdleClient
		c.s.log.Debug("server: closing a client that took none of its replies within the idle timeout", "client", c.nc.RemoteAddr().String())
		c.nc.Close() // the sender's write, blocked on the client, fails
		return
	}
	t := time.AfterFunc(left, s.wake)
	s.moved.Wait()
	t.Stop()
}

// errIdleClient closes a connection whose client took none of its replies
// within the idle timeout.
var errIdleClient = errors.New("server: the client took none of its replies within the idle timeout")

// run writes the queue's batches in order until it is empty, with the
// server's WriteTimeout for each piece (see paced).
func (s *sender) run(c *conn) {
	p := &paced{c: c.nc, d: c.s.opts.WriteTimeout, progress: &s.progress}
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			if p.d > 0 { // a later write from the connection's goroutine must not meet an old deadline
				c.nc.SetWriteDeadline(time.Time{})
			}
			s.running = false
			s.moved.Broadcast()
			s.mu.Unlock()
			return
		}
		b := s.queue[0]
		s.mu.Unlock()

		size := b.size
		err := s.write(c, p, b)

		s.mu.Lock()
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.queued -= size
		if err != nil {
			s.fail(c, err)
		}
		c.info.output.Store(int64(s.queued))
		s.moved.Broadcast()
		s.mu.Unlock()
	}
}

// write writes b and releases it. A bug that panics while it is written
// costs its connection (the error closes it), not the server, as a panic
// in a command does.
func (s *sender) write(c *conn, p *paced, b *batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("server: writing replies panicked; closing the connection", "client", c.nc.RemoteAddr().String(),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("server: writing replies panicked: %v", r)
		}
		b.release()
	}()
	return b.writeTo(p)
}

// fail drops the queue after a write failed and closes the connection, so
// that its goroutine, reading, learns it. The caller holds s.mu.
func (s *sender) fail(c *conn, err error) {
	s.err = err
	for _, b := range s.queue {
		b.release()
	}
	clear(s.queue)
	s.queue, s.queued = s.queue[:0], 0
	c.writeFailed(err)
	c.nc.Close()
}

// writeFailed logs a failed write of a connection's replies, unless the
// connection or the server was closed on purpose.
func (c *conn) writeFailed(err error) {
	if !errors.Is(err, net.ErrClosed) && !c.s.isClosing() {
		c.s.log.Debug("server: writing to a client", "client", c.nc.RemoteAddr().String(), "error", err)
	}
}

// batch is replies handed to the sender: their pieces in order, each a
// byte slice or part of a reader's value, and the buffer they came from,
// kept for later replies once they are written.
type batch struct {
	pieces []piece
	buf    []byte
	size   int
}

// piece is a run of a batch's bytes, or, when r is set, n bytes of r's
// value from off.
type piece struct {
	b      []byte
	r      *tiermem.ValueReader
	off, n int64
}

// add appends b to the batch, less its first *skip bytes, which it takes
// off *skip.
func (bt *batch) add(b []byte, skip *int) {
	k := min(*skip, len(b))
	*skip -= k
	if b = b[k:]; len(b) > 0 {
		bt.pieces = append(bt.pieces, piece{b: b})
	}
}

// writeTo writes the batch: its byte pieces with writev, up to each
// reader's value, which is read in pieces as it is sent and then closed.
func (bt *batch) writeTo(p *paced) error {
	bufs := make(net.Buffers, 0, len(bt.pieces))
	for i := range bt.pieces {
		pc := &bt.pieces[i]
		if pc.r == nil {
			bufs = append(bufs, pc.b)
			continue
		}
		if err := p.writeBuffers(bufs); err != nil {
			return err
		}
		bufs = bufs[:0]
		err := sendValue(p, pc.r, pc.off, pc.n)
		pc.r.Close()
		pc.r = nil
		if err != nil {
			return err
		}
	}
	return p.writeBuffers(bufs)
}

// release closes the readers the batch did not send and keeps its buffer
// for later replies.
func (bt *batch) release() {
	for i := range bt.pieces {
		if r := bt.pieces[i].r; r != nil {
			r.Close()
		}
	}
	putReplyBuffer(bt.buf)
	*bt = batch{}
}

// replyBuffers keeps the buffers of written batches for the replies that
// follow, so that a deep pipeline does not grow a new one per batch.
var replyBuffers sync.Pool

func getReplyBuffer() []byte {
	if p, ok := replyBuffers.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return nil
}

func putReplyBuffer(b []byte) {
	if b != nil && cap(b) <= maxKeptBuffer {
		replyBuffers.Put(&b)
	}
}
