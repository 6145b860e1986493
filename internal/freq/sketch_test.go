package freq_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/freq"
)

// clock is a settable time source for Options.Now.
type clock struct{ ns atomic.Int64 }

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *clock) now() time.Time          { return epoch.Add(time.Duration(c.ns.Load())) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }
func (c *clock) set(d time.Duration)     { c.ns.Store(int64(d)) }
func key(i int) string                   { return "key:" + strconv.Itoa(i) }
func newClocked(keys int64) (*freq.Sketch, *clock) {
	c := &clock{}
	return freq.New(&freq.Options{Window: time.Minute, Keys: keys, Now: c.now}), c
}

func addN(s *freq.Sketch, k string, n int) {
	for range n {
		s.Add(k)
	}
}

func TestAddSaturates(t *testing.T) {
	s := freq.New(nil)
	for i := 1; i <= freq.Max+5; i++ {
		if got, want := s.Add("k"), min(i, freq.Max); got != want {
			t.Fatalf("Add #%d = %d, want %d", i, got, want)
		}
	}
	if got := s.Estimate("k"); got != freq.Max {
		t.Fatalf("Estimate = %d, want %d", got, freq.Max)
	}
	if got := s.Estimate("never read"); got != 0 {
		t.Fatalf("Estimate of an unread key = %d, want 0", got)
	}
}

// TestAgeWindows reads a key 12 times at the start, then moves the clock and
// calls Age: each whole window halves the count, and Age catches up on all
// the windows since its last call.
func TestAgeWindows(t *testing.T) {
	const w = time.Minute
	for _, c := range []struct {
		name  string
		steps []time.Duration // clock settings, each followed by Age
		want  []int           // estimate after each
	}{
		{"within the first window", []time.Duration{0, w / 2, w - 1}, []int{12, 12, 12}},
		{"one window", []time.Duration{w}, []int{6}},
		{"window by window", []time.Duration{w, 2 * w, 3 * w, 4 * w}, []int{6, 3, 1, 0}},
		{"catching up", []time.Duration{3*w + w/2}, []int{1}},
		{"keeps the phase", []time.Duration{w + w/2, 2*w - 1, 2 * w}, []int{6, 6, 3}},
		{"long idle", []time.Duration{1000 * w}, []int{0}},
		{"clock going back", []time.Duration{-w, 0}, []int{12, 12}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, clk := newClocked(0)
			addN(s, "k", 12)
			for i, at := range c.steps {
				clk.set(at)
				s.Age()
				if got := s.Estimate("k"); got != c.want[i] {
					t.Fatalf("at %v: estimate %d, want %d", at, got, c.want[i])
				}
			}
		})
	}
}

// TestAgeThenAdd checks that reads after a halving count in full again.
func TestAgeThenAdd(t *testing.T) {
	s, clk := newClocked(0)
	addN(s, "k", 8)
	clk.advance(time.Minute)
	s.Age()
	if got := s.Add("k"); got != 5 {
		t.Fatalf("Add after a halving of 8 = %d, want 5", got)
	}
}

func TestReset(t *testing.T) {
	s, clk := newClocked(100_000)
	addN(s, "k", 5)
	size := s.Bytes()
	clk.advance(90 * time.Second)
	s.Reset()
	if got := s.Estimate("k"); got != 0 {
		t.Fatalf("Estimate after Reset = %d, want 0", got)
	}
	if s.Bytes() != size {
		t.Fatalf("Reset changed Bytes from %d to %d", size, s.Bytes())
	}
	addN(s, "k", 4)
	clk.advance(59 * time.Second) // the window restarted at Reset, not at New
	s.Age()
	if got := s.Estimate("k"); got != 4 {
		t.Fatalf("Estimate 59s after Reset = %d, want 4 (no halving yet)", got)
	}
	clk.advance(time.Second)
	s.Age()
	if got := s.Estimate("k"); got != 2 {
		t.Fatalf("Estimate a window after Reset = %d, want 2", got)
	}
}

// TestBytes checks the memory bound, 1⅓ to 2⅔ bytes a key, and the floor.
func TestBytes(t *testing.T) {
	for _, c := range []struct {
		keys  int64
		bytes int64
	}{
		{0, 4 << 10},
		{1000, 4 << 10},
		{300_000, 512 << 10},
		{10_000_000, 16 << 20},
	} {
		if got := freq.New(&freq.Options{Keys: c.keys}).Bytes(); got != c.bytes {
			t.Errorf("Bytes for %d keys = %d, want %d", c.keys, got, c.bytes)
		}
	}
	for keys := int64(4000); keys < 1<<26; keys = keys*9/8 + 1 {
		perKey := float64(freq.New(&freq.Options{Keys: keys}).Bytes()) / float64(keys)
		if perKey < 4.0/3 || perKey >= 8.0/3 {
			t.Fatalf("%d keys take %.2f bytes each, want 1.33 to 2.67", keys, perKey)
		}
	}
}

