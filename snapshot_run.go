package tiermem

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// snapshotRun is what a running Snapshot shares with the Manager's writers:
// the cursor of its copy, the keys whose pre-image a writer saved, and the
// file those pre-images go to.
//
// A key is passed once the copy has handled it: its (hash, key) is at or
// before the cursor. A change to a key not passed saves the key's state
// first, once (the key is then marked); the copy takes a marked key's
// pre-image instead of reading it. The copy moves the cursor onto a key
// under that key's lock, so a writer of the key sees the key either passed
// or not for the whole of its change. Keys the listing missed (created,
// moved or deleted after the instant) are passed when the cursor goes
// beyond them: a writer before then saves their pre-image, after then
// their state at the instant is already decided.
type snapshotRun struct {
	at int64 // the instant, Unix ns by the Manager's clock; set before the run is shared

	mu      sync.Mutex // protects the fields below
	started bool       // the cursor is on a key
	all     bool       // every key is passed: the copy is done
	hash    uint64     // the cursor: the last key copied and its hash
	key     string
	marks   map[string]struct{} // keys whose pre-image is saved, not yet passed
	err     error               // the first error saving a pre-image

	savers sync.WaitGroup // writers saving a pre-image; Added under mu while !all
	spool  *preImages
}

func newSnapshotRun(dir string) (*snapshotRun, error) {
	sp, err := newPreImages(dir)
	if err != nil {
		return nil, err
	}
	return &snapshotRun{marks: map[string]struct{}{}, spool: sp}, nil
}

// close removes the pre-image file.
func (s *snapshotRun) close() { s.spool.close() }

// passedLocked reports whether the copy handled key, whose hash is h. s.mu
// is held.
func (s *snapshotRun) passedLocked(h uint64, key string) bool {
	switch {
	case s.all:
		return true
	case !s.started:
		return false
	}
	return h < s.hash || h == s.hash && key <= s.key
}

// before saves key's state as its pre-image if the copy has not passed it
// and no earlier change saved one. The key's lock is held for writing, so
// the state read is the one at the instant: nothing changed it since.
func (s *snapshotRun) before(m *Manager, key string) {
	h := xxhash.Sum64String(key)
	s.mu.Lock()
	if _, marked := s.marks[key]; marked || s.err != nil || s.passedLocked(h, key) {
		s.mu.Unlock()
		return
	}
	s.marks[strings.Clone(key)] = struct{}{}
	s.savers.Add(1)
	s.mu.Unlock()
	defer s.savers.Done()
	_, err := m.viewStateLocked(key, s.at, func(t *tierState, value, meta []byte) error {
		return s.spool.add(key, t.level, meta, value)
	})
	if err != nil {
		s.fail(fmt.Errorf("saving the state of %q before a change: %w", key, err))
	}
}

// fail records the first error of a saver: the snapshot fails with it.
func (s *snapshotRun) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// take reports whether key's pre-image was saved, and forgets the mark: the
// copy is about to pass it. The key's lock is held.
func (s *snapshotRun) take(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, marked := s.marks[key]
	delete(s.marks, key)
	return marked
}

// pass moves the cursor onto key, whose hash is h. The key's lock is held.
func (s *snapshotRun) pass(h uint64, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started, s.hash, s.key = true, h, key
}

// sweep forgets the marks of keys the cursor passed without the copy
// listing them (created after the instant), so that the marks held are
// those of keys ahead of the cursor.
func (s *snapshotRun) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.marks {
		if s.passedLocked(xxhash.Sum64String(key), key) {
			delete(s.marks, key)
		}
	}
}

// preImages is the temporary file writers append pre-images to, as
// records of uvarint lengths and bytes: key, record meta, value.
type preImages struct {
	mu sync.Mutex // protects w and n
	f  *os.File
	w  *bufio.Writer
	n  int64 // records written
}

func newPreImages(dir string) (*preImages, error) {
	f, err := os.CreateTemp(dir, "tiermem-snapshot-preimages-*")
	if err != nil {
		return nil, fmt.Errorf("creating the pre-image file: %w", err)
	}
	os.Remove(f.Name()) // used through its descriptor only: a crash leaves nothing behind
	return &preImages{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// add appends one pre-image. It is called under the key's lock, by
// writers of different keys at once.
func (p *preImages) add(key string, level Tier, header, value []byte) error {
	var head [3 * binary.MaxVarintLen64]byte
	p.mu.Lock()
	defer p.mu.Unlock()
	n := binary.PutUvarint(head[:], uint64(len(key)))
	p.w.Write(head[:n])
	p.w.WriteString(key)
	meta := appendRecordMeta(nil, level, header)
	n = binary.PutUvarint(head[:], uint64(len(meta)))
	p.w.Write(head[:n])
	p.w.Write(meta)
	n = binary.PutUvarint(head[:], uint64(len(value)))
	p.w.Write(head[:n])
	_, err := p.w.Write(value)
	p.n++
	if err != nil {
		return fmt.Errorf("writing the pre-image file: %w", err)
	}
	return nil
}

// each calls fn with every pre-image, in the order they were saved. No
// writer may add any more. The slices are valid only during fn.
func (p *preImages) each(fn func(key string, meta, value []byte) error) error {
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("writing the pre-image file: %w", err)
	}
	r := bufio.NewReaderSize(io.NewSectionReader(p.f, 0, 1<<62), 1<<20)
	var key, meta, value []byte
	for i := int64(0); i < p.n; i++ {
		var err error
		if key, err = readChunk(r, key); err == nil {
			if meta, err = readChunk(r, meta); err == nil {
				value, err = readChunk(r, value)
			}
		}
		if err != nil {
			return fmt.Errorf("reading the pre-image file: %w", err)
		}
		if err := fn(string(key), meta, value); err != nil {
			return err
		}
	}
	return nil
}

// readChunk reads a uvarint length and that many bytes into buf.
func readChunk(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return buf, err
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err = io.ReadFull(r, buf)
	return buf, err
}

// close removes the file.
func (p *preImages) close() { removeTemp(p.f) }
