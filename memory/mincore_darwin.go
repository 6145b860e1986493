package memory

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mincore fills vec with one byte per page of b saying whether it is resident
// (mincore(2)). Neither syscall nor x/sys/unix wraps mincore for macOS, so
// this traps into the kernel directly (syscall.Syscall) instead of calling
// libSystem as Apple asks; mincore's number, 78, has not changed since the
// first release of macOS.
func mincore(b, vec []byte) error {
	//lint:ignore SA1019 no libSystem wrapper for mincore is reachable without cgo
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return errno
	}
	return nil
}
