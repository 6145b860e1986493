package cache

import (
	"errors"
	"fmt"
)

// ErrPolicy is returned by ParseKind, NewPolicy and New for an unknown policy.
var ErrPolicy = errors.New("cache: unknown policy")

// ErrCapacity is returned by NewPolicy and New when the budget is below 1.
var ErrCapacity = errors.New("cache: capacity must be at least 1")

// ErrTooLarge is returned by Cache.Set when one entry weighs more than the whole
// budget: it could never be kept.
var ErrTooLarge = errors.New("cache: entry larger than the budget")

// ErrWeight is returned by Cache.Set when the weigher returns a negative weight.
var ErrWeight = errors.New("cache: negative weight")

// ErrClosed is returned by Cache.Set after Close.
var ErrClosed = errors.New("cache: closed")

// errorf wraps a sentinel with detail: errorf(ErrPolicy, "%q", s).
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
