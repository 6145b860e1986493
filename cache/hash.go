package cache

import (
	"hash/maphash"

	"github.com/cespare/xxhash/v2"
)

// fallbackSeed seeds the hash of key types that hashKey does not know.
var fallbackSeed = maphash.MakeSeed()

// hashKey returns a well-mixed 64-bit hash of key. Integer and string keys hash
// the same in every process, so simulations are reproducible; other comparable
// types use hash/maphash with a per-process seed.
func hashKey[K comparable](key K) uint64 {
	switch k := any(key).(type) {
	case uint64:
		return rehash(k)
	case int64:
		return rehash(uint64(k))
	case int:
		return rehash(uint64(k))
	case uint32:
		return rehash(uint64(k))
	case int32:
		return rehash(uint64(k))
	case uint:
		return rehash(uint64(k))
	case string:
		return xxhash.Sum64String(k)
	}
	return maphash.Comparable(fallbackSeed, key)
}
