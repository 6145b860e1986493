package extsort

import "errors"

// ErrSorted is returned by Add and Sort once Sort has been called.
var ErrSorted = errors.New("extsort: already sorted")

// ErrClosed is returned by Add and Sort after Close.
var ErrClosed = errors.New("extsort: closed")

// ErrCorruptRun is returned by an Iter whose run file does not read back as it
// was written (a truncated or overwritten temporary file).
var ErrCorruptRun = errors.New("extsort: corrupt run file")

// ErrTooLarge is returned by Add for a record of more than 4 GiB - 1, the
// most a run or a buffer can hold.
var ErrTooLarge = errors.New("extsort: record too large")
