//go:build linux || darwin || freebsd || netbsd || openbsd

package memory

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident reports whether every page of b is in RAM.
func resident(b []byte) (bool, error) {
	if len(b) == 0 {
		return true, nil
	}
	vec := make([]byte, (int64(len(b))+pageSize-1)/pageSize)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return false, fmt.Errorf("memory: mincore: %w", errno)
	}
	for _, v := range vec {
		if v&1 == 0 {
			return false, nil
		}
	}
	return true, nil
}
