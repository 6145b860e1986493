package cluster

import "context"

type progressKey struct{}

// WithProgress returns a context under which Store, StoreArray, Retrieve
// and RetrieveArray call f with the bytes of each batch of chunks as it is
// written or read (a value inside its manifest reports nothing). f is called
// from the transfer's goroutines, concurrently: it must be safe for that, and
// quick.
func WithProgress(ctx context.Context, f func(bytes int64)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

// progress reports n bytes done to the context's WithProgress function.
func progress(ctx context.Context, n int64) {
	if f, ok := ctx.Value(progressKey{}).(func(int64)); ok && f != nil {
		f(n)
	}
}
