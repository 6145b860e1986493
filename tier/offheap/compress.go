package offheap

import (
	"fmt"
	"slices"

	"github.com/klauspost/compress/s2"
	"github.com/tiermem/tiermem/tier"
)

const (
	minCompress = 1 << 10 // smaller values are never worth it
	sampleSize  = 4 << 10 // bytes compressed to decide
)

// encode returns the form in which value is stored: s2-encoded when the
// store compresses and it pays (a sample first, then the whole value, each to
// at most 7/8), the value itself otherwise.
func (s *Store) encode(value []byte) ([]byte, uint8) {
	if !s.compress || len(value) < minCompress {
		return value, 0
	}
	sample := value[:min(len(value), sampleSize)]
	if len(s2.Encode(nil, sample))*8 > len(sample)*7 {
		return value, 0
	}
	enc := s2.Encode(nil, value)
	if len(enc)*8 > len(value)*7 {
		return value, 0
	}
	return enc, flagCompressed
}

// decodeAppend appends the value of r to dst.
func (s *Store) decodeAppend(dst []byte, r record) ([]byte, error) {
	if r.flags&flagCompressed == 0 {
		return append(dst, r.stored...), nil
	}
	n, err := s2.DecodedLen(r.stored)
	if err != nil {
		return dst, fmt.Errorf("offheap: %q: %w: %w", r.key, tier.ErrCorrupt, err)
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	if _, err := s2.Decode(dst[start:], r.stored); err != nil {
		return dst[:start], fmt.Errorf("offheap: %q: %w: %w", r.key, tier.ErrCorrupt, err)
	}
	return dst, nil
}
