package tiermem

import (
	"fmt"

	"github.com/tiermem/tiermem/internal/header"
)

// decodeHeader parses a value's header (its meta in every tier); an error
// wraps ErrCorrupt.
func decodeHeader(meta []byte) (header.Header, error) {
	h, err := header.Decode(meta)
	if err != nil {
		return h, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if h.Kind == header.Array && !DType(h.DType).valid() {
		return h, fmt.Errorf("%w: an array of unknown dtype %d", ErrCorrupt, h.DType)
	}
	return h, nil
}
