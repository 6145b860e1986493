package freq

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Max is the largest count a Sketch gives: its counters have 4 bits and
// saturate at 15. A caller that compares estimates with a threshold above Max
// must reject that threshold, since no key would ever reach it.
const Max = 15

// Options configure a Sketch. A nil *Options means all defaults.
type Options struct {
	// Window is the aging period: each Window, Age halves every counter.
	// Zero means one minute.
	Window time.Duration
	// Keys is how many keys the caller holds at first (see Resize). Zero
	// means the smallest table, 4 KiB.
	Keys int64
	// Now is the clock Age reads. Nil means time.Now.
	Now func() time.Time
}

// Sketch estimates how often each key was read in the recent window. It is
// safe for concurrent use: Add and Estimate take no lock and never wait; Age,
// Resize and Reset serialize among themselves on a mutex that Add and
// Estimate do not touch.
type Sketch struct {
	table  atomic.Pointer[table] // replaced whole by Resize and Reset
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex // serializes Age, Resize and Reset; protects halved
	halved time.Time  // when the window last halved ended
}

// New returns a Sketch with no reads counted, its first window starting now.
func New(opts *Options) *Sketch {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sketch{window: o.Window, now: o.Now, halved: o.Now()}
	s.table.Store(newTable(blocksFor(o.Keys)))
	return s
}

// Add counts one read of key and returns key's new estimate, at most Max.
// Concurrent Adds of the same key may lose one of their increments; an Add
// that runs while Resize or Reset replaces the table may be lost entirely.
func (s *Sketch) Add(key string) int { return s.AddHash(Hash(key)) }

// Hash returns the hash the sketch files key under, for AddHash: a caller
// that needs a hash of the key for its own purposes too computes it once.
func Hash(key string) uint64 { return xxhash.Sum64String(key) }

// AddHash is Add for a key whose Hash is h.
func (s *Sketch) AddHash(h uint64) int { return s.table.Load().add(h) }

// Estimate returns how many times key was read recently, from 0 to Max: the
// reads of the current window, plus half those of the window before, a
// quarter of those of the one before that, and so on, each halving rounding
// down. It is never below that count (save the losses Add names) and is
// above it when other keys share all of key's counters; doc.go gives how
// often.
func (s *Sketch) Estimate(key string) int {
	return s.table.Load().estimate(xxhash.Sum64String(key))
}

// Age halves every counter once for each whole Window that has passed since
// the sketch's windows started (at New or Reset), catching up on all the
// windows since its last call; four halvings empty every counter. The sketch
// never ages by itself, so that Add and Estimate read no clock: call Age
// regularly, at least once a Window. It takes time in proportion to Bytes
// (BenchmarkAge: about a millisecond per MiB); Adds and Estimates meanwhile
// go on unhindered, see some counters halved and others not yet, and no Add
// is lost to it.
func (s *Sketch) Age() {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.now().Sub(s.halved) / s.window
	if n < 1 {
		return
	}
	s.table.Load().halve(int(min(n, 64)))
	s.halved = s.halved.Add(n * s.window)
}

// Resize sizes the sketch for keys distinct keys: call it when the number of
// keys the caller holds changes. The table grows, by powers of two, as soon
// as keys exceeds what it was sized for, and keeps every estimate exactly. It
// shrinks only when a quarter of its size would do; a shrink merges counters,
// so estimates may rise until aging wears them down. Adds that run while the
// table is copied may be lost.
func (s *Sketch) Resize(keys int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.table.Load()
	want, have := blocksFor(keys), t.blocks()
	if want > have || want*shrinkFactor <= have {
		s.table.Store(t.resized(want))
	}
}

// Reset forgets every read and starts a new window now, keeping the size.
func (s *Sketch) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.table.Store(newTable(s.table.Load().blocks()))
	s.halved = s.now()
}

// Bytes returns the memory the counters take: between 1⅓ and 2⅔ bytes per
// key of the last Resize, and at least 4 KiB.
func (s *Sketch) Bytes() int64 {
	return int64(len(s.table.Load().words)) * 8
}
