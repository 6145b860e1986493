//go:build !(linux || darwin || freebsd)

package memory

import "os"

// On systems other than Linux, macOS and FreeBSD (Windows is refused at
// compile time, see unsupported_windows.go) nothing is mapped: every call
// that needs mmap returns ErrUnsupported.

var pageSize = int64(os.Getpagesize())

func mapAnon(int64, bool) ([]byte, error)                  { return nil, ErrUnsupported }
func mapFile(*os.File, int64, int64, bool) ([]byte, error) { return nil, ErrUnsupported }
func unmap([]byte, blockKind) error                        { return ErrUnsupported }
func adviseWillNeed([]byte) error                          { return ErrUnsupported }
func syncMapping([]byte) error                             { return ErrUnsupported }
func discard([]byte, blockKind) error                      { return ErrUnsupported }
func adviseHuge([]byte) error                              { return nil }
func populate([]byte) error                                { return nil }

// openNonblock is 0 where nothing is mapped.
const openNonblock = 0

// extendFile makes f hold size bytes.
func extendFile(f *os.File, _, size int64) error { return f.Truncate(size) }
