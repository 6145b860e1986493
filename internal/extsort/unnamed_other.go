//go:build !linux

package extsort

import (
	"errors"
	"os"
)

// openUnnamed fails where the system has no O_TMPFILE: the caller creates
// a named file and unlinks it at once.
func openUnnamed(string) (*os.File, error) { return nil, errors.ErrUnsupported }
