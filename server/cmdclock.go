package server

import "time"

// cmdClock times a connection's commands for the Observer with one reading
// of the monotonic clock per command: within a batch of pipelined commands
// one command's end is the next one's start (the parsing between counts
// with the next), and a read from the client starts the chain again.
// The zero cmdClock is ready: it starts counting at its first mark.
type cmdClock struct {
	base time.Time     // what the times are counted from
	last time.Duration // the last lap, since base
	live bool          // last is the start of the next command
}

// mark returns the start of the command about to run.
func (k *cmdClock) mark() time.Duration {
	if !k.live {
		if k.base.IsZero() {
			k.base = time.Now()
		}
		k.last, k.live = time.Since(k.base), true
	}
	return k.last
}

// lap returns the end of the command that ran, which starts the next.
func (k *cmdClock) lap() time.Duration {
	k.last = time.Since(k.base)
	return k.last
}

// at returns t on the clock's scale.
func (k *cmdClock) at(t time.Time) time.Duration { return t.Sub(k.base) }

// pause ends the chain: the connection waits for its client, and its next
// command starts when it runs.
func (k *cmdClock) pause() { k.live = false }
