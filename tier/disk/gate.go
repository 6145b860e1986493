package disk

import (
	"sync"
	"sync/atomic"
)

// gate lets operations in until it is closed, and lets close wait for
// those in flight. Entering and leaving cost one atomic add each. A closed
// gate can be opened again (a Close that failed). Call init before use;
// close and open must not run concurrently with each other (the Store
// serializes them under closeMu).
type gate struct {
	n atomic.Int64 // operations in flight, plus closedBit while closed

	mu       sync.Mutex    // protects the fields below
	idle     chan struct{} // closed once the gate is closed and nothing is in flight
	idleDone bool          // idle is closed
}

const closedBit = 1 << 62

func (g *gate) init() { g.idle = make(chan struct{}) }

// enter admits an operation, or reports false once the gate is closed.
func (g *gate) enter() bool {
	if g.n.Add(1)&closedBit != 0 {
		g.leave()
		return false
	}
	return true
}

// leave ends an operation that enter admitted.
func (g *gate) leave() {
	if g.n.Add(-1) == closedBit {
		g.signalIdle()
	}
}

// signalIdle closes idle if the gate is closed with nothing in flight. It
// checks under mu, so that a leave racing with open never closes the
// channel of the gate's next closing.
func (g *gate) signalIdle() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n.Load() == closedBit && !g.idleDone {
		close(g.idle)
		g.idleDone = true
	}
}

// close shuts the gate and waits for the operations in flight; it reports
// false if the gate was already closed.
func (g *gate) close() bool {
	if g.n.Or(closedBit)&closedBit != 0 {
		return false
	}
	g.signalIdle()
	g.mu.Lock()
	idle := g.idle
	g.mu.Unlock()
	<-idle
	return true
}

// open lets operations in again after close.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.idle, g.idleDone = make(chan struct{}), false
	g.n.Add(-closedBit)
}
