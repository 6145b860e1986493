package heap

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdleBoundHoldsUnderConcurrency stresses IdleSince against
// concurrent Puts (new, same-size, resized, pinned, unpinned), Touches,
// Deletes and other IdleSince calls whose fn deletes, keeps, pins or stops,
// under a clock that moves a millisecond at every call. Once everything
// has stopped, activeFrom must be at or below the word of every choosable
// entry: otherwise an IdleSince whose cut lies between them skips a key a
// scan would hand out.
func TestIdleBoundHoldsUnderConcurrency(t *testing.T) {
	for round := range 20 {
		var tick atomic.Int64
		base := time.Unix(1e9, 0)
		now := func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Millisecond) }
		s, err := NewWithPolicy(PolicyOptions{Capacity: 1 << 20, Now: now,
			Exempt: func(m []byte) bool { return string(m) == "pin" }})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				for range 3000 {
					key := fmt.Sprint("k", r.IntN(64))
					switch op := r.IntN(10); {
					case op < 3:
						var meta []byte
						if r.IntN(5) == 0 {
							meta = []byte("pin")
						}
						s.Put(key, make([]byte, 8*(1+r.IntN(2))), meta)
					case op < 6:
						s.Touch(key)
					case op < 7:
						s.Delete(key)
					default:
						back := time.Duration(r.IntN(int(tick.Load())+1)) * time.Millisecond
						s.IdleSince(now().Add(-back), func(k string) bool {
							switch r.IntN(4) {
							case 0:
								s.Delete(k)
							case 1:
								s.Put(k, make([]byte, 8), []byte("pin"))
							case 2:
								return r.IntN(8) != 0
							}
							return true
						})
					}
				}
			}()
		}
		wg.Wait()
		bound := s.policy.activeFrom.Load()
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.RLock()
			sh.values.each(func(e slot) bool {
				if w := e.word().Load(); !s.policy.isExempt(e) && w < bound {
					t.Errorf("round %d: %s last used at tick %d, below the bound at tick %d: IdleSince skips it",
						round, e.key(), w-base.UnixNano(), bound-base.UnixNano())
				}
				return true
			})
			sh.mu.RUnlock()
		}
		s.Close()
	}
}
