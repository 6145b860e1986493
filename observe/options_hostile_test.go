package observe_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/observe"
)

func hostileSettleGoroutines(t *testing.T, base int) {
	t.Helper()
	var n int
	for range 300 {
		runtime.GC()
		if n = runtime.NumGoroutine(); n <= base {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("goroutines %d before, %d after:\n%s", base, n, buf[:runtime.Stack(buf, true)])
}

// hostileStart calls Start, turning a panic into a test error, and stops
// what it started.
func hostileStart(t *testing.T, name string, opts *observe.Options) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: Start panicked: %v", name, r)
			err = nil
		}
	}()
	o, err := observe.Start(opts)
	if err == nil {
		o.Stop()
	}
	return err
}

func TestHostileOptionsRefused(t *testing.T) {
	cases := []struct {
		name string
		opts observe.Options
	}{
		{"GCCPUTarget NaN", observe.Options{GCCPUTarget: math.NaN()}},
		{"GCCPUTarget +Inf", observe.Options{GCCPUTarget: math.Inf(1)}},
		{"GCCPUTarget -Inf", observe.Options{GCCPUTarget: math.Inf(-1)}},
		{"GCCPUTarget 1", observe.Options{GCCPUTarget: 1}},
		{"negative interval", observe.Options{Interval: -time.Second}},
		{"Samples 1", observe.Options{Samples: 1}},
		{"Profiles 3", observe.Options{Profiles: 3}},
		{"Profiles -5", observe.Options{Profiles: -5}},
		{"Samples MaxInt", observe.Options{Samples: math.MaxInt}},
		{"Profiles MaxInt", observe.Options{Profiles: math.MaxInt}},
		{"nil allocator Stats", observe.Options{Allocators: []observe.AllocatorSource{{Name: "a"}}}},
		{"nil cache Stats", observe.Options{Caches: []observe.CacheSource{{Name: "c"}}}},
		{"nil pool Stats", observe.Options{Pools: []observe.PoolSource{{Name: "p"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			err := hostileStart(t, tc.name, &opts)
			if t.Failed() {
				return
			}
			if !errors.Is(err, observe.ErrOptions) {
				t.Errorf("Start(%s) = %v, want ErrOptions", tc.name, err)
			}
		})
	}
}

// Many goroutines using an Optimizer while two Stops race: no panic, no
// race, exactly one Stop succeeds, later calls get ErrStopped, no goroutine
// left behind, GC settings unchanged (nothing to apply in this idle run,
// or else restored).
func TestHostileConcurrentStop(t *testing.T) {
	gogc := debug.SetGCPercent(100)
	debug.SetGCPercent(gogc)
	limit := debug.SetMemoryLimit(-1)
	base := runtime.NumGoroutine()
	for round := range 3 {
		c, _ := cache.New[int, int](nil)
		slab, _ := alloc.NewSlab(1<<20, nil)
		sa := alloc.Synchronized(slab)
		pool := observe.NewCountedPool(func() *int { return new(int) }, nil)
		o, err := observe.Start(&observe.Options{Interval: time.Millisecond, ProfileEvery: 2, Samples: 8, Profiles: 4,
			Allocators: []observe.AllocatorSource{{Name: "slab", Stats: sa.Stats}},
			Caches:     []observe.CacheSource{{Name: "c", Stats: c.Stats}},
			Pools:      []observe.PoolSource{{Name: "p", Stats: pool.Stats}},
			HotBytes:   func() int64 { return c.Weight() }})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var stopOK, stopErr atomic.Int64
		var stopped atomic.Bool
		var bad atomic.Int64
		for g := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 40 {
					wasStopped := stopped.Load()
					switch (i + g) % 4 {
					case 0:
						if err := o.Sample(); wasStopped && !errors.Is(err, observe.ErrStopped) {
							bad.Add(1)
						}
					case 1:
						_, err := o.Apply()
						if err != nil && !errors.Is(err, observe.ErrStopped) || wasStopped && err == nil {
							bad.Add(1)
						}
					case 2:
						r := o.Snapshot()
						_ = r.Summary()
					case 3:
						c.Set(i, i)
						c.Get(i - 1)
						if off, err := sa.Alloc(int64(16 + i)); err == nil {
							sa.Free(off, int64(16+i))
						}
						pool.Put(pool.Get())
					}
				}
			}()
		}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(round*5) * time.Millisecond)
				_, err := o.Stop()
				stopped.Store(true)
				if err == nil {
					stopOK.Add(1)
				} else if errors.Is(err, observe.ErrStopped) {
					stopErr.Add(1)
				}
			}()
		}
		wg.Wait()
		c.Close()
		if stopOK.Load() != 1 || stopErr.Load() != 1 {
			t.Fatalf("two racing Stops: %d succeeded, %d ErrStopped", stopOK.Load(), stopErr.Load())
		}
		if n := bad.Load(); n > 0 {
			t.Fatalf("%d calls after Stop did not return ErrStopped", n)
		}
		if _, err := o.Apply(); !errors.Is(err, observe.ErrStopped) {
			t.Fatalf("Apply after Stop = %v", err)
		}
	}
	hostileSettleGoroutines(t, base)
	if g := debug.SetGCPercent(gogc); g != gogc {
		t.Errorf("GOGC %d after Stop, was %d", g, gogc)
	}
	if l := debug.SetMemoryLimit(-1); l != limit {
		t.Errorf("memory limit %d after Stop, was %d", l, limit)
		debug.SetMemoryLimit(limit)
	}
}

