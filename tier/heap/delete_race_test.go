package heap_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

// TestDeleteRacingCloseAndPut: a Delete of a key present before
// Close answers nil or ErrClosed while Close runs, never ErrNotFound; after
// Close every Delete is ErrClosed; and Deletes racing Puts of the same key
// leave the store's Len equal to the keys a Scan finds.
func TestDeleteRacingCloseAndPut(t *testing.T) {
	for round := range 200 {
		s := heap.New()
		if _, err := s.Put("keep", []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 50 {
				k := fmt.Sprint("x", i%4)
				s.Put(k, []byte("v"), nil)
				s.Delete(k)
			}
		})
		wg.Go(func() {
			if _, err := s.Delete("keep"); err != nil && !errors.Is(err, tier.ErrClosed) {
				t.Errorf("round %d: Delete of a present key during Close = %v", round, err)
			}
		})
		wg.Go(func() { s.Close() })
		wg.Wait()
		for _, k := range []string{"keep", "x0", "none"} {
			if _, err := s.Delete(k); !errors.Is(err, tier.ErrClosed) {
				t.Errorf("round %d: Delete(%q) after Close = %v, want ErrClosed", round, k, err)
			}
		}
	}
	s := heap.New()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint("k", i%3)
				if (i+g)%2 == 0 {
					s.Put(k, []byte("v"), nil)
				} else {
					s.Delete(k)
				}
			}
		})
	}
	wg.Wait()
	n := int64(0)
	s.Scan(func(string, []byte, int64) error { n++; return nil })
	if n != s.Len() {
		t.Errorf("Len %d, Scan finds %d keys", s.Len(), n)
	}
}
