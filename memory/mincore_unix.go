//go:build linux || darwin || freebsd

package memory

import "fmt"

// resident reports whether every page of b is in RAM.
func resident(b []byte) (bool, error) {
	if len(b) == 0 {
		return true, nil
	}
	vec := make([]byte, (int64(len(b))+pageSize-1)/pageSize)
	if err := mincore(b, vec); err != nil {
		return false, fmt.Errorf("memory: mincore: %w", err)
	}
	for _, v := range vec {
		if v&1 == 0 { // MINCORE_INCORE on macOS and FreeBSD, bit 0 on Linux
			return false, nil
		}
	}
	return true, nil
}
