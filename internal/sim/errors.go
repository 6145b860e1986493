package sim

import (
	"errors"
	"fmt"
)

// ErrTooLong is returned by RunTrace when opt is among the policies and the
// trace has more requests than Options.MaxRequests: opt needs the whole trace
// in memory, 16 bytes a request. It is returned before anything is allocated.
var ErrTooLong = errors.New("sim: trace too long for opt to hold in memory")

// ErrChanged is returned by RunTrace when a replay of the trace produced a
// number of requests other than its Len: its files changed while it ran.
var ErrChanged = errors.New("sim: the trace changed while it was replayed")

// tooLong wraps ErrTooLong with the trace's length and the limit.
func tooLong(n, limit int64) error {
	return fmt.Errorf("%w: %d requests, over the limit of %d", ErrTooLong, n, limit)
}
