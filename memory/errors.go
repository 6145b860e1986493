package memory

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is wrapped by the *AccessError of an access to memory whose
	// owner has closed it, and returned by Close of an already closed Handle.
	ErrClosed = errors.New("memory: use of closed memory")

	// ErrOutOfRange is wrapped by the *AccessError of an access outside a
	// view's capacity (or, for a Buffer, outside its start..end window).
	ErrOutOfRange = errors.New("memory: access out of range")

	// ErrInvalidSize is returned when a size or an offset passed to Allocate,
	// Map, MapWritable or a RequestServer is negative, or a size is zero
	// where memory must be created.
	ErrInvalidSize = errors.New("memory: invalid size or offset")

	// ErrTooLarge is returned by a HeapServer's Request (and so Grow) of
	// more memory than the machine has, RAM and swap together, or more than
	// 1 TiB: a Go slice that large is a fatal out-of-memory error, which no
	// caller could recover from. The error names the size asked and the
	// machine's memory.
	ErrTooLarge = errors.New("memory: request larger than the machine's memory")

	// ErrNoServer is returned by Grow for memory that no RequestServer handed out.
	ErrNoServer = errors.New("memory: no request server for this memory")

	// ErrNotOwner is returned by RequestServer.Release for memory the server
	// did not hand out, or has already released.
	ErrNotOwner = errors.New("memory: memory not owned by this server")

	// ErrNotFile is returned by Release of memory that is not a file
	// mapping, whose bytes releasing would lose.
	ErrNotFile = errors.New("memory: not a file mapping")

	// ErrFault is returned by Handle.Load for a page of a file mapping that
	// cannot be read: its file was truncated by another process, or the
	// device failed. (An access through a view to such a page is a
	// SIGBUS: a mapped file must be replaced by rename, never truncated.)
	ErrFault = errors.New("memory: a page of the mapping cannot be read")

	// ErrUnsupported is returned by every call that maps memory on systems
	// other than Linux, macOS and FreeBSD (Windows is refused at compile
	// time; see the package doc).
	ErrUnsupported = errors.New("memory: not supported on this platform")
)

// AccessError is the panic value of an access out of range or after close. It
// wraps ErrOutOfRange or ErrClosed, so a recovered value can be tested with
// errors.Is. An access whose range lies inside the view can only have failed
// because the memory was closed.
type AccessError struct {
	Op       string // what was attempted: "access", "region", "copy", "buffer", ...
	Offset   int64  // offset of the access within the view
	Length   int64  // number of bytes accessed
	Capacity int64  // capacity of the view (for a buffer, its end)

	// Err, when set, is what the error wraps. Accessors leave it nil, to keep
	// their fast path small: then a range inside the view means ErrClosed.
	Err error
}

func (e *AccessError) Error() string {
	if e.Unwrap() == ErrClosed {
		return fmt.Sprintf("%v (%s of %d bytes at offset %d)", ErrClosed, e.Op, e.Length, e.Offset)
	}
	return fmt.Sprintf("%v: %s of %d bytes at offset %d, capacity %d", ErrOutOfRange, e.Op, e.Length, e.Offset, e.Capacity)
}

// Unwrap returns Err if set, else ErrClosed when the range was inside the
// view and ErrOutOfRange otherwise.
func (e *AccessError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	end := e.Offset + e.Length
	if e.Offset >= 0 && e.Length >= 0 && end >= e.Offset && end <= e.Capacity {
		return ErrClosed
	}
	return ErrOutOfRange
}
