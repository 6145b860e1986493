// Package dataset makes the synthetic key/value records of the bundle
// benchmarks: n records with 16-byte keys and 32-byte values unique to each
// key, yielded in a scrambled order without holding a permutation in memory,
// so that sets of any size cost no RAM to produce.
package dataset

import "encoding/binary"

// KeySize and ValueSize are the sizes of every key and value.
const KeySize, ValueSize = 16, 32

// narrowKeys is the number of keys written in decimal: 12 digits.
const narrowKeys = 1_000_000_000_000

// wideDigits are the 62 digits of the keys beyond narrowKeys, in ASCII
// order, so that such keys sort as their numbers do.
const wideDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Key writes the key of record i into dst and returns it: always KeySize
// bytes, distinct for every i. Records 0 to 10^12-1 are "key:" and i in 12
// zero-padded decimal digits ("key:000000000042"). Any other i, beyond 12
// digits or negative, is "key~" and uint64(i) in 12 base-62 digits (0-9, A-Z,
// a-z). '~' follows ':' in ASCII, so keys sort as their non-negative i do.
func Key(dst []byte, i int) []byte {
	if i >= 0 && i < narrowKeys {
		return appendDigits(append(dst[:0], "key:"...), uint64(i), "0123456789")
	}
	return appendDigits(append(dst[:0], "key~"...), uint64(i), wideDigits)
}

// appendDigits appends v in 12 digits of the base len(digits), zero-padded.
// 62^12 > 2^64, so base 62 holds every uint64 and base 10 every v < 10^12.
func appendDigits(dst []byte, v uint64, digits string) []byte {
	dst = append(dst, "000000000000"...)
	base := uint64(len(digits))
	for j := len(dst) - 1; v > 0; j-- {
		dst[j] = digits[v%base]
		v /= base
	}
	return dst
}

// Value writes the value of record i into dst and returns it.
func Value(dst []byte, i int) []byte {
	dst = dst[:0]
	for j := range ValueSize / 8 {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(i)*0x9e3779b97f4a7c15+uint64(j))
	}
	return dst
}

// step scrambles the order: record j*step mod n comes at turn j, which is a
// permutation of [0, n) whenever step and n are coprime. It is a prime, so it
// is coprime to every n it does not divide; stride picks another for those.
const step = 1_000_000_007

// Scrambled yields the n records, each once, for any n ≥ 0: record j*s mod n
// at turn j, where s is step, or the first number above it coprime to n. The
// slices are reused from one record to the next.
func Scrambled(n int) func(yield func(key, value []byte) bool) {
	return func(yield func([]byte, []byte) bool) {
		var k, v [ValueSize]byte
		d := stride(uint64(max(n, 1)))
		for i, j := uint64(0), 0; j < n; j++ {
			if !yield(Key(k[:], int(i)), Value(v[:], int(i))) {
				return
			}
			i += d // i and d are below n, so the sum does not overflow
			if i >= uint64(n) {
				i -= uint64(n)
			}
		}
	}
}

// stride returns s mod n, for the first s ≥ step coprime to n: the distance
// between records of consecutive turns.
func stride(n uint64) uint64 {
	s := uint64(step)
	for gcd(s, n) != 1 {
		s++
	}
	return s % n
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
