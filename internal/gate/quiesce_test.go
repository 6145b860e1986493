package gate_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/gate"
)

// TestQuiesceWaitsForOperationsThatSawTheOldSetting changes a setting,
// Quiesces, and checks that no operation that read the old setting is still
// inside the gate: the promise the Manager's runtime settings build on.
func TestQuiesceWaitsForOperationsThatSawTheOldSetting(t *testing.T) {
	var g gate.Gate
	var setting atomic.Int64
	// inside[v] counts operations inside that read setting v.
	var inside [200]atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				tok, ok := g.Enter()
				if !ok {
					t.Error("Enter refused on an open gate")
					return
				}
				v := setting.Load()
				inside[v].Add(1)
				time.Sleep(time.Microsecond)
				inside[v].Add(-1)
				g.Leave(tok)
			}
		})
	}
	for v := int64(1); v < int64(len(inside)); v++ {
		setting.Store(v)
		g.Quiesce()
		for old := range v {
			if n := inside[old].Load(); n != 0 {
				t.Fatalf("after Quiesce for setting %d, %d operations that read %d are inside", v, n, old)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
}

// TestQuiesceDoesNotBlockNewOperations holds one operation inside while a
// Quiesce waits for it: others still enter and leave, and Quiesce returns
// once the held one leaves.
func TestQuiesceDoesNotBlockNewOperations(t *testing.T) {
	var g gate.Gate
	held, _ := g.Enter()
	done := make(chan struct{})
	go func() {
		g.Quiesce()
		close(done)
	}()
	for range 1000 {
		tok, ok := g.Enter()
		if !ok {
			t.Fatal("Enter refused while a Quiesce waits")
		}
		g.Leave(tok)
	}
	select {
	case <-done:
		t.Fatal("Quiesce returned while an operation that entered before it was inside")
	case <-time.After(20 * time.Millisecond):
	}
	g.Leave(held)
	<-done
	// Close waits for operations of both halves: a in one, b in the other.
	a, _ := g.Enter()
	quiesced := make(chan struct{})
	go func() { g.Quiesce(); close(quiesced) }()
	time.Sleep(5 * time.Millisecond) // the epoch has flipped, mostly: b counts in the other half
	b, _ := g.Enter()
	closed := make(chan struct{})
	go func() { g.Close(); close(closed) }()
	g.Leave(a)
	select {
	case <-closed:
		t.Fatal("Close returned with an operation inside")
	case <-time.After(20 * time.Millisecond):
	}
	g.Leave(b)
	<-closed
	<-quiesced
}

// TestQuiesceInsideDoesNotWaitForItself: an operation inside the gate
// quiesces it, waiting for the others that entered before, not for itself.
func TestQuiesceInsideDoesNotWaitForItself(t *testing.T) {
	for _, flips := range []int{0, 1} { // the caller's token in either half
		var g gate.Gate
		for range flips {
			g.Quiesce()
		}
		other, _ := g.Enter()
		self, _ := g.Enter()
		done := make(chan struct{})
		go func() { g.QuiesceInside(self); close(done) }()
		select {
		case <-done:
			t.Fatal("QuiesceInside returned while another operation that entered before was inside")
		case <-time.After(20 * time.Millisecond):
		}
		g.Leave(other)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("QuiesceInside waits for its own operation")
		}
		g.Leave(self)
		if !g.Close() {
			t.Fatal("Close after QuiesceInside")
		}
	}
}
