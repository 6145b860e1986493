package tiermem

import (
	"fmt"
	"io"
)

// streamRoom reads a stream of unknown length and holds room in a tier's
// budget for the bytes read so far: the cold tier's, while the stream is
// staged on its disk, or a memory tier's, while a stream bound for it is
// read into memory. Uploads sent in chunks then count against the budget
// as they arrive, as a stream of known length does from its start, and
// many at once cannot take the disk or memory past it. The room shows in
// Usage as Streaming. A stream that outgrows its tier's whole budget
// moves its room on to the next tier of next, if any (a stream staged
// for the cold tier to glacier, where a value larger than cold's budget
// goes): its bytes then count there. Not safe for concurrent use; release
// it once the stream is read (or abandoned): the value's own room is then
// reserved where it is stored.
type streamRoom struct {
	m    *Manager
	t    *tierState
	next []*tierState // where the room moves when the stream outgrows t
	r    io.Reader
	room reservation // held for the bytes read
}

func (s *streamRoom) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		if gerr := s.grow(int64(n)); gerr != nil {
			return 0, gerr
		}
	}
	return n, err
}

// grow adds n bytes to the room held: it demotes the tier's victims as a
// Store does when the room is not free, moves on to the next tier once the
// stream is larger than the tier's whole budget, and fails with
// ErrTooLarge once it is larger than the last one's, or ErrNoSpace when no
// room can be made (streams in flight are not waited for).
func (s *streamRoom) grow(n int64) error {
	need := s.room.n + n
	for need > s.t.capacity() {
		if len(s.next) == 0 {
			return fmt.Errorf("%w: a stream of unknown length of more than %d bytes, the %s tier's whole budget", ErrTooLarge, s.t.capacity(), s.t.level)
		}
		s.release()
		s.t, s.next = s.next[0], s.next[1:]
	}
	add := need - s.room.n
	if !s.t.tryReserve(add) {
		tok, err := s.m.enter()
		if err != nil {
			return err
		}
		defer s.m.gate.Leave(tok)
		if err := s.m.reserve(s.t, add, int(need), passStreams); err != nil {
			return fmt.Errorf("a stream of unknown length: after %d bytes, no room for more in the %s tier's budget: %w", s.room.n, s.t.level, err)
		}
	}
	s.t.streaming.Add(add)
	s.room = reservation{t: s.t, n: need, reserved: true, stream: true}
	return nil
}

// release gives back the room held.
func (s *streamRoom) release() {
	s.room.release()
	s.room = reservation{}
}
