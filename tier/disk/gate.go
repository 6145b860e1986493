package disk

import (
	"sync"
	"sync/atomic"
)

// gate lets operations in until Close, and lets Close wait for those in
// flight. Entering and leaving cost one atomic add each. Call init before
// use.
type gate struct {
	n    atomic.Int64  // operations in flight, plus closedBit once closed
	idle chan struct{} // closed when n reaches closedBit
	once sync.Once     // closes idle
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
		g.once.Do(func() { close(g.idle) })
	}
}

// close shuts the gate and waits for the operations in flight; it reports
// false if the gate was already closed.
func (g *gate) close() bool {
	old := g.n.Or(closedBit)
	if old&closedBit != 0 {
		return false
	}
	if old == 0 {
		g.once.Do(func() { close(g.idle) })
	}
	<-g.idle
	return true
}
