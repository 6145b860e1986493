package object_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// TestCloseWhilePutsRun: Close while goroutines Put into a slow bucket,
// with packs sealing and uploading in the background. Close waits for the
// Puts in flight and the uploads; every Put that returned nil is found
// after reopening, and every Put after Close returned ErrClosed.
func TestCloseWhilePutsRun(t *testing.T) {
	for round := range 5 {
		dir := t.TempDir()
		f := newFaulty(mustDir(t, dir))
		f.inject(rule{op: "put", fault: delay, times: -1})
		o := quick()
		o.PackSize = 4 << 10
		s := mustOpen(t, f, o)
		const writers = 4
		acked := make([]map[string][]byte, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range writers {
			acked[g] = map[string][]byte{}
			wg.Go(func() {
				<-start
				for i := 0; ; i++ {
					k := fmt.Sprintf("w%d-%d", g, i%50)
					v := value(g*1000 + i)
					_, err := s.Put(k, v, []byte(k))
					if errors.Is(err, tier.ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Put while Close runs: %v", err)
						return
					}
					acked[g][k] = v
				}
			})
		}
		close(start)
		for s.Len() < int64(10*(round+1)) && !t.Failed() {
			runtime.Gosched() // let the writers fill a few packs first
		}
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: Close while Puts run: %v", round, err)
		}
		wg.Wait()
		if _, err := s.Put("late", []byte("v"), nil); !errors.Is(err, tier.ErrClosed) {
			t.Fatalf("Put after Close = %v, want ErrClosed", err)
		}
		s = mustOpen(t, mustDir(t, dir), o)
		for g := range writers {
			for k, v := range acked[g] {
				got, err := get(s, k)
				if err != nil || string(got) != string(v) {
					t.Fatalf("round %d: %s after reopening: %d bytes, %v; want the %d acknowledged", round, k, len(got), err, len(v))
				}
			}
		}
		mustClose(t, s)
	}
}
