package offheap

import "errors"

// ErrOptions is returned by New for Options out of their documented ranges.
var ErrOptions = errors.New("offheap: invalid options")
