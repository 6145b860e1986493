package server

// Sequencer puts the reads and writes of another front end of the
// Server's Manager in one order with the Server's commands: package web's
// Handler takes it (Handler.SequenceWith), so that a transaction
// (MULTI/EXEC) or an MSET is atomic with respect to HTTP reads and writes
// as it is to the Server's own clients, and a WATCH sees the keys HTTP
// writes. Get one with Server.Sequencer; the zero Sequencer is not usable.
// It is safe for concurrent use.
type Sequencer struct{ s *Server }

// Sequencer returns the Server's Sequencer.
func (s *Server) Sequencer() Sequencer { return Sequencer{s} }

// BeginRead starts a read as a command does: it waits for a command that
// runs alone (MSET, MSETNX, EXEC) to end, and until EndRead no such
// command begins. A read must not wait for room or for a client of the
// Server in between.
func (q Sequencer) BeginRead() { q.s.exclusive.RLock() }

// EndRead ends what BeginRead began.
func (q Sequencer) EndRead() { q.s.exclusive.RUnlock() }

// BeginWrite starts a write as a RENAME does: it waits for a command that
// runs alone to end, and until EndWrite no such command begins; the
// Server's other commands run meanwhile, so that a write that waits for
// room (up to 5 s, for values being streamed in) holds up no client but
// one whose MSET or EXEC waits for it.
func (q Sequencer) BeginWrite() { q.s.unheldWrites.RLock() }

// TryBeginWrite is BeginWrite if no command that runs alone runs or
// waits, and reports whether it began.
func (q Sequencer) TryBeginWrite() bool { return q.s.unheldWrites.TryRLock() }

// Wrote marks the watchers of key, written out of the order (a streamed
// value whose TryBeginWrite failed), as EndWrite does.
func (q Sequencer) Wrote(key string) { q.s.watches.touchKey(key) }

// EndWrite ends what BeginWrite began. key is the key the write named
// (even if it changed nothing, as a SET NX of a key that exists counts):
// its watchers see it changed, and their EXEC replies null, as after a
// write of a client of the Server.
func (q Sequencer) EndWrite(key string) {
	q.s.watches.touchKey(key)
	q.s.unheldWrites.RUnlock()
}
