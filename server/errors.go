package server

import "errors"

var (
	// ErrServerClosed is returned by Serve after Shutdown or Close.
	ErrServerClosed = errors.New("server: server closed")

	// ErrProtocol is the cause a connection is closed for when a client
	// sends a frame that is not RESP (a bad length, a missing CRLF, an
	// unbalanced quote in an inline command) or exceeds a limit; the client
	// gets Redis's "-ERR Protocol error: ..." reply first.
	ErrProtocol = errors.New("server: protocol error")
)
