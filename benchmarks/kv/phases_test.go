package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	keySize   = 16
	valueSize = 100
	batch     = 1024 // operations a goroutine claims at a time from a phase's budget
)

// putKey writes key number i into key (keySize bytes): "k:" and 14 hex digits.
func putKey(key []byte, i uint64) {
	const hex = "0123456789abcdef"
	key[0], key[1] = 'k', ':'
	for j := keySize - 1; j >= 2; j-- {
		key[j] = hex[i&15]
		i >>= 4
	}
}

// putValue writes the value of key number i into value: i in its first 8
// bytes, so that a Get can check it has key i's value, then a fixed filler.
func putValue(value []byte, i uint64) {
	binary.LittleEndian.PutUint64(value, i)
	for j := 8; j < len(value); j++ {
		value[j] = byte(j)
	}
}

// rng is splitmix64: a few nanoseconds a draw, the same for every store.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// below maps the high half of a draw onto 0..n-1 (n < 2³²).
func below(z uint64, n int) uint64 { return (z >> 32) * uint64(n) >> 32 }

// phase is what one measured phase reports.
type phase struct {
	Ops       int64   `json:"ops"`
	Seconds   float64 `json:"seconds"`
	Misses    int64   `json:"misses"`
	Allocs    int64   `json:"allocs"`     // heap objects allocated during the phase
	GCCycles  int64   `json:"gc_cycles"`  // collections that ended during the phase
	PauseP99  float64 `json:"pause_p99"`  // seconds; 0 when the phase had no pause
	GCCPU     float64 `json:"gc_cpu"`     // share of the process's CPU time spent in GC
	PauseMax  float64 `json:"pause_max"`  // seconds; upper bound of the longest pause's bucket
	Goroutine int     `json:"goroutines"` // goroutines that ran the operations
	// CPUSeconds is the CPU time (user and system) the whole process used
	// during the phase: on a shared machine whose other load takes the
	// cores away, CPU per operation moves far less than throughput does.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// CPUMicrosPerOp is the process's CPU time per operation in microseconds
// (0 where the process's CPU time could not be read).
func (p phase) CPUMicrosPerOp() float64 { return p.CPUSeconds / float64(p.Ops) * 1e6 }

// MopsPerSec is the phase's throughput in millions of operations a second.
func (p phase) MopsPerSec() float64 { return float64(p.Ops) / p.Seconds / 1e6 }

// measure runs work with the collector's counters read around it; work
// returns the operations done and the misses seen. A collection first leaves
// behind what an earlier phase allocated.
func measure(goroutines int, work func() (ops, misses int64, err error)) (phase, error) {
	first, second := newSamples(), newSamples()
	runtime.GC()
	before := readRuntime(first)
	cpuBefore := processCPU()
	start := time.Now()
	ops, misses, err := work()
	elapsed := time.Since(start)
	cpuAfter := processCPU()
	after := readRuntime(second)
	p := phase{Ops: ops, Seconds: elapsed.Seconds(), Misses: misses, Goroutine: goroutines}
	if cpuBefore > 0 && cpuAfter > 0 {
		p.CPUSeconds = cpuAfter - cpuBefore
	}
	p.Allocs = int64(after.allocs - before.allocs)
	p.GCCycles = int64(after.cycles - before.cycles)
	p.PauseP99, p.PauseMax = pauseQuantile(before.pauses, after.pauses, 0.99)
	if cpu := after.cpu - before.cpu; cpu > 0 {
		p.GCCPU = (after.gcCPU - before.gcCPU) / cpu
	}
	return p, err
}

// processCPU returns the user and system CPU seconds the process has used,
// or 0 if getrusage fails.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// load stores keys 0..n-1 in order from one goroutine.
func load(s store, n int) (phase, error) {
	return measure(1, func() (int64, int64, error) {
		key, value := make([]byte, keySize), make([]byte, valueSize)
		for i := range uint64(n) {
			putKey(key, i)
			putValue(value, i)
			if err := s.Set(key, value); err != nil {
				return int64(i), 0, fmt.Errorf("set %d: %w", i, err)
			}
		}
		return int64(n), 0, nil
	})
}

// run runs ops operations of random keys of 0..n-1 spread over goroutines,
// which claim them batch by batch so that none idles while another works;
// a draw whose low 32 bits fall below setBelow is a Set, the others Gets.
func run(s store, n int, ops int64, goroutines int, setBelow uint32) (phase, error) {
	return measure(goroutines, func() (int64, int64, error) {
		var budget, misses atomic.Int64
		budget.Store(ops)
		errs := make([]error, goroutines)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				m, err := worker(s, n, &budget, rng(g+1)*0x5851f42d4c957f2d, setBelow)
				misses.Add(m)
				errs[g] = err
			})
		}
		wg.Wait()
		return ops, misses.Load(), errors.Join(errs...)
	})
}

