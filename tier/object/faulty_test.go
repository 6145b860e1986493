package object_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem/tier/object"
)

// fault is what a faulty bucket does to a request.
type fault int

const (
	fail     fault = iota // return a transient error (as a 503 would)
	hang                  // block until the request's deadline
	truncate              // Get returns half the bytes, without error
	flip                  // Get returns the bytes with one bit flipped
	gone                  // return ErrNoBucket (the bucket was deleted)
	delay                 // wait a few milliseconds, then pass the request
)

// rule injects fault into requests of op ("put", "get", "list",
// "delete") on names containing match, times times (negative: forever).
type rule struct {
	op, match string
	fault     fault
	times     int
}

// faulty is a Bucket that passes requests to another, injecting the
// faults its rules say, and counts requests and the bytes Gets return.
type faulty struct {
	object.Bucket
	mu    sync.Mutex // protects rules
	rules []rule

	puts, gets, lists, deletes atomic.Int64
	putBytes, getBytes         atomic.Int64
}

func newFaulty(b object.Bucket) *faulty { return &faulty{Bucket: b} }

// inject adds a rule.
func (f *faulty) inject(r rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, r)
}

// pending returns the number of rules not used up.
func (f *faulty) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.rules {
		if r.times != 0 {
			n++
		}
	}
	return n
}

// heal removes every rule.
func (f *faulty) heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// take returns the fault for a request, if a rule applies, and uses it up.
func (f *faulty) take(op, name string) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rules {
		r := &f.rules[i]
		if r.op == op && strings.Contains(name, r.match) && r.times != 0 {
			r.times--
			return r.fault, true
		}
	}
	return 0, false
}

// before applies a fault that stops the request before it is made.
func (f *faulty) before(ctx context.Context, op, name string) (fault, error) {
	flt, ok := f.take(op, name)
	if !ok {
		return -1, nil
	}
	switch flt {
	case fail:
		return flt, fmt.Errorf("injected: %s %s: 503 Slow Down", op, name)
	case hang:
		<-ctx.Done()
		return flt, fmt.Errorf("injected hang: %s %s: %w", op, name, ctx.Err())
	case gone:
		return flt, fmt.Errorf("injected: %s %s: %w", op, name, object.ErrNoBucket)
	case delay:
		time.Sleep(3 * time.Millisecond)
	}
	return flt, nil
}

func (f *faulty) Put(ctx context.Context, name string, data []byte) error {
	f.puts.Add(1)
	if _, err := f.before(ctx, "put", name); err != nil {
		return err
	}
	f.putBytes.Add(int64(len(data)))
	return f.Bucket.Put(ctx, name, data)
}

func (f *faulty) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	f.gets.Add(1)
	flt, err := f.before(ctx, "get", name)
	if err != nil {
		return nil, err
	}
	b, err := f.Bucket.Get(ctx, name, off, n)
	f.getBytes.Add(int64(len(b)))
	switch {
	case err != nil:
	case flt == truncate:
		b = b[:len(b)/2]
	case flt == flip && len(b) > 0:
		b[len(b)/2] ^= 0x40
	}
	return b, err
}

func (f *faulty) List(ctx context.Context, prefix string, fn func(string, int64) error) error {
	f.lists.Add(1)
	if _, err := f.before(ctx, "list", prefix); err != nil {
		return err
	}
	return f.Bucket.List(ctx, prefix, fn)
}

func (f *faulty) Delete(ctx context.Context, name string) error {
	f.deletes.Add(1)
	if _, err := f.before(ctx, "delete", name); err != nil {
		return err
	}
	return f.Bucket.Delete(ctx, name)
}
