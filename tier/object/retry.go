package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// retrying is the Bucket a Store uses: the caller's, with a deadline per
// request, retries with exponential backoff and jitter on transient
// errors, a bound on requests in flight, and a length check on every Get
// (a short body is transient). Errors name the bucket and the object.
type retrying struct {
	b        Bucket
	attempts int           // requests per call, the first included
	timeout  time.Duration // deadline of one request (the largest, when scaled)
	scaled   bool          // the deadline grows with the request's size (deadline)
	backoff  time.Duration // pause before the first retry; doubles, to maxBackoff
	slots    chan struct{} // one per request in flight
	counters counters
}

const maxBackoff = 2 * time.Second

func newRetrying(b Bucket, o *Options) *retrying {
	return &retrying{b: b, attempts: o.Retries + 1, timeout: o.RequestTimeout, scaled: o.scaledTimeout,
		backoff: o.Backoff, slots: make(chan struct{}, o.Concurrency)}
}

// deadline returns the deadline of a request of size bytes: timeout, or,
// when it was left to its default (scaled), requestBase plus the time
// size takes at requestRate, at most timeout.
func (r *retrying) deadline(size int64) time.Duration {
	if !r.scaled {
		return r.timeout
	}
	return min(r.timeout, requestBase+time.Duration(size/requestRate)*time.Second)
}

// transient reports whether a failed request may succeed if repeated.
func transient(err error) bool {
	return !errors.Is(err, ErrNotExist) && !errors.Is(err, ErrNoBucket) && !errors.Is(err, ErrShortObject) &&
		!errors.Is(err, ErrExists) && !errors.Is(err, context.Canceled)
}

// do runs op, a request of size bytes, once per attempt, each under its
// own deadline and holding a slot, until it succeeds or fails permanently.
func (r *retrying) do(what, name string, size int64, op func(ctx context.Context) error) error {
	var err error
	pause := r.backoff
	for attempt := 1; ; attempt++ {
		r.counters.requests.Add(1)
		if err = r.once(op, r.deadline(size)); err == nil || !transient(err) {
			break
		}
		if attempt >= r.attempts {
			r.counters.failures.Add(1)
			return fmt.Errorf("object: %s %s/%s: %w after %d attempts: %w", what, r.b, name, ErrUnavailable, attempt, err)
		}
		time.Sleep(pause/2 + rand.N(pause/2+1))
		pause = min(2*pause, maxBackoff)
		r.counters.retries.Add(1)
	}
	if err != nil {
		r.counters.failures.Add(1)
		return fmt.Errorf("object: %s %s/%s: %w", what, r.b, name, err)
	}
	return nil
}

func (r *retrying) once(op func(ctx context.Context) error, deadline time.Duration) error {
	r.slots <- struct{}{}
	defer func() { <-r.slots }()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	return op(ctx)
}

func (r *retrying) put(name string, data []byte) error {
	err := r.do("put", name, int64(len(data)), func(ctx context.Context) error { return r.b.Put(ctx, name, data) })
	if err == nil {
		r.counters.bytesUp.Add(int64(len(data)))
	}
	return err
}

// create stores data under name only where no object is, when the
// Bucket is an ObjectCreator (put otherwise). An object found there holding data
// already is this store's own (an earlier attempt whose reply was lost, an
// upload retried by a later Sync after its index failed): that is
// success. One holding other bytes is another writer's: ErrExists.
func (r *retrying) create(name string, data []byte) error {
	c, ok := r.b.(ObjectCreator)
	if !ok {
		return r.put(name, data)
	}
	err := r.do("create", name, int64(len(data)), func(ctx context.Context) error { return c.CreateObject(ctx, name, data) })
	if errors.Is(err, ErrExists) {
		same, cerr := r.holds(name, data)
		switch {
		case cerr != nil:
			return fmt.Errorf("object: create %s/%s: an object is there, and reading it back failed: %w", r.b, name, cerr)
		case same:
			err = nil
		default:
			return fmt.Errorf("object: create %s/%s: another writer stored other bytes under the name: "+
				"two stores share this bucket and prefix, and each needs one of its own: %w", r.b, name, ErrExists)
		}
	}
	if err == nil {
		r.counters.bytesUp.Add(int64(len(data)))
	}
	return err
}

// holds reports whether the object name is data, byte for byte.
func (r *retrying) holds(name string, data []byte) (bool, error) {
	size := int64(-1)
	err := r.list(name, func(n string, sz int64) error {
		if n == name {
			size = sz
		}
		return nil
	})
	if err != nil || size != int64(len(data)) {
		return false, err
	}
	b, err := r.get(name, 0, size)
	return err == nil && bytes.Equal(b, data), err
}

// get returns exactly n bytes of name from off.
func (r *retrying) get(name string, off, n int64) ([]byte, error) {
	var out []byte
	err := r.do("get", name, n, func(ctx context.Context) error {
		b, err := r.b.Get(ctx, name, off, n)
		r.counters.bytesDown.Add(int64(len(b)))
		if err == nil && int64(len(b)) != n {
			err = fmt.Errorf("bytes %d-%d: short body, %d bytes", off, off+n, len(b)) // a cut reply, retried; a Bucket says ErrShortObject for an object that is short
		}
		out = b
		return err
	})
	return out, err
}

// list calls fn for every object under prefix; after a failed attempt
// the listing starts over, so fn may see a name twice.
func (r *retrying) list(prefix string, fn func(name string, size int64) error) error {
	var fnErr error
	err := r.do("list", prefix+"*", 0, func(ctx context.Context) error {
		fnErr = nil
		err := r.b.List(ctx, prefix, func(name string, size int64) error {
			fnErr = fn(name, size)
			return fnErr
		})
		if fnErr != nil {
			return nil // fn's error is the caller's, not the store's: no retry
		}
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

func (r *retrying) delete(name string) error {
	return r.do("delete", name, 0, func(ctx context.Context) error { return r.b.Delete(ctx, name) })
}
