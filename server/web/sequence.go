package web

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
	s   Sequencer
	key string // the key written; "" for a read
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

// end ends the turn, once: later calls do nothing.
func (t *turn) end() {
	s := t.s
	if s == nil {
		return
	}
	t.s = nil
	if t.key == "" {
		s.EndRead()
		return
	}
	s.EndWrite(t.key)
}
