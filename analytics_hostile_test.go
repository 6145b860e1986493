package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

type hostileTotals struct {
	hits, misses int64
	tierHits     [4]int64
	stores       [4]int64
}

func hostileSum(s []tiermem.AnalyticsSample) hostileTotals {
	var r hostileTotals
	for _, x := range s {
		r.hits += x.Hits
		r.misses += x.Misses
		for t, ts := range x.Tiers {
			r.tierHits[t] += ts.Hits
			r.stores[t] += ts.Stores
		}
	}
	return r
}

// TestHostileAnalyticsCountsMatchOperations: every kind of read and Store
// counted exactly once, and the rates consistent.
func TestHostileAnalyticsCountsMatchOperations(t *testing.T) {
	m, clock := openAnalytics(t)
	must(t, m.EnableAnalytics(time.Hour))
	val := bytes.Repeat([]byte("x"), 100)
	for i := range 30 {
		must(t, m.Store(fmt.Sprint("h", i), val, tiermem.InTier(tiermem.Hot)))
	}
	for i := range 20 {
		must(t, m.Store(fmt.Sprint("w", i), val, tiermem.InTier(tiermem.Warm)))
	}
	for i := range 10 {
		must(t, m.Store(fmt.Sprint("c", i), val, tiermem.InTier(tiermem.Cold)))
	}
	must(t, m.Store("ttl", val, tiermem.InTier(tiermem.Hot), tiermem.WithTTL(time.Second)))
	for i := range 30 {
		if _, err := m.Retrieve(fmt.Sprint("h", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if _, err := m.Retrieve(fmt.Sprint("w", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		v, err := m.OpenValue(fmt.Sprint("c", i))
		if err != nil {
			t.Fatal(err)
		}
		_ = v
		v.Close()
	}
	v, err := m.TakeValue("c9")
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	for i := range 7 {
		if _, err := m.Retrieve(fmt.Sprint("absent", i)); !errors.Is(err, tiermem.ErrNotFound) {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Second)
	if _, err := m.Retrieve("ttl"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := m.OpenValue("absent"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatal(err)
	}
	m.DisableAnalytics()
	s := m.Analytics()
	got := hostileSum(s)
	want := hostileTotals{hits: 56, misses: 9, tierHits: [4]int64{30, 20, 6}, stores: [4]int64{31, 20, 10}}
	if got != want {
		t.Errorf("totals %+v, want %+v", got, want)
	}
	for i, x := range s {
		var sum float64
		var th int64
		for _, ts := range x.Tiers {
			th += ts.Hits
			if !math.IsNaN(ts.HitRate) {
				sum += ts.HitRate
			}
		}
		if th != x.Hits {
			t.Errorf("sample %d: tiers' hits %d, sample's %d", i, th, x.Hits)
		}
		if x.Hits+x.Misses > 0 && math.Abs(sum-x.HitRate) > 1e-9 {
			t.Errorf("sample %d: tiers' hit rates add to %v, sample's %v", i, sum, x.HitRate)
		}
	}
	// Round trip through the JSON writer and reader.
	var b bytes.Buffer
	must(t, m.WriteAnalytics(&b))
	back, err := tiermem.ReadAnalytics(&b)
	if err != nil {
		t.Fatal(err)
	}
	if hostileSum(back) != got || len(back) != len(s) {
		t.Errorf("read back %+v (%d samples), wrote %+v (%d)", hostileSum(back), len(back), got, len(s))
	}
}

func hostileGoroutines() int {
	runtime.GC()
	return runtime.NumGoroutine()
}

func hostileSettle(t *testing.T, before int) {
	t.Helper()
	var n int
	for range 200 {
		if n = hostileGoroutines(); n <= before {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Errorf("%d goroutines after, %d before:\n%s", n, before, buf)
}

// TestHostileAnalyticsConcurrentChurnAndClose: many goroutines read, store,
// enable, disable and export while Close runs; no race, no panic, no leak.
func TestHostileAnalyticsConcurrentChurnAndClose(t *testing.T) {
	before := hostileGoroutines()
	o := tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{Disabled: true},
	}
	for round := range 3 {
		m, err := tiermem.Open(t.TempDir(), &o)
		if err != nil {
			t.Fatal(err)
		}
		must(t, m.EnableAnalytics(time.Millisecond, tiermem.AnalyticsCapacity(3)))
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprint("k", (g*7+i)%50)
					switch (g + i) % 8 {
					case 0, 1:
						m.Store(key, []byte("value"))
					case 2, 3, 4:
						m.Retrieve(key)
					case 5:
						if g%4 == 0 {
							m.EnableAnalytics(time.Millisecond*time.Duration(1+i%3), tiermem.AnalyticsCapacity(1+i%5))
						} else {
							m.DisableAnalytics()
						}
					case 6:
						for _, s := range m.Analytics() {
							if len(s.Tiers) != 3 {
								panic(fmt.Sprintf("sample with %d tiers", len(s.Tiers)))
							}
						}
					case 7:
						m.WriteAnalytics(io.Discard)
						m.WriteAnalyticsCSV(io.Discard)
					}
				}
			}()
		}
		time.Sleep(time.Duration(100+100*round) * time.Millisecond)
		if err := m.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
		close(stop)
		wg.Wait()
		if err := m.EnableAnalytics(time.Millisecond); !errors.Is(err, tiermem.ErrClosed) {
			t.Errorf("EnableAnalytics after Close: %v, want ErrClosed", err)
		}
		m.DisableAnalytics()
		_ = m.Analytics()
	}
	hostileSettle(t, before)
}

// TestHostileAnalyticsDisableStopsGoroutine: Enable/Disable many times
// leaves no sampler goroutine, and samples stay after Disable.
func TestHostileAnalyticsDisableStopsGoroutine(t *testing.T) {
	m, _ := openAnalytics(t)
	before := hostileGoroutines()
	for i := range 50 {
		must(t, m.EnableAnalytics(time.Microsecond*time.Duration(1+i), tiermem.AnalyticsCapacity(1+i%3)))
	}
	m.DisableAnalytics()
	m.DisableAnalytics()
	hostileSettle(t, before)
	if s := m.Analytics(); len(s) == 0 || len(s) > 3 {
		t.Errorf("%d samples after Disable", len(s))
	}
}

// TestHostileAnalyticsOptionsErrors: bad intervals and capacities wrap ErrOptions.
func TestHostileAnalyticsOptionsErrors(t *testing.T) {
	m, _ := openAnalytics(t)
	for _, c := range []struct {
		d time.Duration
		n int
	}{{0, 1}, {-1, 1}, {time.Second, 0}, {time.Second, -5}, {math.MinInt64, 1}} {
		if err := m.EnableAnalytics(c.d, tiermem.AnalyticsCapacity(c.n)); !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("EnableAnalytics(%v, cap %d) = %v, want ErrOptions", c.d, c.n, err)
		}
	}
}

// TestHostileAnalyticsHugeCapacity: a hostile capacity must be refused with
// an error, not a panic or an out-of-memory crash.
func TestHostileAnalyticsHugeCapacity(t *testing.T) {
	m, _ := openAnalytics(t)
	for _, n := range []int{math.MaxInt, math.MaxInt / 3} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("AnalyticsCapacity(%d): panic %v", n, r)
				}
			}()
			err := m.EnableAnalytics(time.Hour, tiermem.AnalyticsCapacity(n))
			t.Logf("AnalyticsCapacity(%d): %v", n, err)
			if err == nil {
				t.Errorf("AnalyticsCapacity(%d) accepted", n)
				m.DisableAnalytics()
			}
		}()
	}
}

