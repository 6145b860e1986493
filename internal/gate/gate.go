// Package gate lets operations into an object until it closes, and lets the
// closer wait for the operations in flight: Close is a gate, not a flag.
// Quiesce waits for the operations in flight without stopping new ones: a
// setting changed before it is seen by every operation after it.
//
// Entering and leaving cost one atomic add each on one of several counters
// spread over cache lines, so that goroutines on different cores rarely
// touch the same line. Closing and quiescing are rare and may poll.
package gate

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// stripes is the number of in-flight counters: enough that two cores
// seldom share one.
const stripes = 32

// Gate admits operations until Close. The zero value is an open gate. A Gate
// is safe for concurrent use and must not be copied after first use.
type Gate struct {
	closed atomic.Bool
	// epoch is the counters' half new operations count themselves in;
	// Quiesce flips it and waits for the other half to empty.
	epoch atomic.Uint32
	count [2][stripes]counter
}

// counter is one stripe's operations in flight, alone on its cache line.
type counter struct {
	n atomic.Int64
	_ [56]byte
}

// Token is what Enter hands out and Leave takes back: the counter the
// operation counted itself in. Token%32 spreads goroutines as stripe does.
type Token uint8

// Enter admits an operation and returns its token, or reports false once
// the gate is closed.
func (g *Gate) Enter() (Token, bool) {
	t := stripe()
	for {
		e := g.epoch.Load()
		c := &g.count[e][t].n
		c.Add(1)
		if g.closed.Load() {
			c.Add(-1)
			return 0, false
		}
		if g.epoch.Load() == e {
			return Token(e*stripes) + t, true
		}
		c.Add(-1) // a Quiesce flipped the epoch meanwhile: count in the new half
	}
}

// stripe picks a counter for the calling goroutine: from the address of a
// local variable, which lies in the goroutine's own stack, so that
// goroutines spread over the stripes without a shared random source.
func stripe() Token {
	var local byte
	return Token((uintptr(unsafe.Pointer(&local)) >> 12) % stripes)
}

// Leave ends an operation that Enter admitted with token t.
func (g *Gate) Leave(t Token) { g.count[t/stripes][t%stripes].n.Add(-1) }

// Quiesce waits until every operation that entered before it was called
// has left; operations that enter meanwhile neither wait nor are waited
// for. So a setting stored before Quiesce is seen by every operation in
// flight once it returns (an operation that read the old one has left).
// Calls of Quiesce (and Close) must not overlap, and an operation inside
// the gate must not call it, but QuiesceInside: it would wait for itself.
func (g *Gate) Quiesce() {
	old := g.epoch.Load()
	g.epoch.Store(1 - old)
	g.wait(&g.count[old], 0)
}

// QuiesceInside is Quiesce for an operation inside the gate, which holds
// t: it waits for every other operation that entered before it.
func (g *Gate) QuiesceInside(t Token) {
	old := g.epoch.Load()
	g.epoch.Store(1 - old)
	var self int64
	if uint32(t/stripes) == old {
		self = 1
	}
	g.wait(&g.count[old], self)
}

// Close shuts the gate and waits until the operations in flight have left;
// it reports false if the gate was already closed. An operation must not
// call Close while it is inside the gate: Close would wait for itself.
func (g *Gate) Close() bool {
	if g.closed.Swap(true) {
		return false
	}
	g.drain()
	return true
}

// drain waits until no operation is in flight. Since Enter counts itself
// before it looks at the flag and Close sets the flag before it looks at
// the counts, every operation either sees the gate closed or is seen here.
// (Quiesce relies on the same order for the epoch.)
func (g *Gate) drain() {
	g.wait(&g.count[0], 0)
	g.wait(&g.count[1], 0)
}

// wait polls one half of the counters, with a growing pause, until only
// the caller's own operations (self of them) are left in it.
func (g *Gate) wait(half *[stripes]counter, self int64) {
	pause := time.Microsecond
	for inFlight(half) > self {
		time.Sleep(pause)
		pause = min(2*pause, time.Millisecond)
	}
}

func inFlight(half *[stripes]counter) int64 {
	var n int64
	for i := range half {
		n += half[i].n.Load()
	}
	return n
}

// Reopen opens a gate that Close closed, for an owner whose Close failed
// and who keeps serving.
func (g *Gate) Reopen() { g.closed.Store(false) }

// Closed reports whether the gate is closed.
func (g *Gate) Closed() bool { return g.closed.Load() }
