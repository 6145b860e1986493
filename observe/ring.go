package observe

// ring is a bounded ring of values: once full, each push drops the oldest.
// Not safe for concurrent use; the Optimizer's mutex guards its rings.
type ring[T any] struct {
	buf   []T
	start int // index of the oldest value
	n     int // values held
}

func newRing[T any](capacity int) *ring[T] { return &ring[T]{buf: make([]T, capacity)} }

func (r *ring[T]) push(v T) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// last returns the newest value, and false when the ring is empty.
func (r *ring[T]) last() (T, bool) {
	if r.n == 0 {
		var zero T
		return zero, false
	}
	return r.buf[(r.start+r.n-1)%len(r.buf)], true
}

// values returns a copy of the values, oldest first.
func (r *ring[T]) values() []T {
	out := make([]T, r.n)
	for i := range out {
		out[i] = r.buf[(r.start+i)%len(r.buf)]
	}
	return out
}
