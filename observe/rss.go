package observe

import (
	"bytes"
	"math"
	"os"
	"strconv"
)

// pageSize converts /proc/self/statm's pages to bytes.
var pageSize = int64(os.Getpagesize())

// readRSS returns the resident set size of the process from
// /proc/self/statm, or 0 where there is no /proc (macOS, FreeBSD without
// linprocfs).
func readRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	return statmBytes(b, pageSize)
}

// statmBytes returns statm's resident pages in bytes, or 0 where that
// overflows (no machine has that many bytes: it is not a resident set).
func statmBytes(b []byte, pageSize int64) int64 {
	pages := parseStatm(b)
	if pageSize <= 0 || pages > math.MaxInt64/pageSize {
		return 0
	}
	return pages * pageSize
}

// parseStatm returns the second field of statm (resident pages), or 0.
func parseStatm(b []byte) int64 {
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return 0
	}
	n, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// parseMemTotal returns the "MemTotal: N kB" line's N in bytes, or 0.
func parseMemTotal(b []byte) int64 {
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) >= 2 && string(f[0]) == "MemTotal:" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil || kb < 0 || kb >= 1<<53 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
