//go:build linux || darwin || freebsd

package memory

import "fmt"

// residentWindow is how many pages resident asks about at a time, so that
// its vector stays small however large the memory (a terabyte reserved
// would need 256 MiB of it at once).
const residentWindow = 1 << 16

// resident reports whether every page of b is in RAM; it stops at the
// first window that holds a page that is not.
func resident(b []byte) (bool, error) {
	vec := make([]byte, residentWindow)
	for len(b) > 0 {
		n := min(int64(len(b)), residentWindow*pageSize)
		w := vec[:(n+pageSize-1)/pageSize]
		if err := mincore(b[:n], w); err != nil {
			return false, fmt.Errorf("memory: mincore: %w", err)
		}
		for _, v := range w {
			if v&1 == 0 { // MINCORE_INCORE on macOS and FreeBSD, bit 0 on Linux
				return false, nil
			}
		}
		b = b[n:]
	}
	return true, nil
}
