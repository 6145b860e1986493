package trace

import "errors"

// ErrFormat is returned by ParseFormat for a format name it does not know.
var ErrFormat = errors.New("trace: unknown format")

// ErrSyntax is returned by Decoder.Next, wrapped with the line or byte offset, when
// the trace does not follow its format: a bad number, a missing field, a line
// longer than 64 KiB, a truncated binary record or compressed stream.
var ErrSyntax = errors.New("trace: malformed trace")

// ErrTooLong is returned, wrapped with the file and the line or byte offset,
// when a trace holds more requests than the reader may hold or count: by
// ReadAll past DefaultMaxRequests, by ScanFiles past 2^63-1. It is found
// before the requests are produced, so an ARC line of an absurd count is
// rejected without expanding it.
var ErrTooLong = errors.New("trace: too many requests")
