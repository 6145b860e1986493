package cluster

import (
	"context"
	"fmt"

	"github.com/tiermem/tiermem"
)

// Put stores a Go value under key with tiermem.DefaultCodec[T] (the binary
// (un)marshalers when *T has both, gob otherwise). It is Store otherwise.
func Put[T any](ctx context.Context, c *Cluster, key string, v T) error {
	return PutWith(ctx, c, key, v, tiermem.DefaultCodec[T]())
}

// Get returns the Go value stored under key with tiermem.DefaultCodec[T].
// A value of another codec, or bytes, is ErrType.
func Get[T any](ctx context.Context, c *Cluster, key string) (T, error) {
	return GetWith(ctx, c, key, tiermem.DefaultCodec[T]())
}

// PutWith stores a Go value under key with codec.
func PutWith[T any](ctx context.Context, c *Cluster, key string, v T, codec tiermem.Codec[T]) error {
	data, err := codec.Encode(nil, v)
	if err != nil {
		return fmt.Errorf("%w: encoding %q: %w", ErrType, key, err)
	}
	return c.store(ctx, key, data, kindValue, codec.ID(), nil)
}

// GetWith returns the Go value stored under key with codec.
func GetWith[T any](ctx context.Context, c *Cluster, key string, codec tiermem.Codec[T]) (T, error) {
	var v T
	m, data, err := c.retrieve(ctx, key, kindValue)
	if err != nil {
		return v, err
	}
	if m.aux != codec.ID() {
		return v, fmt.Errorf("%w: %q holds a value of codec %d, not %d", ErrType, key, m.aux, codec.ID())
	}
	if v, err = codec.Decode(data); err != nil {
		return v, fmt.Errorf("%w: decoding %q: %w", ErrCorrupt, key, err)
	}
	return v, nil
}
