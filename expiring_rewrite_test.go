package tiermem_test

import (
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestExpiringAfterRewriteWithSameExpiry: a key written twice
// with the same expiry (a Store repeated within the clock's resolution, an
// Update such as APPEND that keeps the key's TTL) is one key with a TTL:
// once that TTL has run out, Expiring counts it as 0, never less (INFO
// keyspace "expires" must not go negative, nor hide other keys' TTLs).
func TestExpiringAfterRewriteWithSameExpiry(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	must(t, m.Store("other", []byte("v"), tiermem.WithTTL(time.Hour)))
	must(t, m.Store("k", []byte("v"), tiermem.WithTTL(time.Second)))
	must(t, m.Store("k", []byte("v"), tiermem.WithTTL(time.Second))) // the same expiry: the clock has not moved
	for range 3 {                                                    // updates keep the TTL: the same expiry again
		must(t, m.Update("k", func(old []byte, found bool) ([]byte, bool, error) {
			return append(old, 'x'), true, nil
		}))
	}
	if got := m.Expiring(); got != 2 {
		t.Fatalf("Expiring before the TTL ran out = %d, want 2", got)
	}
	clock.Advance(2 * time.Second)
	if got := m.Expiring(); got != 1 {
		t.Errorf("Expiring once k's TTL ran out = %d, want 1 (only \"other\")", got)
	}
}
