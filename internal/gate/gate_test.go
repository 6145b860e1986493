package gate_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/gate"
)

func TestZeroValueIsOpen(t *testing.T) {
	var g gate.Gate
	tok, ok := g.Enter()
	if !ok {
		t.Fatal("Enter on a zero Gate = false, want true")
	}
	g.Leave(tok)
	if !g.Close() {
		t.Fatal("first Close = false")
	}
	if g.Close() {
		t.Fatal("second Close = true, want false")
	}
	if _, ok := g.Enter(); ok {
		t.Fatal("Enter after Close = true")
	}
	g.Reopen()
	if _, ok := g.Enter(); !ok {
		t.Fatal("Enter after Reopen = false")
	}
}

// TestCloseWaitsForOperations checks that no operation is still inside the
// gate when Close returns, and that none enters after it.
func TestCloseWaitsForOperations(t *testing.T) {
	for round := 0; round < 200; round++ {
		var g gate.Gate
		var inside, closedDone atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					tok, ok := g.Enter()
					if !ok {
						return
					}
					inside.Add(1)
					if closedDone.Load() != 0 {
						t.Error("an operation ran inside the gate after Close returned")
					}
					time.Sleep(time.Microsecond)
					inside.Add(-1)
					g.Leave(tok)
				}
			}()
		}
		time.Sleep(20 * time.Microsecond)
		g.Close()
		if n := inside.Load(); n != 0 {
			t.Fatalf("round %d: %d operations inside the gate after Close", round, n)
		}
		closedDone.Store(1)
		wg.Wait()
	}
}

func BenchmarkEnterLeave(b *testing.B) {
	var g gate.Gate
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok, _ := g.Enter()
			g.Leave(tok)
		}
	})
}