// TestResize checks when the table changes size and that estimates survive:
// exactly when it grows, as upper bounds when it shrinks.
func TestResize(t *testing.T) {
	s := freq.New(&freq.Options{Keys: 20_000})
	counts := make([]int, 20_000)
	for i := range counts {
		counts[i] = i % (freq.Max + 1)
		addN(s, key(i), counts[i])
	}
	before := make([]int, len(counts))
	for i := range counts {
		before[i] = s.Estimate(key(i))
		if before[i] < counts[i] {
			t.Fatalf("key %d read %d times is estimated %d", i, counts[i], before[i])
		}
	}
	for _, c := range []struct {
		keys  int64
		bytes int64
		exact bool
	}{
		{20_000, 32 << 10, true},
		{24_000, 32 << 10, true},   // fits: no change
		{40_000, 64 << 10, true},   // grows
		{2_000_000, 4 << 20, true}, // grows 64 times
		{1_000_000, 4 << 20, true}, // half the size would do: kept
		{600_000, 1 << 20, false},  // a quarter would do: shrinks
		{20_000, 32 << 10, false},
	} {
		s.Resize(c.keys)
		if s.Bytes() != c.bytes {
			t.Fatalf("Resize(%d): Bytes = %d, want %d", c.keys, s.Bytes(), c.bytes)
		}
		for i := range counts {
			got := s.Estimate(key(i))
			if got < before[i] || (c.exact && got != before[i]) {
				t.Fatalf("after Resize(%d) key %d is estimated %d, was %d", c.keys, i, got, before[i])
			}
		}
	}
}

// TestFalsePositives reads each of n keys once and measures how many are
// estimated at 2 or more and at 3 or more (doc.go states the figures).
func TestFalsePositives(t *testing.T) {
	for _, c := range []struct {
		keys         int
		most2, most3 float64 // bounds on the fractions ≥ 2 and ≥ 3
	}{
		{300_000, 0.08, 0.0001},
		{393_216, 0.14, 0.0005}, // 1.5 keys per counter of a row: the worst sizing
		{manyKeys, 0.085, 0.0001},
	} {
		t.Run(strconv.Itoa(c.keys), func(t *testing.T) {
			if testing.Short() && c.keys > 1_000_000 {
				t.Skip("short")
			}
			s := freq.New(&freq.Options{Keys: int64(c.keys)})
			for i := range c.keys {
				s.Add(key(i))
			}
			var ge2, ge3 int
			for i := range c.keys {
				switch e := s.Estimate(key(i)); {
				case e < 1:
					t.Fatalf("key %d read once is estimated %d", i, e)
				case e >= 3:
					ge3++
					fallthrough
				case e >= 2:
					ge2++
				}
			}
			f2, f3 := float64(ge2)/float64(c.keys), float64(ge3)/float64(c.keys)
			t.Logf("%d keys read once, %d bytes: %.4f%% estimated ≥ 2, %.5f%% ≥ 3 (%d keys)",
				c.keys, s.Bytes(), 100*f2, 100*f3, ge3)
			if f2 > c.most2 || f3 > c.most3 {
				t.Errorf("%.4f%% estimated ≥ 2 (bound %.2f%%), %.5f%% ≥ 3 (bound %.3f%%)",
					100*f2, 100*c.most2, 100*f3, 100*c.most3)
			}
		})
	}
}

// TestConcurrentAddsCount has goroutines each read their own keys while
// others read theirs: sharing counters with other keys' concurrent Adds
// never loses a key's own reads.
func TestConcurrentAddsCount(t *testing.T) {
	const goroutines, perG, reads = 8, 2000, 4
	s := freq.New(&freq.Options{Keys: 1000}) // crowded: many shared counters
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for r := range reads {
				for i := range perG {
					if got := s.Add(key(g*perG + i)); got < r+1 {
						t.Errorf("Add #%d of key %d = %d", r+1, g*perG+i, got)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for i := range goroutines * perG {
		if got := s.Estimate(key(i)); got < reads {
			t.Fatalf("key %d read %d times is estimated %d", i, reads, got)
		}
	}
}

// TestConcurrentMaintenance runs Adds and Estimates from many goroutines
// while Resize, Age and Reset run; under -race it proves the read path
// shares no unsynchronized state with them.
func TestConcurrentMaintenance(t *testing.T) {
	s, clk := newClocked(10_000)
	stop := make(chan struct{})
	var readers, maint sync.WaitGroup
	for g := range 4 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := key(g*1_000_000 + i%50_000)
				if e := s.Add(k); e < 0 || e > freq.Max {
					t.Errorf("Add = %d", e)
					return
				}
				if e := s.Estimate(k); e < 0 || e > freq.Max {
					t.Errorf("Estimate = %d", e)
					return
				}
			}
		})
	}
	maint.Go(func() {
		sizes := []int64{10_000, 30_000, 50_000, 20_000, 3_000, 40_000}
		for i := range 30 {
			s.Resize(sizes[i%len(sizes)])
			if i%10 == 9 {
				s.Reset()
			}
		}
	})
	maint.Go(func() {
		for range 40 {
			clk.advance(20 * time.Second)
			s.Age()
		}
	})
	maint.Wait()
	close(stop)
	readers.Wait()

	// Quiet again, the sketch counts exactly as a fresh one would.
	s.Reset()
	s.Resize(10_000)
	addN(s, "after", 7)
	if got := s.Estimate("after"); got < 7 {
		t.Fatalf("after the storm a key read 7 times is estimated %d", got)
	}
}
