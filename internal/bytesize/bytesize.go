// Package bytesize parses the byte counts that tiermem's flags, config file
// and CONFIG SET take: "64MiB", "1gb", "4096", with Redis's units.
package bytesize

import (
	"errors"
	"strconv"
	"strings"
)

// units are the suffixes Parse accepts, longest first, with Redis's
// meanings (its config file and CONFIG SET): k, m, g and t are powers of
// 1000, kb, mb, gb and tb powers of 1024, as are KiB, MiB, GiB and TiB.
var units = []struct {
	suffix string
	mul    int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"tb", 1 << 40},
	{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12}, {"b", 1},
}

// Parse parses a byte count: a whole number, optionally followed (spaces
// allowed) by a unit in any case, as Redis reads them: b; k, m, g, t for
// 1000, 1000², 1000³, 1000⁴; kb, mb, gb, tb and KiB, MiB, GiB, TiB for
// powers of 1024. It refuses negative counts and counts of 2^62 bytes or
// more.
func Parse(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mul := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mul = strings.TrimSpace(rest), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n >= (1<<62)/mul {
		return 0, errors.New("want a byte count such as 64MiB, 1gb or 4096, not " + strconv.Quote(s))
	}
	return n * mul, nil
}
