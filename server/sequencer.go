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

// Begin starts a read or a write as a command does: it waits for a
// command that runs alone (MSET, MSETNX, EXEC) to end, and until End, no
// such command begins. A read or write between Begin and End must not
// wait for a client of the Server.
func (q Sequencer) Begin() { q.s.exclusive.RLock() }

// End ends what Begin began. written names the key a write named (even one
// that changed nothing, as a SET NX of a key that exists counts), "" after
// a read: the watchers of that key see it changed, and their EXEC replies
// null, as after a write of a client of the Server.
func (q Sequencer) End(written string) {
	if written != "" {
		q.s.watches.touchKey(written)
	}
	q.s.exclusive.RUnlock()
}
