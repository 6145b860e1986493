package tiermem_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestRefusedWriteMovesNothing: a conditional write whose
// condition fails "stores nothing" (OnlyIf; an HTTP 412 "changes
// nothing"): it must not demote the key, nor other keys, out of their
// tier to make room for a value it never stores. A create-only client
// (If-None-Match: *) retrying against a present key would otherwise
// drain the hot tier with every refusal.
func TestRefusedWriteMovesNothing(t *testing.T) {
	m := open(t, nil) // hot: 1 MiB
	keys := []string{"a", "b", "c", "d"}
	for i, key := range keys {
		must(t, m.Store(key, seededNoise(200<<10, byte(i+1)), tiermem.InTier(tiermem.Hot)))
	}
	createOnly := tiermem.OnlyIf(func(c *tiermem.Current) error {
		if c.Found() {
			return errStale
		}
		return nil
	})
	big := seededNoise(600<<10, 9)
	for _, store := range []func() error{
		func() error { return m.Store("a", big, createOnly) },
		func() error { return m.Store("a", big, createOnly, tiermem.InTier(tiermem.Hot)) },
	} {
		if err := store(); !errors.Is(err, errStale) {
			t.Fatalf("a create-only Store over a present key: %v, want the condition's error", err)
		}
	}
	var moved []string
	for _, key := range keys {
		if tr := tierOf(t, m, key); tr != tiermem.Hot {
			moved = append(moved, fmt.Sprint(key, " to ", tr))
		}
	}
	if len(moved) > 0 {
		t.Errorf("refused conditional Stores demoted %v out of the hot tier", moved)
	}
}
