//go:build !linux

package redistest

import "syscall"

// procAttr has nothing to add where there is no parent-death signal: Stop
// kills the nodes.
func procAttr() *syscall.SysProcAttr { return nil }