const hostileTier = `{"tier":"hot","used_bytes":1,"capacity_bytes":10,"percent":10,"items":1,"hits":1,"hit_rate":0.5,"stores":1,"promotions":0,"demotions":0,"evictions":0,"expirations":0,"retrieve_ns":{"samples":1,"p50":5,"p99":5,"p999":5},"store_ns":{"samples":0,"p50":0,"p99":0,"p999":0}}`

func hostileFile(sample string) string {
	return `{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[` + sample + `]}`
}

func hostileSampleJSON(tier string) string {
	return `{"time":"2026-01-01T00:00:00Z","interval_ns":1000,"hits":1,"misses":1,"hit_rate":0.5,"tiers":[` + tier + `]}`
}

// TestHostileReadAnalyticsHostile: every malformed document wraps
// ErrAnalyticsFormat; nothing panics.
func TestHostileReadAnalyticsHostile(t *testing.T) {
	good := hostileFile(hostileSampleJSON(hostileTier))
	if _, err := tiermem.ReadAnalytics(strings.NewReader(good)); err != nil {
		t.Fatalf("good document: %v", err)
	}
	bad := map[string]string{
		"empty":               "",
		"null":                "null",
		"array":               "[]",
		"truncated":           good[:len(good)/2],
		"version 2":           strings.Replace(good, `"version":1`, `"version":2`, 1),
		"version 1.5":         strings.Replace(good, `"version":1`, `"version":1.5`, 1),
		"five tiers":          strings.Replace(good, `"tiers":["hot"]`, `"tiers":["hot","warm","cold","glacier","x"]`, 1),
		"tier misnamed":       strings.Replace(good, `"tiers":["hot"]`, `"tiers":["warm"]`, 1),
		"rate 2":              strings.Replace(good, `"hit_rate":0.5,"tiers"`, `"hit_rate":2,"tiers"`, 1),
		"tier rate -1":        strings.Replace(good, `"hit_rate":0.5,"stores"`, `"hit_rate":-1,"stores"`, 1),
		"negative hits":       strings.Replace(good, `"hits":1,"misses"`, `"hits":-1,"misses"`, 1),
		"negative percent":    strings.Replace(good, `"percent":10`, `"percent":-1`, 1),
		"huge int":            strings.Replace(good, `"used_bytes":1`, `"used_bytes":1e400`, 1),
		"sample tier count":   hostileFile(`{"time":"2026-01-01T00:00:00Z","interval_ns":1,"hits":0,"misses":0,"hit_rate":null,"tiers":[]}`),
		"bad time":            strings.Replace(good, `2026-01-01T00:00:00Z`, `yesterday`, 1),
		"samples not array":   `{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":{}}`,
		"trailing garbage":    good + `{"format":"junk"}`,
		"hits over reads":     strings.Replace(good, `"hits":1,"misses":1,"hit_rate":0.5`, `"hits":5,"misses":0,"hit_rate":0.1`, 1),
		"tier hits > sample":  strings.Replace(good, `"hits":1,"hit_rate":0.5,"stores"`, `"hits":99,"hit_rate":0.5,"stores"`, 1),
		"p50 above samples=0": strings.Replace(good, `"store_ns":{"samples":0,"p50":0`, `"store_ns":{"samples":0,"p50":7`, 1),
		"huge percent":        strings.Replace(good, `"percent":10`, `"percent":1e300`, 1),
	}
	for name, doc := range bad {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			s, err := tiermem.ReadAnalytics(strings.NewReader(doc))
			if !errors.Is(err, tiermem.ErrAnalyticsFormat) {
				t.Errorf("%s: ReadAnalytics = %d samples, %v; want ErrAnalyticsFormat", name, len(s), err)
			}
		}()
	}
}

// TestHostileReadAnalyticsManySamplesBounded: a small file claiming nothing
// huge; a large sample count reads back in memory proportional to input.
func TestHostileReadAnalyticsManySamples(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[`)
	for i := range 20000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(hostileSampleJSON(hostileTier))
	}
	b.WriteString(`]}`)
	s, err := tiermem.ReadAnalytics(strings.NewReader(b.String()))
	if err != nil || len(s) != 20000 {
		t.Fatalf("%d samples, %v", len(s), err)
	}
}
