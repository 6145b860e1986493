package npy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// fixedSizes are the item sizes, in bytes, that NumPy gives each kind of
// number: a descr of kind 'f' with size 8 is "<f8", a float64. f16 and c32
// are long double and its complex.
var fixedSizes = map[byte][]int{
	'b': {1},
	'i': {1, 2, 4, 8},
	'u': {1, 2, 4, 8},
	'f': {2, 4, 8, 16},
	'c': {8, 16, 32},
}

// timeUnits are the units of a datetime64 or timedelta64 descr ("<M8[ns]").
var timeUnits = []string{"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"}

// itemSize returns the bytes of one element of descr, a NumPy type string: a
// byte order ('<', '>', '=' or '|') and then one of
//
//	b1, i1 … i8, u1 … u8, f2 … f16, c8 … c32   numbers of that many bytes
//	SN, VN                                     N bytes (N ≥ 1)
//	UN                                         N UCS-4 code points: 4N bytes
//	M8, m8, M8[unit], m8[unit]                 datetime64, timedelta64: 8 bytes
//
// where unit is a time unit (Y … as) with an optional multiplier ("10ns").
// Any other descr (objects, structured types) is an error wrapping
// ErrInvalid: Write cannot check its data.
func itemSize(descr string) (int, error) {
	if len(descr) < 3 || !strings.ContainsRune("<>=|", rune(descr[0])) {
		return 0, descrError(descr)
	}
	kind, rest := descr[1], descr[2:]
	switch kind {
	case 'S', 'V', 'U':
		return flexibleSize(descr, kind, rest)
	case 'M', 'm':
		return timeSize(descr, rest)
	}
	n, ok := parseCount(rest)
	if !ok || !slices.Contains(fixedSizes[kind], n) {
		return 0, descrError(descr)
	}
	return n, nil
}

// parseCount parses the decimal count of a descr: digits without a sign or a
// leading zero, at most 9 of them, so that 4 times it fits an int32.
func parseCount(s string) (int, bool) {
	if s == "" || len(s) > 9 || s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// flexibleSize returns the item size of a bytes (S), void (V) or unicode (U)
// descr of count rest.
func flexibleSize(descr string, kind byte, rest string) (int, error) {
	n, ok := parseCount(rest)
	if !ok {
		return 0, descrError(descr)
	}
	if kind == 'U' {
		return 4 * n, nil // UCS-4
	}
	return n, nil
}

// timeSize returns the item size of a datetime64 or timedelta64 descr whose
// text after the kind is rest: "8" or "8[unit]".
func timeSize(descr, rest string) (int, error) {
	if rest == "8" {
		return 8, nil
	}
	unit, ok := strings.CutPrefix(rest, "8[")
	if unit, ok2 := strings.CutSuffix(unit, "]"); ok && ok2 && validUnit(unit) {
		return 8, nil
	}
	return 0, descrError(descr)
}

// validUnit reports whether unit is a time unit with an optional decimal
// multiplier.
func validUnit(unit string) bool {
	name := strings.TrimLeft(unit, "0123456789")
	return slices.Contains(timeUnits, name)
}

func descrError(descr string) error {
	return fmt.Errorf("%w: descr %q is not a type string Write knows the item size of", ErrInvalid, descr)
}
