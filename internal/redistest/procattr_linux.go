package redistest

import "syscall"

// procAttr makes a node die with the test process that started it, even
// when that process is killed and cannot run Stop.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
