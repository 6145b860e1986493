// Package dataset makes the synthetic key/value records of the bundle
// benchmarks: n records with 16-byte keys ("key:" and 12 zero-padded digits)
// and 32-byte values unique to each key, yielded in a scrambled order
// without holding a permutation in memory, so that sets of any size cost no
// RAM to produce.
package dataset

import "encoding/binary"

// KeySize and ValueSize are the sizes of every key and value.
const KeySize, ValueSize = 16, 32

// step scrambles the order: j*step mod n is a bijection of [0, n) for any n
// below step, a prime.
const step = 1_000_000_007

// Key writes the key of record i into dst and returns it.
func Key(dst []byte, i int) []byte {
	dst = append(dst[:0], "key:000000000000"...)
	for j := len(dst) - 1; i > 0; j-- {
		dst[j] = byte('0' + i%10)
		i /= 10
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

// Scrambled yields the n records, record j*step mod n at turn j. The slices
// are reused from one record to the next.
func Scrambled(n int) func(yield func(key, value []byte) bool) {
	return func(yield func([]byte, []byte) bool) {
		var k, v [ValueSize]byte
		for j := range n {
			i := j * step % n
			if !yield(Key(k[:], i), Value(v[:], i)) {
				return
			}
		}
	}
}
