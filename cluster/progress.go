package cluster

import (
	"context"
	"sync/atomic"
)

type progressKey struct{}

// WithProgress returns a context under which Store, StoreArray, Retrieve
// and RetrieveArray call f with the bytes of each batch of chunks as it is
// written or read (a value inside its manifest reports nothing). A Store
// that spills to glacier reports, once the value is there, the bytes it had
// not reported yet: a Store never reports more than its value's length. f
// is called from the transfer's goroutines, concurrently: it must be safe
// for that, and quick.
func WithProgress(ctx context.Context, f func(bytes int64)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

// progress reports n bytes done to the context's WithProgress function.
func progress(ctx context.Context, n int64) {
	if f, ok := ctx.Value(progressKey{}).(func(int64)); ok && f != nil {
		f(n)
	}
}

// countProgress returns ctx, under which progress also adds the bytes it
// reports to n, if ctx has a WithProgress function; else ctx itself.
func countProgress(ctx context.Context, n *atomic.Int64) context.Context {
	f, ok := ctx.Value(progressKey{}).(func(int64))
	if !ok || f == nil {
		return ctx
	}
	return WithProgress(ctx, func(b int64) { n.Add(b); f(b) })
}
