package tiermem

import (
	"fmt"
	"io"
)

// stagingStep is how much of the cold tier's budget a stream of unknown
// length reserves at a time while it is staged.
const stagingStep = 1 << 20

// stagingRoom reads a stream of unknown length being staged on the cold
// tier's disk, and holds room in the cold tier's budget for what it has
// read, a step ahead: so that uploads sent in chunks count against the
// budget as they arrive, as a stream of known length does from its start,
// and many at once cannot fill the disk past it. The room shows in Usage
// as Streaming. Not safe for concurrent use; release once the stream is
// staged (or abandoned).
type stagingRoom struct {
	m    *Manager
	t    *tierState // the cold tier
	r    io.Reader
	read int64       // bytes read so far
	room reservation // held for the bytes read and the step ahead
}

func (s *stagingRoom) Read(p []byte) (int, error) {
	if s.read+int64(len(p)) > s.room.n {
		if err := s.grow(s.read + int64(len(p))); err != nil {
			return 0, err
		}
	}
	n, err := s.r.Read(p)
	s.read += int64(n)
	return n, err
}

// grow makes the room held cover need bytes, in whole steps: it demotes
// the cold tier's victims as a Store does, and fails with ErrTooLarge once
// the stream is larger than the tier's whole budget, or ErrNoSpace when no
// room can be made.
func (s *stagingRoom) grow(need int64) error {
	tok, err := s.m.enter()
	if err != nil {
		return err
	}
	defer s.m.gate.Leave(tok)
	more := (need - s.room.n + stagingStep - 1) / stagingStep * stagingStep
	if s.room.n+more > s.t.capacity() {
		more = max(need-s.room.n, 0)
	}
	if err := s.t.fits(s.room.n+more, int(need)); err != nil {
		return fmt.Errorf("staging a stream of unknown length: %w", err)
	}
	if err := s.m.reserve(s.t, more, int(need), passStreams); err != nil {
		return fmt.Errorf("staging a stream of unknown length: after %d bytes, no room for more in the cold tier's budget: %w", s.read, err)
	}
	s.t.streaming.Add(more)
	s.room = reservation{t: s.t, n: s.room.n + more, reserved: true, stream: true}
	return nil
}

// release gives back the room held: the staged value's own room is taken
// where it is stored.
func (s *stagingRoom) release() {
	s.room.release()
	s.room = reservation{}
}
