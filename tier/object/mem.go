package object

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
)

// Mem is a Bucket in process memory, for tests: a Store over a Mem keeps
// its packs in RAM and loses them with the Mem. It is safe for concurrent
// use; its objects are copies of what Put was given.
type Mem struct {
	mu      sync.RWMutex      // protects objects
	objects map[string][]byte // name → bytes, never modified once stored
}

var (
	_ Bucket        = (*Mem)(nil)
	_ ObjectCreator = (*Mem)(nil)
)

// NewMem returns an empty Mem.
func NewMem() *Mem { return &Mem{objects: map[string][]byte{}} }

// String returns "mem://" and the Mem's address, which tells two apart.
func (m *Mem) String() string { return fmt.Sprintf("mem://%p", m) }

// Put stores a copy of data under name.
func (m *Mem) Put(ctx context.Context, name string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[name] = bytes.Clone(data)
	return nil
}

// CreateObject stores a copy of data under name unless an object is there.
func (m *Mem) CreateObject(ctx context.Context, name string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[name]; ok {
		return fmt.Errorf("object: create %s/%s: %w", m, name, ErrExists)
	}
	m.objects[name] = bytes.Clone(data)
	return nil
}

// Get returns a copy of n bytes of name from off.
func (m *Mem) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.objects[name]
	switch {
	case !ok:
		return nil, fmt.Errorf("object: get %s/%s: %w", m, name, ErrNotExist)
	case off < 0 || n < 0:
		return nil, fmt.Errorf("object: get %s/%s: bytes %d-%d: a negative range", m, name, off, off+n)
	case off+n > int64(len(b)):
		return nil, fmt.Errorf("object: get %s/%s: bytes %d-%d of a %d-byte object: %w", m, name, off, off+n, len(b), ErrShortObject)
	}
	return bytes.Clone(b[off : off+n]), nil
}

// List calls fn for every object under prefix, in no particular order,
// outside the Mem's lock.
func (m *Mem) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	type object struct {
		name string
		size int64
	}
	var found []object
	m.mu.RLock()
	for name, b := range m.objects {
		if strings.HasPrefix(name, prefix) {
			found = append(found, object{name, int64(len(b))})
		}
	}
	m.mu.RUnlock()
	for _, o := range found {
		if err := fn(o.name, o.size); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes name; an absent object is not an error.
func (m *Mem) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, name)
	return nil
}
