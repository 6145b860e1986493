// Package procstatus reads the memory figures Linux gives a process in
// /proc/self/status (VmHWM, VmRSS, RssAnon, RssFile, ...), for the tests
// and benchmarks that measure what an operation costs in resident memory.
package procstatus

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Bytes returns the figures named by fields (without their colon, such as
// "VmHWM"), which the file gives in kB, in bytes, in the order asked. It
// fails where there is no /proc (not Linux), with ErrNoField for a field
// the file does not have, and names any line it cannot read.
func Bytes(fields ...string) ([]int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("procstatus: %w", err)
	}
	out := make([]int64, len(fields))
	found := 0
	// Whole lines, however long: a "Groups:" line of thousands of groups
	// passes any fixed buffer, and comes before every Vm* and Rss* line.
	for line := range bytes.Lines(status) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		for i, f := range fields {
			if string(name) != f {
				continue
			}
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("procstatus: the line %q: %w", line, err)
			}
			out[i] = kb << 10
			found++
		}
	}
	if found < len(fields) {
		return nil, fmt.Errorf("%w: one of %q", ErrNoField, fields)
	}
	return out, nil
}