// ReadReport on every truncation of a real report: ErrFormat, never a
// panic; and Summary of the smallest accepted report does not panic.
func TestHostileReadReportTruncated(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "report.json"))
	if err != nil {
		t.Skip(err)
	}
	step := max(1, len(data)/2000)
	for n := 0; n < len(data)-1; n += step {
		trimmed := bytes.TrimSpace(data[:n])
		if len(trimmed) == len(bytes.TrimSpace(data)) {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("ReadReport of %d bytes panicked: %v", n, r)
				}
			}()
			if _, err := observe.ReadReport(bytes.NewReader(data[:n])); !errors.Is(err, observe.ErrFormat) {
				t.Fatalf("ReadReport of the first %d of %d bytes = %v, want ErrFormat", n, len(data), err)
			}
		}()
	}
	for _, in := range []string{"", "null", "[]", "{}", "\x00\xff", `{"kind":"tiermem.observe.report","version":2,"samples":[{}]}`,
		`{"kind":"tiermem.observe.report","version":1,"samples":[]}`, `{"kind":"tiermem.observe.report","version":1,"samples":null}`,
		`{"kind":"tiermem.observe.report","version":1.5,"samples":[{}]}`,
		`{"kind":"tiermem.observe.report","version":1,"samples":[{}]} trailing`} {
		if _, err := observe.ReadReport(bytes.NewReader([]byte(in))); !errors.Is(err, observe.ErrFormat) {
			t.Errorf("ReadReport(%q) = %v, want ErrFormat", in, err)
		}
	}
	weird := `{"kind":"tiermem.observe.report","version":1,"samples":[{}],
	 "memory":{"now":{"heap_live":-9223372036854775808,"rss":-1}},
	 "gc":{"gogc":-1,"memory_limit":-5,"window":-1,"opportunities":[{"action":"bogus","value":-9223372036854775808}]},
	 "leaks":[{"kind":"goroutine","count":-3},{"kind":""}],
	 "applied":[{"measured":true,"previous":-1}]}`
	r, err := observe.ReadReport(bytes.NewReader([]byte(weird)))
	if err != nil {
		t.Logf("weird report refused: %v", err)
		return
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Summary of an accepted report panicked: %v", p)
			}
		}()
		_ = r.Summary()
	}()
}

// Start/Stop in a loop from several goroutines: no goroutine leak, the leak
// reporter hub stays consistent.
func TestHostileStartStopNoLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var errs atomic.Int64
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				o, err := observe.Start(&observe.Options{Interval: time.Duration(1+g) * time.Millisecond, Samples: 4, Profiles: 4})
				if err != nil {
					errs.Add(1)
					return
				}
				time.Sleep(2 * time.Millisecond)
				if _, err := o.Stop(); err != nil {
					errs.Add(1)
				}
				if _, err := o.Stop(); !errors.Is(err, observe.ErrStopped) {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if errs.Load() > 0 {
		t.Fatalf("%d errors", errs.Load())
	}
	hostileSettleGoroutines(t, base)
}

func TestHostileMemoryLimitFor(t *testing.T) {
	for _, b := range []int64{math.MinInt64, -1, 0, 1, 1 << 40, math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64 / 5 * 4} {
		got := observe.MemoryLimitFor(b)
		if got <= 0 || (b > 0 && got < b) {
			t.Errorf("MemoryLimitFor(%d) = %d", b, got)
		}
	}
	_ = fmt.Sprint()
}
