// Package hashflood builds keys that collide under a public hash function,
// as an attacker would, for the tests that check a table does not let
// them pile into one place. It is for tests only.
package hashflood

import (
	"encoding/binary"
	"math/bits"
)

// XXH64 returns the i-th of 2^64 distinct 64-byte keys that all have one
// and the same xxhash64 (seed 0), at no search cost: each of XXH64's lane
// rounds is a bijection of its accumulator, so the second stripe's first
// lane can be solved to undo any change to the first stripe's first lane.
func XXH64(i uint64) string {
	const p1, p2 uint64 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F
	inverse := func(a uint64) uint64 { // of an odd number, mod 2^64 (Newton)
		x := a
		for range 6 {
			x *= 2 - a*x
		}
		return x
	}
	round := func(acc, lane uint64) uint64 { return bits.RotateLeft64(acc+lane*p2, 31) * p1 }
	v1 := p1
	v1 += p2 // lane 1's accumulator at seed 0 (wrapping)
	target := round(round(v1, 0), 0)
	b := make([]byte, 64)
	binary.LittleEndian.PutUint64(b[0:], i)
	binary.LittleEndian.PutUint64(b[32:], (bits.RotateLeft64(target*inverse(p1), -31)-round(v1, i))*inverse(p2))
	return string(b)
}
