// Package bytesize parses the byte counts that tiermem's flags, config file
// and CONFIG SET take: "64MiB", "1g", "4096".
package bytesize

import (
	"errors"
	"strconv"
	"strings"
)

// units are the suffixes Parse accepts, powers of 1024, longest first.
var units = []struct {
	suffix string
	shift  uint
}{
	{"kib", 10}, {"mib", 20}, {"gib", 30}, {"tib", 40},
	{"kb", 10}, {"mb", 20}, {"gb", 30}, {"tb", 40},
	{"k", 10}, {"m", 20}, {"g", 30}, {"t", 40}, {"b", 0},
}

// Parse parses a byte count: a whole number, optionally followed (spaces
// allowed) by a unit in any case, every one a power of 1024: b, k or kb or
// KiB, m/mb/MiB, g/gb/GiB, t/tb/TiB. It refuses negative counts and counts
// of 2^62 bytes or more.
func Parse(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	shift := uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n >= (1<<62)>>shift {
		return 0, errors.New("want a byte count such as 64MiB, 1GiB or 4096, not " + strconv.Quote(s))
	}
	return n << shift, nil
}
