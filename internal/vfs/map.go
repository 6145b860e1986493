package vfs

import "runtime/debug"

// AppendMapped appends src, which lies in a mapping made by [Map], to dst
// and returns the result; the appended bytes are copied once, never zeroed
// first. A page of the mapping that the file no longer backs (something cut
// the file short) or that the disk cannot read raises SIGBUS; AppendMapped
// turns that into [ErrMappingFault] instead of a crash and returns dst
// unchanged. It is safe for concurrent use.
func AppendMapped(dst, src []byte) (out []byte, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			out, err = dst, ErrMappingFault
		}
	}()
	return append(dst, src...), nil
}
