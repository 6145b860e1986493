package header

import "errors"

// ErrCorrupt is returned by Decode for bytes that are not a header this
// package wrote.
var ErrCorrupt = errors.New("header: corrupt value header")
