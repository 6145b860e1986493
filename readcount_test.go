package tiermem_test

import (
	"errors"
	"testing"

	"github.com/tiermem/tiermem"
)

func TestReadCountAndDurability(t *testing.T) {
	m := open(t, nil)
	if _, err := m.ReadCount("nokey"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("ReadCount of no key: %v", err)
	}
	must(t, m.Store("k", []byte("v"), tiermem.InTier(tiermem.Cold)))
	for range 3 {
		_, err := m.Retrieve("k")
		must(t, err)
	}
	if n, err := m.ReadCount("k"); err != nil || n < 3 {
		t.Fatalf("ReadCount after 3 reads: %d, %v", n, err)
	}
	if d := m.Durability(); d != tiermem.None {
		t.Fatalf("Durability %v, want None", d)
	}
}
