//go:build darwin || freebsd

package memory

import (
	"encoding/binary"
	"math"
	"runtime"

	"golang.org/x/sys/unix"
)

// machineMemory returns the bytes of RAM and swap of the machine, or 0
// where it cannot tell; swap that cannot be read counts as none.
func machineMemory() int64 {
	ram, err := unix.SysctlUint64(ramSysctl())
	if err != nil {
		return 0
	}
	return int64(min(ram+swapTotal(), math.MaxInt64))
}

// ramSysctl names the sysctl that holds the bytes of RAM.
func ramSysctl() string {
	if runtime.GOOS == "darwin" {
		return "hw.memsize"
	}
	return "hw.physmem"
}

// swapTotal returns the bytes of swap, or 0 where it cannot tell. macOS
// reports it in a struct xsw_usage, whose first field is the total.
func swapTotal() uint64 {
	if runtime.GOOS != "darwin" {
		n, _ := unix.SysctlUint64("vm.swap_total")
		return n
	}
	b, err := unix.SysctlRaw("vm.swapusage")
	if err != nil || len(b) < 8 {
		return 0
	}
	return binary.NativeEndian.Uint64(b)
}
