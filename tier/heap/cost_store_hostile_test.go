package heap_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
)

func TestHostileHeapPolicyAfterClose(t *testing.T) {
	s := rvStores(t)["policy"]
	s.Put("a", []byte("x"), nil)
	s.Close()
	if err := s.IdleSince(time.Now().Add(time.Hour), func(string) bool { return true }); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("IdleSince after Close: %v, want ErrClosed", err)
	}
	if err := s.ViewMetaTouch("a", func(v, m []byte) error { return nil }); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("ViewMetaTouch after Close: %v", err)
	}
	if err := s.SetPolicy(0, 100); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("SetPolicy after Close: %v", err)
	}
}

func TestHostileHeapCostOverflow(t *testing.T) {
	for name, s := range rvStores(t) {
		for _, c := range [][3]int{{1, 1<<63 - 1, 0}, {1, 1<<63 - 80, 0}, {10, 10, 1<<63 - 1}} {
			if got := s.Cost(c[0], c[1], c[2]); got < int64(c[1]) || got < int64(c[2]) {
				t.Errorf("%s: Cost%v = %d: below the value's own size", name, c, got)
			}
		}
		s.Close()
	}
}
