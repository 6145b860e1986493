package alloc

import "sync"

// Pool is a typed sync.Pool that resets what is put back, so that Get always
// returns a value ready for use: a reused one or a new one. The garbage
// collector may drop pooled values at any time. Safe for concurrent use.
type Pool[T any] struct {
	p     sync.Pool
	reset func(*T)
}

// NewPool returns a pool that makes values with newValue (nil: new(T)) and
// clears them with reset (nil: values are put back as they are).
func NewPool[T any](newValue func() *T, reset func(*T)) *Pool[T] {
	if newValue == nil {
		newValue = func() *T { return new(T) }
	}
	return &Pool[T]{p: sync.Pool{New: func() any { return newValue() }}, reset: reset}
}

// Get returns a value from the pool, or a new one.
func (p *Pool[T]) Get() *T { return p.p.Get().(*T) }

// Put resets x and keeps it for a later Get. x must not be used after Put.
// Put(nil) does nothing, so that Get never returns nil.
func (p *Pool[T]) Put(x *T) {
	if x == nil {
		return
	}
	if p.reset != nil {
		p.reset(x)
	}
	p.p.Put(x)
}
