package tiermem_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestMissErrorNamesTheKey: a miss is ErrNotFound, its message names the
// key as the caller passed it (also after the caller reuses the key's
// bytes) and says when the key expired.
func TestMissErrorNamesTheKey(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	key := []byte("absent")
	_, err := m.RetrieveAppendBytes(nil, key)
	copy(key, "reused")
	if !errors.Is(err, tiermem.ErrNotFound) || err.Error() != `tiermem: key not found: "absent"` {
		t.Errorf("a miss: %v", err)
	}
	if err := m.Delete("absent"); !errors.Is(err, tiermem.ErrNotFound) || err.Error() != `tiermem: key not found: "absent"` {
		t.Errorf("a Delete of an absent key: %v", err)
	}
	must(t, m.Store("k", []byte("v"), tiermem.WithTTL(time.Second)))
	clock.Advance(time.Second)
	if _, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) || err.Error() != `tiermem: key not found: "k" (expired)` {
		t.Errorf("a read of an expired key: %v", err)
	}
}
