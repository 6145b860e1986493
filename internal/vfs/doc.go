// Package vfs is the small file-system interface the on-disk tiers use, so
// that tests can inject the outside world: [Default] is the operating
// system's file system and [Fault] wraps any FS to fail writes with ENOSPC
// after a byte budget or on demand, fail syncs, and let space return.
//
// It holds only what a log-structured store needs: create and open files,
// positional reads and writes, sync, truncate, rename, remove, list a
// directory, make a directory, sync a directory and lock one against a
// second process. Files have no shared cursor: every read and write names
// its offset, so one File serves concurrent readers and a writer.
//
// Errors are the operating system's (*fs.PathError wrapping a
// syscall.Errno), so callers test them with errors.Is(err, syscall.ENOSPC)
// whichever FS produced them.
package vfs
