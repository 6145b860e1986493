//go:build !(linux || darwin || freebsd)

package memory

func resident([]byte) (bool, error) { return false, ErrUnsupported }
