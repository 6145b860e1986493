package memory

import (
	"fmt"
	"sync"
)

// RequestServer hands out writable memory and takes it back. A structure that
// fills its memory asks the memory's server (WritableMemory.Server) for a
// bigger one, moves over, and releases the old one; Grow does all three.
// Implementations must be safe for concurrent use.
type RequestServer interface {
	// Request returns new writable memory of at least size bytes, in cur's
	// byte order, holding a copy of cur's first min(cur.Size(), size) bytes.
	// cur may be the zero WritableMemory (nothing to copy); it stays valid.
	Request(cur WritableMemory, size int64) (WritableMemory, error)

	// Release frees memory that Request handed out; m may be any view of it.
	// Every view of the memory becomes invalid. It returns ErrNotOwner for
	// memory the server did not hand out or already released.
	Release(m WritableMemory) error
}

// Grow moves w to memory of at least size bytes from w's server, at least
// doubling w's size so that repeated growth costs amortized O(1) per byte. The
// new memory holds w's bytes; w and every view of its memory become invalid.
// w must be the whole memory the server handed out.
func Grow(w WritableMemory, size int64) (WritableMemory, error) {
	srv := w.Server()
	if srv == nil {
		return WritableMemory{}, ErrNoServer
	}
	next, err := srv.Request(w, max(size, 2*w.Size()))
	if err != nil {
		return WritableMemory{}, err
	}
	if err := srv.Release(w); err != nil {
		srv.Release(next)
		return WritableMemory{}, err
	}
	return next, nil
}

// blockServer is the bookkeeping that HeapServer and OffHeapServer share.
type blockServer struct {
	self     RequestServer
	newBlock func(size int64) (*block, error)

	mu   sync.Mutex
	live map[*block]struct{} // protected by mu: blocks handed out, not yet released
}

func (s *blockServer) Request(cur WritableMemory, size int64) (WritableMemory, error) {
	if size <= 0 {
		return WritableMemory{}, fmt.Errorf("%w: requesting %d bytes", ErrInvalidSize, size)
	}
	n := min(cur.Size(), size)
	if n > 0 && !cur.IsValid() {
		return WritableMemory{}, fmt.Errorf("%w: requesting memory to copy %d bytes of memory closed or released", ErrClosed, n)
	}
	b, err := s.newBlock(size)
	if err != nil {
		return WritableMemory{}, err
	}
	b.server = s.self
	next := WritableMemory{view: newView(b).withOrder(cur.Order())}
	if n > 0 {
		Copy(next, 0, cur.ReadOnly(), 0, n)
	}
	s.mu.Lock()
	s.live[b] = struct{}{}
	s.mu.Unlock()
	return next, nil
}

func (s *blockServer) Release(m WritableMemory) error {
	s.mu.Lock()
	_, ok := s.live[m.b]
	delete(s.live, m.b)
	s.mu.Unlock()
	if !ok {
		return ErrNotOwner
	}
	_, err := m.b.close()
	return err
}

// Close releases every block the server handed out and has not taken back.
func (s *blockServer) Close() error {
	s.mu.Lock()
	blocks := s.live
	s.live = map[*block]struct{}{}
	s.mu.Unlock()
	var firstErr error
	for b := range blocks {
		if _, err := b.close(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// Outstanding returns the number of memories handed out and not released.
func (s *blockServer) Outstanding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// HeapServer hands out memory from the Go heap. Released memory is invalidated
// (so stale views fail cleanly) and left to the garbage collector. A Request
// of more than the machine has (RAM and swap), or more than 1 TiB, returns
// ErrTooLarge. Safe for concurrent use; the zero value is not usable, call
// NewHeapServer.
type HeapServer struct{ blockServer }

// NewHeapServer returns a server of Go heap memory.
func NewHeapServer() *HeapServer {
	s := &HeapServer{blockServer{live: map[*block]struct{}{}}}
	s.self = s
	s.newBlock = func(size int64) (*block, error) {
		if err := checkHeapRequest(size); err != nil {
			return nil, err
		}
		return newHeapBlock(make([]byte, size)), nil
	}
	return s
}

// maxHeapRequest bounds a HeapServer's Request on any machine: 1 TiB.
const maxHeapRequest = 1 << 40

// checkHeapRequest returns ErrTooLarge for a Request of more Go heap than
// the machine has (RAM and swap) or than maxHeapRequest: one Go slice larger
// than the system can commit is a fatal out-of-memory error, not an error
// that a caller can recover from.
func checkHeapRequest(size int64) error {
	if size > maxHeapRequest {
		return fmt.Errorf("%w: requesting %d bytes of Go heap, more than a HeapServer hands out (%d; use an OffHeapServer)",
			ErrTooLarge, size, int64(maxHeapRequest))
	}
	if m := machineMemory(); m > 0 && size > m {
		return fmt.Errorf("%w: requesting %d bytes of Go heap, more than this machine has (%d bytes of RAM and swap)",
			ErrTooLarge, size, m)
	}
	return nil
}

// OffHeapServer hands out anonymous memory outside the Go heap; Release
// unmaps it. Close releases whatever is still out. Safe for concurrent use;
// the zero value is not usable, call NewOffHeapServer.
type OffHeapServer struct{ blockServer }

// NewOffHeapServer returns a server of off-heap memory.
func NewOffHeapServer() *OffHeapServer {
	s := &OffHeapServer{blockServer{live: map[*block]struct{}{}}}
	s.newBlock = func(size int64) (*block, error) { return newOffHeapBlock(size, false) }
	s.self = s
	return s
}
