package record

import (
	"errors"
	"fmt"
)

// ErrUnsupported is returned by For and New for a type that is not a struct,
// or that has a field of a type records cannot hold.
var ErrUnsupported = errors.New("record: unsupported type")

// ErrCorrupt is returned by Point and Decode for bytes that are not a record
// of the schema: too short, with a size, offset or length that points outside
// the record.
var ErrCorrupt = errors.New("record: corrupt record")

// ErrNoValue is returned by View.Struct for a nested struct field that is
// absent or null.
var ErrNoValue = errors.New("record: field has no value")

// ErrType is returned by Append and Decode for a value whose type is not the
// schema's (or a pointer to it).
var ErrType = errors.New("record: value of another type")

// ErrTooLarge is returned by Append for a record over 4 GiB, or a struct of
// more than 65535 fields.
var ErrTooLarge = errors.New("record: record too large")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// ErrUnaligned is returned by Slice for a field whose elements do not sit at
// a multiple of their size in memory, or on a big-endian machine, where the
// stored numbers cannot be viewed in place; IntAt, UintAt and FloatAt read
// them anyway.
var ErrUnaligned = errors.New("record: elements cannot be viewed in place")
