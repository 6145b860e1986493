package freq_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/internal/freq"
)

// benchKeys is how many distinct keys the benchmarks read at most.
const benchKeys = 1 << 20

var benchKeyList = func() []string {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = key(i)
	}
	return keys
}()

// adder is what the benchmarks compare: the Sketch and the baseline.
type adder interface{ Add(key string) int }

// benchAdd runs fn for a few key counts (the Sketch is sized for each) on
// the Sketch and on the baseline.
func benchAdd(b *testing.B, fn func(b *testing.B, a adder, keys []string)) {
	for _, n := range []int{1 << 12, 1 << 16, benchKeys} {
		contenders := []struct {
			name string
			new  func() adder
		}{
			{"sketch", func() adder { return freq.New(&freq.Options{Keys: int64(n)}) }},
			{"mutex-baseline", func() adder { return newMutexBaseline(time.Minute, time.Now) }},
		}
		for _, c := range contenders {
			b.Run(fmt.Sprintf("keys=%d/%s", n, c.name), func(b *testing.B) {
				a := c.new()
				b.ReportAllocs()
				b.ResetTimer()
				fn(b, a, benchKeyList[:n])
			})
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	benchAdd(b, func(b *testing.B, a adder, keys []string) {
		i := 0
		for b.Loop() {
			a.Add(keys[i&(len(keys)-1)])
			i++
		}
	})
}

func BenchmarkAddParallel(b *testing.B) {
	benchAdd(b, func(b *testing.B, a adder, keys []string) {
		var seed atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			i := seed.Add(0x9e3779b97f4a7c15) // each goroutine starts elsewhere
			for pb.Next() {
				a.Add(keys[i&uint64(len(keys)-1)])
				i++
			}
		})
	})
}

func BenchmarkEstimate(b *testing.B) {
	s := freq.New(&freq.Options{Keys: benchKeys})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Estimate(benchKeyList[i&(benchKeys-1)])
		i++
	}
}

// BenchmarkAge measures one halving of a sketch sized for 10 million keys
// (16 MiB): the time a migration pass spends in Age once a window.
func BenchmarkAge(b *testing.B) {
	var now atomic.Int64
	s := freq.New(&freq.Options{Keys: 10_000_000, Now: func() time.Time {
		return epoch.Add(time.Duration(now.Load()))
	}})
	for i := range 1_000_000 {
		s.Add(key(i))
	}
	b.SetBytes(s.Bytes())
	b.ReportAllocs()
	for b.Loop() {
		now.Add(int64(time.Minute))
		s.Age()
	}
}

// mutexBaseline is the Manager's frequency estimate before package freq,
// copied from tiermem's frequency.go as the benchmarks' baseline: a
// count-min sketch of 4 rows of 65,536 byte counters behind one mutex, whose
// every call reads the clock and halves all counters each window.
type mutexBaseline struct {
	mu      sync.Mutex // protects rows and halved
	rows    [baselineRows][baselineWidth]uint8
	window  time.Duration
	halved  time.Time
	nowFunc func() time.Time
}

const (
	baselineRows  = 4
	baselineWidth = 1 << 16
)

func newMutexBaseline(window time.Duration, now func() time.Time) *mutexBaseline {
	return &mutexBaseline{window: window, halved: now(), nowFunc: now}
}

func baselinePositions(key string) [baselineRows]uint32 {
	h := xxhash.Sum64String(key)
	lo, hi := uint32(h), uint32(h>>32)
	var p [baselineRows]uint32
	for i := range p {
		p[i] = (lo + uint32(i)*hi) % baselineWidth
	}
	return p
}

func (f *mutexBaseline) Add(key string) int { return f.count(key, 1) }

func (f *mutexBaseline) count(key string, inc uint8) int {
	p := baselinePositions(key)
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

func (f *mutexBaseline) ageLocked() {
	now := f.nowFunc()
	for now.Sub(f.halved) >= f.window {
		for i := range f.rows {
			for j := range f.rows[i] {
				f.rows[i][j] >>= 1
			}
		}
		f.halved = f.halved.Add(f.window)
		if now.Sub(f.halved) > 8*f.window {
			f.halved = now
		}
	}
}
