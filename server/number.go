package server

import (
	"math"
	"math/big"
	"strings"
)

// parseInt is Redis's string2ll: a decimal int64 with an optional '-', no
// '+', no blanks and no leading zeros, at most 20 bytes.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) >= 21 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// longDoublePrec is the mantissa of x86's long double, which Redis's
// INCRBYFLOAT computes with.
const longDoublePrec = 64

// maxLongDouble is the largest finite long double, about 1.19e4932.
var maxLongDouble = func() *big.Float {
	f := new(big.Float).SetPrec(longDoublePrec).SetMantExp(big.NewFloat(1), 16384)
	ulp := new(big.Float).SetPrec(longDoublePrec).SetMantExp(big.NewFloat(1), 16384-64)
	return f.Sub(f, ulp)
}()

// parseLongDouble is Redis's string2ld (strtold): a decimal or hex float,
// "inf" or "infinity" in any case, but no leading blank, no NaN, nothing
// after the number and no value out of range. It returns nil when b is not
// one.
func parseLongDouble(b []byte) *big.Float {
	if len(b) == 0 || len(b) >= 5*1024 || isSpace(b[0]) {
		return nil
	}
	s := string(b)
	if strings.ContainsRune(s, '_') {
		return nil // Go's syntax, not C's
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return nil
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		f := new(big.Float).SetInf(s[0] == '-')
		return f
	case "nan":
		return nil
	}
	f, _, err := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Parse(s, 0)
	if err != nil {
		return nil
	}
	abs := new(big.Float).Abs(f)
	if f.IsInf() || abs.Cmp(maxLongDouble) > 0 {
		return nil // strtold's ERANGE to HUGE_VAL
	}
	if abs.Sign() != 0 && abs.Cmp(halfMinLongDouble) <= 0 {
		return nil // strtold's ERANGE to zero, which string2ld refuses too
	}
	return f
}

// halfMinLongDouble is half the smallest long double above zero (a
// subnormal, 2^-16445, about 3.6e-4951): a number no larger rounds to
// zero.
var halfMinLongDouble = new(big.Float).SetPrec(longDoublePrec).SetMantExp(big.NewFloat(1), -16446)

// formatLongDouble prints f as Redis's INCRBYFLOAT does: "%.17Lf" with the
// trailing zeros (and a trailing point) removed, and "-0" as "0".
func formatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		return "0"
	}
	return s
}

// addLongDouble adds two long doubles, rounding as the hardware does, and
// reports whether the sum is finite.
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false // inf + x is inf, inf - inf is NaN: neither is stored
	}
	sum := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(a, b)
	if new(big.Float).Abs(sum).Cmp(maxLongDouble) > 0 {
		return nil, false
	}
	return sum, true
}
