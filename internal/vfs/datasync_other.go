//go:build !linux

package vfs

import "os"

// datasync is a full fsync where the platform has no fdatasync.
func datasync(f *os.File) error { return f.Sync() }
