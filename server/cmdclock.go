package server

import "time"

// cmdClock times a connection's commands for the Observer with one reading
// of the monotonic clock per command: within a batch of pipelined commands
// one command's end is the next one's start (the parsing between, and the
// reply to a command refused before it runs, count with the next). The
// times are handed to the Observer at the batch's end (pause), not between
// two commands, so that the Observer's own time counts with none; and the
// chain restarts after anything that is no command's: a wait for the
// client, a flush, a wait for the server's shared lock. The zero cmdClock
// is ready: it starts counting at its first mark.
type cmdClock struct {
	base    time.Time     // what the times are counted from
	last    time.Duration // the last lap, since base
	live    bool          // last is the start of the next command
	pending []timed       // the commands timed since the last pause
}

// timed is one command's name and duration, not yet observed.
type timed struct {
	name string
	d    time.Duration
}

// maxPending is the most times a clock keeps before it hands them over
// (and restarts its chain).
const maxPending = 64

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

// record keeps a command's time for the Observer; a full clock hands its
// times over at once.
func (k *cmdClock) record(obs Observer, name string, d time.Duration) {
	k.pending = append(k.pending, timed{name, d})
	if len(k.pending) == maxPending {
		k.pause(obs)
	}
}

// pause hands the times kept to obs and ends the chain: the next command
// starts when it runs.
func (k *cmdClock) pause(obs Observer) {
	for _, c := range k.pending {
		obs.ObserveCommand(c.name, c.d)
	}
	k.pending = k.pending[:0]
	k.live = false
}