// worker runs its share of a phase; it returns the misses it saw, and an
// error for a value that is not the key's.
func worker(s store, n int, budget *atomic.Int64, r rng, setBelow uint32) (misses int64, err error) {
	key, value, dst := make([]byte, keySize), make([]byte, valueSize), make([]byte, 0, 2*valueSize)
	for budget.Add(-batch) > -batch {
		for range batch {
			z := r.next()
			i := below(z, n)
			putKey(key, i)
			if uint32(z) < setBelow {
				putValue(value, i)
				if err := s.Set(key, value); err != nil {
					return misses, fmt.Errorf("set %d: %w", i, err)
				}
				continue
			}
			v, ok := s.Get(dst[:0], key)
			switch {
			case !ok:
				misses++
			case len(v) != valueSize || binary.LittleEndian.Uint64(v) != i:
				return misses, fmt.Errorf("get %d: a value of %d bytes, not key %d's", i, len(v), i)
			}
		}
	}
	return misses, nil
}

// mixedSets is the setBelow of the mixed load: 20% Sets.
const mixedSets = math.MaxUint32 / 5

// runtimeCounters are the collector's cumulative figures at one moment.
type runtimeCounters struct {
	allocs, cycles uint64
	gcCPU, cpu     float64
	pauses         *metrics.Float64Histogram
}

// newSamples returns the samples readRuntime fills. A reading keeps its
// samples' histogram, which the next Read of the same samples would
// overwrite: each reading of a phase has samples of its own.
func newSamples() []metrics.Sample {
	return []metrics.Sample{
		{Name: "/gc/heap/allocs:objects"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/cpu/classes/gc/total:cpu-seconds"},
		{Name: "/cpu/classes/total:cpu-seconds"},
		{Name: "/sched/pauses/total/gc:seconds"},
	}
}

func readRuntime(s []metrics.Sample) runtimeCounters {
	metrics.Read(s)
	return runtimeCounters{
		allocs: s[0].Value.Uint64(),
		cycles: s[1].Value.Uint64(),
		gcCPU:  s[2].Value.Float64(),
		cpu:    s[3].Value.Float64(),
		pauses: s[4].Value.Float64Histogram(),
	}
}

// pauseQuantile returns the q quantile and the maximum of the pauses recorded
// between two readings of the pause histogram, each as the upper bound of its
// bucket; zero when there were none.
func pauseQuantile(before, after *metrics.Float64Histogram, q float64) (quantile, maximum float64) {
	delta := make([]uint64, len(after.Counts))
	total := uint64(0)
	for i := range delta {
		delta[i] = after.Counts[i] - before.Counts[i]
		total += delta[i]
	}
	if total == 0 {
		return 0, 0
	}
	need := uint64(math.Ceil(q * float64(total)))
	seen := uint64(0)
	for i, c := range delta {
		if c == 0 {
			continue
		}
		seen += c
		upper := after.Buckets[i+1] // Buckets has one more boundary than Counts
		if seen >= need && quantile == 0 {
			quantile = upper
		}
		maximum = upper
	}
	return quantile, maximum
}
