//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package memory

func resident([]byte) (bool, error) { return false, ErrUnsupported }
