package tiermem

import (
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// frequency estimates how often each key was read in the recent window with
// a count-min sketch: four rows of byte counters, each read adds one to a
// counter per row, the estimate is the smallest. Every window all counters
// are halved, so old reads fade. It costs 256 KiB whatever the number of keys.
type frequency struct {
	mu      sync.Mutex // protects rows and halved
	rows    [frequencyRows][frequencyWidth]uint8
	window  time.Duration
	halved  time.Time
	nowFunc func() time.Time
}

const (
	frequencyRows  = 4
	frequencyWidth = 1 << 16
)

func newFrequency(window time.Duration, now func() time.Time) *frequency {
	return &frequency{window: window, halved: now(), nowFunc: now}
}

// counters returns the four counter positions of key.
func positions(key string) [frequencyRows]uint32 {
	h := xxhash.Sum64String(key)
	lo, hi := uint32(h), uint32(h>>32)
	var p [frequencyRows]uint32
	for i := range p {
		p[i] = (lo + uint32(i)*hi) % frequencyWidth
	}
	return p
}

// add counts one read of key and returns the new estimate.
func (f *frequency) add(key string) int { return f.count(key, 1) }

// estimate returns how often key was read recently.
func (f *frequency) estimate(key string) int { return f.count(key, 0) }

// count adds inc (0 or 1) to key's counters, which saturate at 255, and
// returns the smallest of them.
func (f *frequency) count(key string, inc uint8) int {
	p := positions(key)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ageLocked()
	est := 255
	for i, c := range p {
		if v := f.rows[i][c]; v < 255 {
			f.rows[i][c] = v + inc
		}
		est = min(est, int(f.rows[i][c]))
	}
	return est
}

// ageLocked halves every counter for each window that has passed.
func (f *frequency) ageLocked() {
	now := f.nowFunc()
	for now.Sub(f.halved) >= f.window {
		for i := range f.rows {
			for j := range f.rows[i] {
				f.rows[i][j] >>= 1
			}
		}
		f.halved = f.halved.Add(f.window)
		if now.Sub(f.halved) > 8*f.window { // everything is 0 after 8 halvings
			f.halved = now
		}
	}
}
