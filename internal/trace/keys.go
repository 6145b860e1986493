package trace

import (
	"errors"
	"fmt"
	"io"
)

// DefaultMaxRequests is the most requests ReadAll returns: 100 million, 1.6 GB
// of Requests.
const DefaultMaxRequests = 100_000_000

// ReadAll reads every request of the trace at path into memory. A trace of
// more than DefaultMaxRequests requests is an error wrapping ErrTooLong, found
// at the line that passes the limit, before its requests are produced; use
// ScanFiles and Files.Keys to stream longer traces. progress, if not nil, is
// called now and then with the bytes of the file read so far and its size.
func ReadAll(path string, f Format, progress func(done, total int64)) ([]Request, error) {
	file, err := Open(path, f)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var reqs []Request
	for {
		r, err := file.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && file.left >= DefaultMaxRequests-uint64(len(reqs)) {
			err = fmt.Errorf("%w: %s: more than %d requests", ErrTooLong, file.where(), DefaultMaxRequests)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		reqs = append(reqs, r)
		if progress != nil && len(reqs)&0xffff == 0 {
			progress(file.Consumed(), file.Size())
		}
	}
	if progress != nil {
		progress(file.Size(), file.Size())
	}
	return reqs, nil
}
