package observe_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/memory"
	"github.com/tiermem/tiermem/observe"
)

// The leak-detection harness: workloads with known leaks and known
// non-leaks, each run for harnessSteps paced steps under an Optimizer that
// profiles after every step. A workload counts as flagged when the report
// holds any suspect at all (not only one at the workload's own code), so
// the process's own noise counts against precision.

const (
	harnessSteps = 12
	harnessPace  = 20 * time.Millisecond
	leakPerStep  = 2 << 20 // about the bytes a leak adds per step: four of the runtime's 512 KiB sampling intervals
)

// workload is one case: setup returns the step to run harnessSteps times
// and a cleanup that releases everything (a leak's memory included, so that
// the next workload starts from a flat heap).
type workload struct {
	name  string
	leaks bool
	setup func() (step func(i int), cleanup func())
}

// sink keeps what a workload retains; cleanup drops it.
var sink struct {
	mu sync.Mutex
	v  []any
}

func keep(v any) { sink.mu.Lock(); sink.v = append(sink.v, v); sink.mu.Unlock() }
func dropAll()   { sink.mu.Lock(); sink.v = nil; sink.mu.Unlock() }

func noCleanup() {}

func workloads() []workload {
	return append(leakingWorkloads(), steadyWorkloads()...)
}

func leakingWorkloads() []workload {
	return []workload{
		{"growing map", true, leakGrowingMap},
		{"growing slice of structs", true, leakSliceOfStructs},
		{"forgotten ticker goroutines", true, leakTickerGoroutines},
		{"goroutines blocked on a channel", true, leakBlockedGoroutines},
		{"goroutines waiting on a WaitGroup", true, leakWaitGroupGoroutines},
		{"off-heap region never closed", true, leakUnclosedRegion},
		{"off-heap handles kept open", true, leakOpenHandles},
		{"slice retaining a big array", true, leakRetainedArray},
		{"timers holding buffers", true, leakTimers},
		{"linked list", true, leakLinkedList},
		{"contexts never cancelled", true, leakContexts},
		{"log of strings", true, leakStrings},
		{"sync.Map with new keys", true, leakSyncMap},
		{"goroutines in select{}", true, leakSelectGoroutines},
		{"goroutines reading a pipe never written", true, leakPipeReaders},
		{"goroutines asleep for an hour", true, leakSleepers},
		{"history per key", true, leakHistories},
		{"callbacks holding buffers", true, leakCallbacks},
		{"queue never drained", true, leakQueue},
		{"reserved region never closed", true, leakUnclosedReserve},
		{"file mappings kept open", true, leakMappings},
	}
}

func steadyWorkloads() []workload {
	return []workload{
		{"cache that fills then plateaus", false, steadyFillingMap},
		{"cache package with a byte budget", false, steadyByteCache},
		{"sync.Pool", false, steadyPool},
		{"burst that is freed", false, steadyBurst},
		{"worker pool", false, steadyWorkers},
		{"goroutine bursts that finish", false, steadyGoroutineBursts},
		{"off-heap region closed", false, steadyClosedRegion},
		{"ring buffer", false, steadyRing},
		{"sawtooth", false, steadySawtooth},
		{"garbage churn", false, steadyChurn},
		{"stopped tickers", false, steadyStoppedTickers},
		{"constant live set", false, steadyConstantSet},
		{"contexts cancelled", false, steadyContexts},
		{"sync.Map with reused keys", false, steadySyncMap},
		{"goroutines with timeouts", false, steadyTimeouts},
		{"queue drained", false, steadyQueue},
		{"buffer reused", false, steadyBuffer},
		{"reserved region closed", false, steadyClosedReserve},
		{"file mapped and closed", false, steadyMappings},
		{"cache package counting entries", false, steadyCountCache},
		{"sliding window", false, steadyWindow},
	}
}

func leakGrowingMap() (func(int), func()) {
	m := map[int][]byte{}
	keep(m)
	n := 0
	return func(int) {
		for range leakPerStep / 256 {
			m[n] = make([]byte, 256)
			n++
		}
	}, dropAll
}

type record struct {
	id      int
	payload [120]byte
	next    *record
}

func leakSliceOfStructs() (func(int), func()) {
	var s []*record
	return func(int) {
		for i := range leakPerStep / 128 {
			r := &record{id: i}
			r.payload[0] = byte(i)
			s = append(s, r)
		}
		keep(s[len(s)-1])
	}, func() { s = nil; dropAll() }
}

func leakTickerGoroutines() (func(int), func()) {
	done := make(chan struct{})
	return func(int) {
		for range 5 {
			go func() {
				t := time.NewTicker(10 * time.Millisecond)
				for {
					select {
					case <-t.C:
					case <-done: // the harness's way out; the leak never closes it
						t.Stop()
						return
					}
				}
			}()
		}
	}, func() { close(done) }
}

