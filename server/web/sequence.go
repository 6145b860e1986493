package web

// Sequencer puts a Handler's reads and writes of keys in one order with
// the commands of another front end over the same Manager: a RESP
// server's (package server's Server.Sequencer), so that its transactions
// (MULTI/EXEC, MSET) are atomic with respect to HTTP reads and writes as
// they are to its own clients', and its WATCH sees the keys HTTP writes.
// Its methods must be safe for concurrent use.
type Sequencer interface {
	// Begin is called right before the handler reads a key or writes
	// one: for a PUT, once the body has come whole, so that a slow upload
	// holds up no one; for a value sent to the client, before it is
	// opened, not while it is sent.
	Begin()
	// End ends what Begin began, once the read or the write is done or
	// has failed. written is the key a write named (even one that changed
	// nothing), "" after a read.
	End(written string)
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

// turn is one read or write in the order of a Sequencer, from begin to
// end; the zero turn (no Sequencer) orders nothing.
type turn struct{ s Sequencer }

// begin starts a turn in the handler's order.
func (h *Handler) begin() turn {
	p := h.seq.Load()
	if p == nil {
		return turn{}
	}
	(*p).Begin()
	return turn{*p}
}

// end ends the turn, once: later calls do nothing. written is the key
// a write named, "" after a read.
func (t *turn) end(written string) {
	if s := t.s; s != nil {
		t.s = nil
		s.End(written)
	}
}
