package trace

import "errors"

// ErrFormat is returned by ParseFormat for a format name it does not know.
var ErrFormat = errors.New("trace: unknown format")

// ErrSyntax is returned by Decoder.Next, wrapped with the line or byte offset, when
// the trace does not follow its format: a bad number, a missing field, a truncated
// binary record.
var ErrSyntax = errors.New("trace: malformed trace")
