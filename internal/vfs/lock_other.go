//go:build !unix

package vfs

import (
	"errors"
	"io"
	"io/fs"
)

// lockFile is unsupported where there is no flock: opening a store there is
// an error rather than an unprotected directory.
func lockFile(name string) (io.Closer, error) {
	return nil, &fs.PathError{Op: "lock", Path: name, Err: errors.ErrUnsupported}
}
