package server

import "syscall"

// nowWriter writes a connection's replies to its socket from the
// connection's own goroutine as far as the socket takes them at once,
// without waiting: what it does not take goes to the sender. Its function
// for the socket is bound once, so that a write allocates nothing.
type nowWriter struct {
	raw  syscall.RawConn
	fn   func(fd uintptr) bool
	bufs [][]byte // what write writes, during the call
	n    int      // how much of it went
	err  error
}
