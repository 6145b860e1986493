package web

import (
	"time"

	"github.com/tiermem/tiermem/internal/spin"
)

// Sequencer puts a Handler's reads and writes of keys in one order with
// the commands of another front end over the same Manager: a RESP
// server's (package server's Server.Sequencer), so that its transactions
// (MULTI/EXEC, MSET) are atomic with respect to HTTP reads and writes as
// they are to its own clients', and its WATCH sees the keys HTTP writes.
// Its methods must be safe for concurrent use.
type Sequencer interface {
	// BeginRead is called right before the handler reads a key (a value
	// sent to the client is opened in the read, not sent in it), and
	// EndRead once the read is done or has failed.
	BeginRead()
	EndRead()
	// BeginWrite is called right before the handler writes a key (a PUT
	// once its body has come whole, so that a slow upload holds up no
	// one), and EndWrite once the write is done or has failed; key is the
	// key it named, even if it changed nothing.
	BeginWrite()
	EndWrite(key string)
	// TryBeginWrite is BeginWrite when it needs no wait, and reports
	// whether it began. A streamed PUT, which holds its value's room in its
	// tier while its body arrives, tries for its turn (for up to 200 ms)
	// rather than waiting in line: a command that runs alone may be
	// waiting for that room, and waiting for it in turn would stall both.
	// Not given its turn, the PUT stores its value out of the order and
	// calls Wrote before and after.
	TryBeginWrite() bool
	// Wrote tells of a write of key made out of the order (after a failed
	// TryBeginWrite): the key's watchers see it changed.
	Wrote(key string)
}

// SequenceWith makes the handler put its reads and writes in s's order
// from the next request on (nil: in none, as a Handler starts). Call it
// before the handler serves, so that no request escapes the order; it is
// safe for concurrent use all the same.
func (h *Handler) SequenceWith(s Sequencer) {
	if s == nil {
		h.seq.Store(nil)
		return
	}
	h.seq.Store(&s)
}

// turn is one read or write in the order of a Sequencer, from its begin
// to its end; the zero turn (no Sequencer) orders nothing.
type turn struct {
	s         Sequencer
	key       string // the key written; "" for a read
	unordered bool   // a streamed write that did not get its turn (tryBeginWrite)
}

// beginRead starts a read's turn in the handler's order.
func (h *Handler) beginRead() turn {
	p := h.seq.Load()
	if p == nil {
		return turn{}
	}
	(*p).BeginRead()
	return turn{s: *p}
}

// beginWrite starts the turn of a write of key in the handler's order.
func (h *Handler) beginWrite(key string) turn {
	p := h.seq.Load()
	if p == nil {
		return turn{}
	}
	(*p).BeginWrite()
	return turn{s: *p, key: key}
}

// streamTurnWait is how long a streamed write tries for its turn before it
// goes on out of the order: long enough for the commands that run alone to
// end (an EXEC of a few hundred commands), short enough that one waiting
// for the room the write holds (which it would wait out for 5 s, the
// write waiting for it) stalls the RESP clients for no longer.
const streamTurnWait = 200 * time.Millisecond

// tryBeginWrite starts the turn of a streamed write of key, trying for up to
// streamTurnWait without joining the Sequencer's queue (where it would wait
// behind a command that may be waiting for the room the write holds); else
// the write goes on out of the order, its key's watchers told now and again
// at its end.
func (h *Handler) tryBeginWrite(key string) turn {
	p := h.seq.Load()
	if p == nil {
		return turn{}
	}
	if spin.TryFor(streamTurnWait, (*p).TryBeginWrite) {
		return turn{s: *p, key: key}
	}
	(*p).Wrote(key)
	return turn{s: *p, key: key, unordered: true}
}

// end ends the turn, once: later calls do nothing.
func (t *turn) end() {
	s := t.s
	if s == nil {
		return
	}
	t.s = nil
	if t.unordered {
		s.Wrote(t.key)
		return
	}
	if t.key == "" {
		s.EndRead()
		return
	}
	s.EndWrite(t.key)
}
