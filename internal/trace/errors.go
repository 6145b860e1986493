package trace

import (
	"errors"
	"fmt"
)

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

// ErrWindow is returned, wrapped with the file and the size, by Open and by
// the reads of a zstd or xz trace whose stream declares a window or an LZMA2
// dictionary over 64 MiB: the decoder would allocate it before decoding a
// byte. It is found at Open for the first frame or block, else as the reads
// reach the frame or block that declares it.
var ErrWindow = fmt.Errorf("trace: compressed stream's window or dictionary over %d MiB", maxWindow>>20)
