package hashflood_test

import (
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/internal/hashflood"
)

func TestXXH64KeysAreDistinctAndCollide(t *testing.T) {
	want := xxhash.Sum64String(hashflood.XXH64(0))
	seen := map[string]bool{}
	for i := range uint64(1000) {
		k := hashflood.XXH64(i)
		if seen[k] {
			t.Fatalf("key %d repeats an earlier one", i)
		}
		seen[k] = true
		if got := xxhash.Sum64String(k); got != want {
			t.Fatalf("key %d hashes to %x, key 0 to %x", i, got, want)
		}
	}
}
