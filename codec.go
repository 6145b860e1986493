package tiermem

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"fmt"

	"github.com/tiermem/tiermem/internal/header"
)

// Codec turns Go values of type T into bytes and back, for Put and Get
// (MemPool's custom serialization). Implementations must be safe for
// concurrent use.
type Codec[T any] interface {
	// ID names the codec; Get refuses a value another codec encoded.
	ID() byte
	// Encode appends the encoding of v to dst.
	Encode(dst []byte, v T) ([]byte, error)
	// Decode parses data into a new T.
	Decode(data []byte) (T, error)
}

// The IDs of the codecs this package provides; user codecs should use IDs
// from 128 up.
const (
	BinaryCodecID byte = 1
	GobCodecID    byte = 2
)

// binaryCodec encodes types whose pointer implements encoding.BinaryMarshaler
// and encoding.BinaryUnmarshaler: the fast path.
type binaryCodec[T any] struct{}

func (binaryCodec[T]) ID() byte { return BinaryCodecID }

func (binaryCodec[T]) Encode(dst []byte, v T) ([]byte, error) {
	if a, ok := any(&v).(encoding.BinaryAppender); ok {
		return a.AppendBinary(dst)
	}
	b, err := any(&v).(encoding.BinaryMarshaler).MarshalBinary()
	return append(dst, b...), err
}

func (binaryCodec[T]) Decode(data []byte) (T, error) {
	var v T
	err := any(&v).(encoding.BinaryUnmarshaler).UnmarshalBinary(data)
	return v, err
}

// GobCodec encodes any type encoding/gob can: the general fallback.
type GobCodec[T any] struct{}

// ID returns GobCodecID.
func (GobCodec[T]) ID() byte { return GobCodecID }

// Encode appends v's gob encoding to dst.
func (GobCodec[T]) Encode(dst []byte, v T) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	err := gob.NewEncoder(buf).Encode(&v)
	return buf.Bytes(), err
}

// Decode parses a gob encoding of a T.
func (GobCodec[T]) Decode(data []byte) (T, error) {
	var v T
	err := gob.NewDecoder(bytes.NewReader(data)).Decode(&v)
	return v, err
}

// DefaultCodec returns the codec Put and Get use for T: the binary
// (un)marshalers when *T has both, gob otherwise.
func DefaultCodec[T any]() Codec[T] {
	var v T
	_, m := any(&v).(encoding.BinaryMarshaler)
	_, u := any(&v).(encoding.BinaryUnmarshaler)
	if m && u {
		return binaryCodec[T]{}
	}
	return GobCodec[T]{}
}

// Put stores a Go value under key with DefaultCodec[T].
func Put[T any](m *Manager, key string, v T, opts ...StoreOption) error {
	return PutWith(m, key, v, DefaultCodec[T](), opts...)
}

// Get returns the Go value stored under key with DefaultCodec[T]. It returns
// an error wrapping ErrType for a value stored otherwise.
func Get[T any](m *Manager, key string) (T, error) { return GetWith(m, key, DefaultCodec[T]()) }

// PutWith stores a Go value under key with codec c.
func PutWith[T any](m *Manager, key string, v T, c Codec[T], opts ...StoreOption) error {
	data, err := c.Encode(nil, v)
	if err != nil {
		return fmt.Errorf("%w: encoding %q: %w", ErrType, key, err)
	}
	return m.storeKind(key, data, header.Header{Kind: header.Value, Codec: c.ID()}, opts)
}

// GetWith returns the Go value stored under key with codec c.
func GetWith[T any](m *Manager, key string, c Codec[T]) (T, error) {
	var v T
	err := m.read(key, borrowed, func(_ *tierState, value []byte, env header.Header) error {
		if env.Kind != header.Value || env.Codec != c.ID() {
			return fmt.Errorf("%w: %q holds %s (codec %d), not a value of codec %d", ErrType, key, env.Kind, env.Codec, c.ID())
		}
		var err error
		if v, err = c.Decode(value); err != nil {
			return fmt.Errorf("%w: decoding %q: %w", ErrCorrupt, key, err)
		}
		return nil
	})
	return v, err
}
