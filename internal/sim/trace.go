package sim

// Trace is a sequence of requested keys that can be replayed from its start
// any number of times, by several goroutines at once. trace.Files is one,
// read from disk for each replay; Slice is one held in memory.
type Trace interface {
	// Len returns the number of requests.
	Len() int64
	// Keys calls yield with each key in order until yield returns false or
	// the trace ends, and returns the error that stopped reading, if any.
	Keys(yield func(key uint64) bool) error
}

// Slice is a Trace held in memory.
type Slice []uint64

// Len returns the number of keys.
func (s Slice) Len() int64 { return int64(len(s)) }

// Keys calls yield with each key of s in order.
func (s Slice) Keys(yield func(key uint64) bool) error {
	for _, k := range s {
		if !yield(k) {
			return nil
		}
	}
	return nil
}

// load returns t in memory: t itself when it is a Slice, else its keys read
// into a slice of t.Len() keys, allocated once. A trace longer than limit is
// ErrTooLong, before anything is allocated. A replay that yields fewer or
// more keys than Len is ErrChanged; reading stops at the first key past Len.
func load(t Trace, limit int64) (Slice, error) {
	if t.Len() > limit {
		return nil, tooLong(t.Len(), limit)
	}
	if s, ok := t.(Slice); ok {
		return s, nil
	}
	s := make(Slice, 0, t.Len())
	grown := false
	err := t.Keys(func(k uint64) bool {
		if len(s) == cap(s) {
			grown = true
			return false
		}
		s = append(s, k)
		return true
	})
	if err == nil && (grown || int64(len(s)) != t.Len()) {
		err = ErrChanged
	}
	return s, err
}
