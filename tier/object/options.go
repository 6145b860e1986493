package object

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configure a Store. A nil *Options, and every zero field, means
// the default.
type Options struct {
	// PackSize is the size at which the open pack is sealed and uploaded.
	// A value larger than a pack gets a pack of its own. Default 32 MiB; at
	// least 4 KiB.
	PackSize int64

	// Compression says how hard values are compressed. Default ZstdBest.
	Compression Compression

	// Uploads is the number of sealed packs uploading in the background at
	// once; a Put that seals one more waits for one to finish. Memory held
	// for packs not yet durable is at most (Uploads+2) × PackSize: once an
	// upload failed, Puts and Deletes retry it first and fail while it
	// fails (Restore and Revert, which take writes back, do not). Default 2.
	Uploads int

	// Concurrency is the number of requests in flight to the bucket, all
	// kinds together. Default 8.
	Concurrency int

	// Retries is how many times a request that failed with a transient
	// error (anything but a missing object or bucket) is repeated, with
	// exponential backoff from Backoff up to 2 s. Default 4; negative
	// means none.
	Retries int

	// RequestTimeout is the deadline of one request, retries apart. By
	// default it grows with the request: 10 s plus 1 s per 256 KiB sent
	// or read, at most 2 minutes (a 32 MiB pack at 0.3 MB/s), so that a
	// store that stopped answering fails a small read in seconds, not
	// minutes. A RequestTimeout set here is every request's.
	RequestTimeout time.Duration

	// Backoff is the pause before the first retry. Default 100 ms.
	Backoff time.Duration

	// MinLiveShare is the share of a pack's frame bytes that live values
	// must keep; Compact rewrites the packs below it. Default 0.5.
	MinLiveShare float64

	// Logger receives one line per pack uploaded, failed upload, rebuilt
	// index and compaction. Default: none.
	Logger *slog.Logger

	// scaledTimeout says RequestTimeout was left to its default: a
	// request's deadline grows with its size (requestDeadline).
	scaledTimeout bool
}

const (
	defaultPackSize       = 32 << 20
	minPackSize           = 4 << 10
	defaultUploads        = 2
	defaultConcurrency    = 8
	defaultRetries        = 4
	defaultRequestTimeout = 2 * time.Minute
	requestBase           = 10 * time.Second // a default deadline's part for any request
	requestRate           = 256 << 10        // bytes a second a default deadline allows for
	defaultBackoff        = 100 * time.Millisecond
	defaultMinLiveShare   = 0.5
)

// resolve returns o with its defaults filled in, or an error naming the
// first field that cannot work.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	r.PackSize = orDefault(r.PackSize, defaultPackSize)
	r.Uploads = orDefault(r.Uploads, defaultUploads)
	r.Concurrency = orDefault(r.Concurrency, defaultConcurrency)
	r.Retries = orDefault(r.Retries, defaultRetries)
	r.Retries = max(r.Retries, 0)
	r.scaledTimeout = r.RequestTimeout == 0
	r.RequestTimeout = orDefault(r.RequestTimeout, defaultRequestTimeout)
	r.Backoff = orDefault(r.Backoff, defaultBackoff)
	r.MinLiveShare = orDefault(r.MinLiveShare, defaultMinLiveShare)
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r, r.check()
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (o *Options) check() error {
	switch {
	case o.PackSize < minPackSize || o.PackSize > maxValueLen:
		return fmt.Errorf("%w: PackSize %d is outside [%d, %d]", ErrInvalidOptions, o.PackSize, minPackSize, int64(maxValueLen))
	case o.Compression < ZstdBest || o.Compression > NoCompression:
		return fmt.Errorf("%w: Compression %d", ErrInvalidOptions, o.Compression)
	case o.Uploads < 1 || o.Concurrency < 1:
		return fmt.Errorf("%w: Uploads %d and Concurrency %d must be positive", ErrInvalidOptions, o.Uploads, o.Concurrency)
	case o.RequestTimeout < 0 || o.Backoff < 0:
		return fmt.Errorf("%w: RequestTimeout %v and Backoff %v must not be negative", ErrInvalidOptions, o.RequestTimeout, o.Backoff)
	case o.MinLiveShare < 0 || o.MinLiveShare > 1:
		return fmt.Errorf("%w: MinLiveShare %v is outside [0, 1]", ErrInvalidOptions, o.MinLiveShare)
	}
	return nil
}