func leakBlockedGoroutines() (func(int), func()) {
	never := make(chan int)
	return func(int) {
		for range 5 {
			go func() { <-never }()
		}
	}, func() { close(never) }
}

func leakWaitGroupGoroutines() (func(int), func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	return func(int) {
		for range 5 {
			go func() { wg.Wait() }()
		}
	}, func() { wg.Done() }
}

func leakUnclosedRegion() (func(int), func()) {
	return func(int) {
		h, err := memory.Allocate(1 << 20)
		if err != nil {
			panic(err)
		}
		_ = h // dropped without Close
	}, noCleanup
}

func leakOpenHandles() (func(int), func()) {
	var hs []*memory.WritableHandle
	return func(int) {
			h, err := memory.Allocate(leakPerStep)
			if err != nil {
				panic(err)
			}
			hs = append(hs, h)
		}, func() {
			for _, h := range hs {
				h.Close()
			}
		}
}

func leakRetainedArray() (func(int), func()) {
	return func(int) {
		big := make([]byte, leakPerStep)
		keep(big[:16]) // a small slice that keeps the whole array
	}, dropAll
}

func leakTimers() (func(int), func()) {
	var timers []*time.Timer
	var mu sync.Mutex
	return func(int) {
			for range 8 {
				buf := make([]byte, leakPerStep/8)
				t := time.AfterFunc(time.Hour, func() { _ = buf[0] })
				mu.Lock()
				timers = append(timers, t)
				mu.Unlock()
			}
		}, func() {
			for _, t := range timers {
				t.Stop()
			}
		}
}

func leakLinkedList() (func(int), func()) {
	head := &record{}
	keep(head)
	tail := head
	return func(int) {
		for range leakPerStep / 144 {
			tail.next = &record{}
			tail = tail.next
		}
	}, dropAll
}

func leakContexts() (func(int), func()) {
	parent, cancel := context.WithCancel(context.Background())
	var cancels []context.CancelFunc
	return func(int) {
		for range leakPerStep / 128 { // a context, its cancel func and its entry in the parent: about 128 bytes
			_, c := context.WithCancel(parent)
			cancels = append(cancels, c) // kept, never called: the leak under test
		}
	}, func() { cancels = nil; cancel() }
}

func leakStrings() (func(int), func()) {
	var log []string
	return func(i int) {
		for j := range leakPerStep / 512 {
			log = append(log, fmt.Sprintf("%d/%d ", i, j)+strings.Repeat("x", 500))
		}
		keep(log[len(log)-1])
	}, func() { log = nil; dropAll() }
}

func leakSyncMap() (func(int), func()) {
	var m sync.Map
	n := 0
	return func(int) {
		for range leakPerStep / 256 {
			m.Store(n, make([]byte, 256))
			n++
		}
	}, func() { m.Clear() }
}

func leakSelectGoroutines() (func(int), func()) {
	done := make(chan struct{})
	requests, replies := make(chan int), make(chan int) // nobody ever sends on either
	return func(int) {
		for range 5 {
			go func() {
				select {
				case <-requests:
				case <-replies:
				case <-done: // the harness's way out
				}
			}()
		}
	}, func() { close(done) }
}

func leakPipeReaders() (func(int), func()) {
	var writers []*io.PipeWriter
	return func(int) {
			for range 5 {
				r, w := io.Pipe()
				writers = append(writers, w)
				go func() { _, _ = io.ReadAll(r) }()
			}
		}, func() {
			for _, w := range writers {
				w.Close()
			}
		}
}

func leakSleepers() (func(int), func()) {
	wake := make(chan struct{})
	return func(int) {
		for range 5 {
			go func() {
				t := time.NewTimer(time.Hour)
				defer t.Stop()
				select {
				case <-t.C:
				case <-wake:
				}
			}()
		}
	}, func() { close(wake) }
}

func leakHistories() (func(int), func()) {
	hist := make(map[int][][]byte)
	return func(int) {
		for k := range 64 {
			for range leakPerStep / 64 / 512 {
				hist[k] = append(hist[k], make([]byte, 512))
			}
		}
	}, func() { clear(hist) }
}

func leakCallbacks() (func(int), func()) {
	var callbacks []func() int
	return func(int) {
		for range 256 {
			buf := make([]byte, leakPerStep/256)
			callbacks = append(callbacks, func() int { return len(buf) })
		}
	}, func() { callbacks = nil }
}

func leakQueue() (func(int), func()) {
	q := make(chan []byte, harnessSteps*leakPerStep/256)
	return func(int) {
		for range leakPerStep / 256 {
			q <- make([]byte, 256)
		}
	}, func() { q = nil }
}

