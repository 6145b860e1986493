//go:build linux || darwin

package server

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxIovecs is the most buffers one writev takes (IOV_MAX).
const maxIovecs = 1024

// write writes as much of bufs as the socket takes without waiting (its
// descriptor is non-blocking, as every descriptor of Go's network poller
// is) and returns how much that was: 0, and no error, when its buffer is
// full.
func (w *nowWriter) write(bufs [][]byte) (int, error) {
	w.bufs, w.n, w.err = bufs, 0, nil
	err := w.raw.Write(w.fn)
	w.bufs = nil
	if err == nil {
		err = w.err
	}
	return w.n, err
}

// writev is the function raw.Write calls with the socket's descriptor. It
// returns true whatever happened: the poller is never waited for.
func (w *nowWriter) writev(fd uintptr) bool {
	for len(w.bufs) > 0 {
		part := w.bufs[:min(len(w.bufs), maxIovecs)]
		want := 0
		for _, b := range part {
			want += len(b)
		}
		n, err := unix.Writev(int(fd), part)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return true
		case err != nil:
			w.err = err
			return true
		}
		w.n += n
		if n < want {
			return true
		}
		w.bufs = w.bufs[len(part):]
	}
	return true
}

// newNowWriter returns a nowWriter for the connection's socket, or nil when
// it has none (TLS).
func newNowWriter(nc any) *nowWriter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &nowWriter{raw: raw}
	w.fn = w.writev
	return w
}
