package heap

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// TestReadsRacingCloseNeverMissAKey: a key present before Close reads as
// itself or ErrClosed while Close runs and after, never ErrNotFound, with
// Puts and Deletes of other keys racing (the count they move is what the
// lock-free look reads).
func TestReadsRacingCloseNeverMissAKey(t *testing.T) {
	for round := range 200 {
		var s *Store
		if round%2 == 0 {
			s = New()
		} else {
			var err error
			if s, err = NewWithPolicy(PolicyOptions{Capacity: 1 << 20}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Put("keep", []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprint("o", i%5)
				s.Put(k, []byte("x"), nil)
				s.Delete(k)
			}
		})
		closed := make(chan struct{})
		wg.Go(func() {
			after := false
			for !stop.Load() {
				select {
				case <-closed:
					after = true
				default:
				}
				err := s.ViewMetaTouch("keep", func(_, _ []byte) error { return nil })
				if errors.Is(err, tier.ErrNotFound) {
					t.Errorf("round %d: present key read ErrNotFound (after Close returned: %v)", round, after)
					return
				}
				if after && !errors.Is(err, tier.ErrClosed) {
					t.Errorf("round %d: after Close: %v", round, err)
					return
				}
				if after {
					return
				}
			}
		})
		for range round % 50 * 100 {
			s.Len()
		}
		s.Close()
		close(closed)
		// An empty closed store says ErrClosed too.
		if err := s.ViewMeta("nothing", func(_, _ []byte) error { return nil }); !errors.Is(err, tier.ErrClosed) {
			t.Errorf("round %d: ViewMeta after Close = %v", round, err)
		}
		stop.Store(true)
		wg.Wait()
	}
}