func leakUnclosedReserve() (func(int), func()) {
	return func(int) {
		h, err := memory.Reserve(1 << 20)
		if err != nil {
			panic(err)
		}
		_ = h // dropped without Close
	}, noCleanup
}

// mappedFile returns a file of size bytes, removed at cleanup.
func mappedFile(size int64) (string, func()) {
	f, err := os.CreateTemp("", "observe-harness-*")
	if err != nil {
		panic(err)
	}
	if err := f.Truncate(size); err != nil {
		panic(err)
	}
	f.Close()
	return f.Name(), func() { os.Remove(f.Name()) }
}

func leakMappings() (func(int), func()) {
	path, remove := mappedFile(leakPerStep)
	var hs []*memory.Handle
	return func(int) {
			h, err := memory.Map(path, 0, leakPerStep)
			if err != nil {
				panic(err)
			}
			hs = append(hs, h)
		}, func() {
			for _, h := range hs {
				h.Close()
			}
			remove()
		}
}

func steadyFillingMap() (func(int), func()) {
	const entries = 3 * leakPerStep / 256 // full after three steps
	m := make(map[int][]byte)
	n := 0
	return func(int) {
		for range leakPerStep / 256 {
			m[n%entries] = make([]byte, 256)
			n++
		}
	}, func() { clear(m) }
}

func steadyByteCache() (func(int), func()) {
	c, err := cache.New(&cache.Options[int, []byte]{MaxWeight: 2 * leakPerStep,
		Weigher: func(_ int, v []byte) int64 { return int64(len(v)) }})
	if err != nil {
		panic(err)
	}
	n := 0
	return func(int) {
		for range leakPerStep / 1024 {
			_ = c.Set(n, make([]byte, 1024))
			n++
		}
	}, c.Close
}

func steadyPool() (func(int), func()) {
	p := sync.Pool{New: func() any { return new([4096]byte) }}
	return func(int) {
		for range 1000 {
			b := p.Get().(*[4096]byte)
			b[0]++
			p.Put(b)
		}
	}, noCleanup
}

func steadyBurst() (func(int), func()) {
	var burst [][]byte
	return func(i int) {
		switch i {
		case 2:
			for range 10 {
				burst = append(burst, make([]byte, leakPerStep))
			}
		case 5:
			burst = nil
		}
	}, func() { burst = nil }
}

func steadyWorkers() (func(int), func()) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for j := range jobs {
				_ = make([]byte, j)
			}
		})
	}
	return func(int) {
		for range 200 {
			jobs <- 1024
		}
	}, func() { close(jobs); wg.Wait() }
}

func steadyGoroutineBursts() (func(int), func()) {
	return func(int) {
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() { time.Sleep(time.Millisecond) })
		}
		wg.Wait()
	}, noCleanup
}

func steadyClosedRegion() (func(int), func()) {
	return func(int) {
		h, err := memory.Allocate(1 << 20)
		if err != nil {
			panic(err)
		}
		h.Close()
	}, noCleanup
}

func steadyRing() (func(int), func()) {
	ring := make([][]byte, 4096)
	n := 0
	return func(int) {
		for range leakPerStep / 512 {
			ring[n%len(ring)] = make([]byte, 512)
			n++
		}
	}, func() { clear(ring) }
}

func steadySawtooth() (func(int), func()) {
	var held [][]byte
	return func(i int) {
		if i%4 == 3 {
			held = nil
			return
		}
		held = append(held, make([]byte, leakPerStep))
	}, func() { held = nil }
}

func steadyChurn() (func(int), func()) {
	return func(int) {
		for range 4 * leakPerStep / 4096 {
			keepBriefly(make([]byte, 4096))
		}
	}, noCleanup
}

var brief []byte

func keepBriefly(b []byte) { brief = b }

func steadyStoppedTickers() (func(int), func()) {
	return func(int) {
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				t := time.NewTicker(time.Millisecond)
				defer t.Stop()
				<-t.C
			})
		}
		wg.Wait()
	}, noCleanup
}

func steadyConstantSet() (func(int), func()) {
	var set [][]byte
	return func(i int) {
		if i == 0 {
			for range 8 {
				set = append(set, make([]byte, leakPerStep))
			}
		}
	}, func() { set = nil }
}

func steadyContexts() (func(int), func()) {
	parent, cancel := context.WithCancel(context.Background())
	return func(int) {
		for range leakPerStep / 256 {
			_, c := context.WithCancel(parent)
			c()
		}
	}, cancel
}

func steadySyncMap() (func(int), func()) {
	var m sync.Map
	n := 0
	return func(int) {
		for range leakPerStep / 256 {
			m.Store(n%(leakPerStep/256), make([]byte, 256))
			n++
		}
	}, func() { m.Clear() }
}

