package heap

import "errors"

// ErrNoPolicy is returned by IdleSince on a store made by New, which keeps
// no read times (its CLOCK words say only whether an entry was read since
// the hand or Idle passed).
var ErrNoPolicy = errors.New("heap: the store keeps no replacement policy")
