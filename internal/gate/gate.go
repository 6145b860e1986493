// Package gate lets operations into an object until it closes, and lets the
// closer wait for the operations in flight: Close is a gate, not a flag.
//
// Entering and leaving cost one atomic add each on one of several counters
// spread over cache lines, so that goroutines on different cores rarely
// touch the same line. Closing is rare and may poll.
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
	count  [stripes]counter
}

// counter is one stripe's operations in flight, alone on its cache line.
type counter struct {
	n atomic.Int64
	_ [56]byte
}

// Token is what Enter hands out and Leave takes back.
type Token uint8

// Enter admits an operation and returns its token, or reports false once
// the gate is closed.
func (g *Gate) Enter() (Token, bool) {
	t := stripe()
	g.count[t].n.Add(1)
	if g.closed.Load() {
		g.count[t].n.Add(-1)
		return 0, false
	}
	return t, true
}

// stripe picks a counter for the calling goroutine: from the address of a
// local variable, which lies in the goroutine's own stack, so that
// goroutines spread over the stripes without a shared random source.
func stripe() Token {
	var local byte
	return Token((uintptr(unsafe.Pointer(&local)) >> 12) % stripes)
}

// Leave ends an operation that Enter admitted with token t.
func (g *Gate) Leave(t Token) { g.count[t].n.Add(-1) }

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

// drain waits until no operation is in flight, polling with a growing pause.
// Since Enter counts itself before it looks at the flag and Close sets the
// flag before it looks at the counts, every operation either sees the gate
// closed or is seen here.
func (g *Gate) drain() {
	pause := time.Microsecond
	for g.inFlight() > 0 {
		time.Sleep(pause)
		pause = min(2*pause, time.Millisecond)
	}
}

func (g *Gate) inFlight() int64 {
	var n int64
	for i := range g.count {
		n += g.count[i].n.Load()
	}
	return n
}

// Reopen opens a gate that Close closed, for an owner whose Close failed
// and who keeps serving.
func (g *Gate) Reopen() { g.closed.Store(false) }

// Closed reports whether the gate is closed.
func (g *Gate) Closed() bool { return g.closed.Load() }