func steadyTimeouts() (func(int), func()) {
	never := make(chan int)
	return func(int) {
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				select {
				case <-never:
				case <-time.After(time.Millisecond):
				}
			})
		}
		wg.Wait()
	}, noCleanup
}

func steadyQueue() (func(int), func()) {
	q := make(chan []byte, 1024)
	return func(int) {
		for range leakPerStep / 256 {
			q <- make([]byte, 256)
			<-q
		}
	}, noCleanup
}

func steadyBuffer() (func(int), func()) {
	var b bytes.Buffer
	return func(i int) {
		b.Reset()
		for range leakPerStep / 512 {
			fmt.Fprintf(&b, "%0512d", i)
		}
	}, noCleanup
}

func steadyClosedReserve() (func(int), func()) {
	return func(int) {
		h, err := memory.Reserve(1 << 20)
		if err != nil {
			panic(err)
		}
		h.Close()
	}, noCleanup
}

func steadyMappings() (func(int), func()) {
	path, remove := mappedFile(leakPerStep)
	return func(int) {
		h, err := memory.Map(path, 0, leakPerStep)
		if err != nil {
			panic(err)
		}
		h.Close()
	}, remove
}

func steadyCountCache() (func(int), func()) {
	c, err := cache.New(&cache.Options[int, []byte]{MaxWeight: 4096})
	if err != nil {
		panic(err)
	}
	n := 0
	return func(int) {
		for range 2048 {
			_ = c.Set(n, make([]byte, 512))
			n++
		}
	}, c.Close
}

func steadyWindow() (func(int), func()) {
	window := map[int][][]byte{}
	return func(i int) {
		for range leakPerStep / 256 {
			window[i] = append(window[i], make([]byte, 256))
		}
		delete(window, i-2) // keep the last two steps
	}, func() { clear(window) }
}

// settle collects until the heap and memory's leak reports stop changing,
// so that one workload's garbage is not the next one's.
func settle() {
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// runWorkload runs w under an Optimizer and returns the report's suspects.
func runWorkload(t testing.TB, w workload) []observe.Suspect {
	t.Helper()
	settle()
	o, err := observe.Start(&observe.Options{Interval: time.Hour, Profiles: harnessSteps + 1})
	if err != nil {
		t.Fatal(err)
	}
	step, cleanup := w.setup()
	tick := time.NewTicker(harnessPace)
	for i := range harnessSteps {
		<-tick.C
		step(i)
		// The runtime publishes the heap profile at the end of a cycle's
		// sweep, and skips it when another cycle has begun meanwhile: two
		// cycles make sure the profile after each step is published.
		runtime.GC()
		runtime.GC()
		if err := o.Sample(); err != nil {
			t.Fatal(err)
		}
	}
	tick.Stop()
	time.Sleep(10 * time.Millisecond) // memory's leak reports run after the GC, on their own goroutine
	r, err := o.Stop()
	if err != nil {
		t.Fatal(err)
	}
	cleanup()
	return r.Leaks
}

// confusion is the harness's confusion matrix.
type confusion struct{ tp, fp, tn, fn int }

func (c confusion) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c confusion) recall() float64    { return ratio(c.tp, c.tp+c.fn) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (c *confusion) add(leaks, flagged bool) {
	switch {
	case leaks && flagged:
		c.tp++
	case leaks:
		c.fn++
	case flagged:
		c.fp++
	default:
		c.tn++
	}
}

func TestLeakDetectionHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("the harness runs for about 25 s under -race")
	}
	ws := workloads()
	if len(ws) < 40 || len(leakingWorkloads()) < 20 {
		t.Fatalf("%d workloads: the harness promises at least 20 of each kind", len(ws))
	}
	var c confusion
	for _, w := range ws {
		suspects := runWorkload(t, w)
		c.add(w.leaks, len(suspects) > 0)
		if (len(suspects) > 0) != w.leaks {
			t.Logf("MISS %s (leaks=%v): %d suspects", w.name, w.leaks, len(suspects))
		}
		for _, s := range suspects {
			t.Logf("  %s: %s %s at %s, r² %.2f", w.name, s.Kind, fmt.Sprint(s.Bytes), s.Site, s.Growth.R2)
		}
	}
	t.Logf("confusion matrix over %d workloads: TP %d FP %d TN %d FN %d; precision %.3f recall %.3f",
		len(ws), c.tp, c.fp, c.tn, c.fn, c.precision(), c.recall())
	if c.precision() < 0.95 || c.recall() < 0.95 {
		t.Errorf("precision %.3f, recall %.3f: the promise is 0.95 each", c.precision(), c.recall())
	}
}
