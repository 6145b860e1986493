//go:build !unix

package memory

import "os"

var pageSize = int64(os.Getpagesize())

func mapAnon(int64, bool) ([]byte, error)                  { return nil, ErrUnsupported }
func mapFile(*os.File, int64, int64, bool) ([]byte, error) { return nil, ErrUnsupported }
func unmap([]byte, blockKind) error                        { return ErrUnsupported }
func adviseWillNeed([]byte) error                          { return ErrUnsupported }
func syncMapping([]byte) error                             { return ErrUnsupported }
func discard([]byte) error                                 { return ErrUnsupported }
func adviseHuge([]byte) error                              { return nil }
