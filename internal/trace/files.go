package trace

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// Part is one file of a trace and the format it is in.
type Part struct {
	Path   string
	Format Format
}

// Files is a trace kept in files, read one after the other as one trace. It
// holds no requests: each call of Keys reads the files again, producing an ARC
// line's keys one by one as they are consumed, so a trace of any length is
// replayed in a few buffers of memory. Make one with ScanFiles. A Files is
// safe for concurrent use; each Keys call opens its own readers.
type Files struct {
	parts []Part
	n     int64
}

// ScanFiles reads every part once, checking its syntax and counting its
// requests without producing them: an ARC line counts in one step whatever
// its count. A malformed part is an error naming its file and line or offset;
// a trace of more than 2^63-1 requests is ErrTooLong. progress, if not nil,
// is called at the start and end of each part and now and then in between,
// with the index of the part, the bytes of its file read so far and its size.
func ScanFiles(parts []Part, progress func(part int, done, total int64)) (*Files, error) {
	t := &Files{parts: parts}
	for i, p := range parts {
		var report func(done, total int64)
		if progress != nil {
			report = func(done, total int64) { progress(i, done, total) }
		}
		n, err := count(p, math.MaxInt64-t.n, report)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Path, err)
		}
		t.n += n
	}
	return t, nil
}

// count returns the requests of one part, at most limit: what is left of
// 2^63-1 after the parts before.
func count(p Part, limit int64, progress func(done, total int64)) (int64, error) {
	file, err := Open(p.Path, p.Format)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	if progress != nil {
		progress(0, file.Size())
	}
	var n int64
	for i := 1; ; i++ {
		k, err := file.skip()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		if k > uint64(limit-n) {
			return 0, fmt.Errorf("%w: %s: more than %d requests in all", ErrTooLong, file.where(), int64(math.MaxInt64))
		}
		n += int64(k)
		if progress != nil && i&0xffff == 0 {
			progress(file.Consumed(), file.Size())
		}
	}
	if progress != nil {
		progress(file.Size(), file.Size())
	}
	return n, nil
}

// Len returns the number of requests ScanFiles counted.
func (t *Files) Len() int64 { return t.n }

// Keys reads the files again, in order, and calls yield with the key of each
// request until yield returns false or the trace ends. It returns the first
// error met reading, wrapped with the file's path.
func (t *Files) Keys(yield func(key uint64) bool) error {
	for _, p := range t.parts {
		more, err := keys(p, yield)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Path, err)
		}
		if !more {
			return nil
		}
	}
	return nil
}

// keys calls yield with the keys of one part; it reports whether yield asked
// for more.
func keys(p Part, yield func(uint64) bool) (bool, error) {
	file, err := Open(p.Path, p.Format)
	if err != nil {
		return false, err
	}
	defer file.Close()
	for {
		r, err := file.Next()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if !yield(r.Key) {
			return false, nil
		}
	}
}
