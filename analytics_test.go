package tiermem_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// openAnalytics returns a Manager on a fake clock with small budgets, no
// background migration and glacier off.
func openAnalytics(t *testing.T) (*tiermem.Manager, *tiermem.FakeClock) {
	t.Helper()
	o := tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{Disabled: true},
	}
	clock := tiermem.NewFakeClock()
	tiermem.SetClock(&o, clock)
	return open(t, &o), clock
}

// TestAnalyticsCounts: hits by the tier that served them, misses (absent
// and expired), Stores by tier, moves, usage and timed operations add up
// to what the test did.
func TestAnalyticsCounts(t *testing.T) {
	m, clock := openAnalytics(t)
	must(t, m.EnableAnalytics(time.Hour)) // the samples come from DisableAnalytics
	value := make([]byte, 1000)
	for i, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		for k := range 10 {
			must(t, m.Store(fmt.Sprintf("%v%d", tr, k), value, tiermem.InTier(tr)))
		}
		for r := range 64 * (i + 1) * 10 {
			if _, err := m.Retrieve(fmt.Sprintf("%v%d", tr, r%10)); err != nil {
				t.Fatal(err)
			}
		}
	}
	must(t, m.View("hot0", func([]byte) error { return nil }))
	must(t, m.Store("short", value, tiermem.WithTTL(time.Second)))
	clock.Advance(time.Minute)
	for _, key := range []string{"absent", "short"} {
		if _, err := m.Retrieve(key); !errors.Is(err, tiermem.ErrNotFound) {
			t.Fatalf("Retrieve(%q) = %v, want ErrNotFound", key, err)
		}
	}
	must(t, m.Move("hot1", tiermem.Warm))
	must(t, m.Move("cold1", tiermem.Hot))
	if _, err := m.Tier("hot0"); err != nil { // not a read: not counted
		t.Fatal(err)
	}
	m.DisableAnalytics()
	samples := m.Analytics()
	if len(samples) != 1 {
		t.Fatalf("%d samples, want the one DisableAnalytics takes", len(samples))
	}
	s := samples[0]
	if s.Interval != time.Minute || !s.Time.Equal(clock.Now()) {
		t.Errorf("sample at %v over %v, want at %v over a minute", s.Time, s.Interval, clock.Now())
	}
	wantHits := [...]int64{641, 1280, 1920}
	if s.Hits != 641+1280+1920 || s.Misses != 2 || len(s.Tiers) != 3 {
		t.Fatalf("hits %d misses %d tiers %d, want %d, 2, 3", s.Hits, s.Misses, len(s.Tiers), 641+1280+1920)
	}
	reads := float64(s.Hits + s.Misses)
	if s.HitRate != float64(s.Hits)/reads {
		t.Errorf("hit rate %v, want %v", s.HitRate, float64(s.Hits)/reads)
	}
	u := m.Usage()
	for tr, ts := range s.Tiers {
		if ts.Hits != wantHits[tr] || ts.HitRate != float64(wantHits[tr])/reads {
			t.Errorf("%v: hits %d rate %v, want %d and %v", tiermem.Tier(tr), ts.Hits, ts.HitRate, wantHits[tr], float64(wantHits[tr])/reads)
		}
		if ts.TierUsage != u[tr] {
			t.Errorf("%v: usage %+v, want %+v", tiermem.Tier(tr), ts.TierUsage, u[tr])
		}
		if want := int64(10 + map[int]int{0: 1}[tr]); ts.Stores != want {
			t.Errorf("%v: %d stores, want %d", tiermem.Tier(tr), ts.Stores, want)
		}
		// One read in 64 is timed, from the 65th of a goroutine's stripe.
		if want := wantHits[tr] / 64; ts.Retrieve.Samples < want-2 || ts.Retrieve.Samples > want+1 {
			t.Errorf("%v: %d reads timed of %d, want about %d", tiermem.Tier(tr), ts.Retrieve.Samples, wantHits[tr], want)
		}
		if l := ts.Retrieve; l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.P999 {
			t.Errorf("%v: retrieve latency %+v is not ordered", tiermem.Tier(tr), l)
		}
	}
	st := s.Tiers
	if st[tiermem.Hot].Demotions != 1 || st[tiermem.Warm].Promotions != 0 || st[tiermem.Hot].Promotions != 1 ||
		st[tiermem.Cold].Demotions != 0 || st[tiermem.Hot].Expirations != 1 {
		t.Errorf("moves %+v %+v %+v: want hot: 1 promotion, 1 demotion, 1 expiration", st[0].TierStats, st[1].TierStats, st[2].TierStats)
	}
}

// TestAnalyticsIntervalWithoutReads: a rate without reads is NaN, not 0.
func TestAnalyticsIntervalWithoutReads(t *testing.T) {
	m, _ := openAnalytics(t)
	must(t, m.EnableAnalytics(time.Hour))
	m.DisableAnalytics()
	s := m.Analytics()
	if len(s) != 1 || !math.IsNaN(s[0].HitRate) || !math.IsNaN(s[0].Tiers[0].HitRate) || s[0].Tiers[0].Retrieve != (tiermem.Latency{}) {
		t.Fatalf("samples %+v, want one with NaN rates and no latency", s)
	}
}

// TestAnalyticsOptions: bad options are ErrOptions, and nothing starts.
func TestAnalyticsOptions(t *testing.T) {
	m, _ := openAnalytics(t)
	for _, err := range []error{m.EnableAnalytics(0), m.EnableAnalytics(-time.Second), m.EnableAnalytics(time.Second, tiermem.AnalyticsCapacity(0))} {
		if !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("err = %v, want ErrOptions", err)
		}
	}
	if s := m.Analytics(); len(s) != 0 {
		t.Errorf("%d samples before any EnableAnalytics", len(s))
	}
	m.DisableAnalytics() // while off: nothing
}

// TestAnalyticsSamplesEveryInterval: the sampler runs on its own, keeps the
// latest capacity samples, and EnableAnalytics again starts over.
func TestAnalyticsSamplesEveryInterval(t *testing.T) {
	m := open(t, nil)
	must(t, m.EnableAnalytics(time.Millisecond, tiermem.AnalyticsCapacity(4)))
	deadline := time.Now().Add(10 * time.Second)
	for len(m.Analytics()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a few more: the ring wraps
	s := m.Analytics()
	if len(s) != 4 {
		t.Fatalf("%d samples, want the ring's 4", len(s))
	}
	for i := 1; i < len(s); i++ {
		if !s[i].Time.After(s[i-1].Time) || s[i].Interval <= 0 {
			t.Fatalf("sample %d at %v after %v over %v: want later, over a positive interval", i, s[i].Time, s[i-1].Time, s[i].Interval)
		}
	}
	must(t, m.EnableAnalytics(time.Hour))
	if got := len(m.Analytics()); got != 0 {
		t.Fatalf("%d samples after EnableAnalytics started over, want 0", got)
	}
}

// TestAnalyticsConcurrent: readers, writers, moves and migration passes
// while the sampler samples every millisecond and others read the samples:
// no hit and no Store is lost or counted twice.
func TestAnalyticsConcurrent(t *testing.T) {
	m := open(t, nil)
	must(t, m.EnableAnalytics(5*time.Millisecond, tiermem.AnalyticsCapacity(1<<14)))
	const keys = 64
	for k := range keys {
		must(t, m.Store(fmt.Sprint("k", k), make([]byte, 100)))
	}
	var hits, misses, stores atomic.Int64
	var wg, mover sync.WaitGroup
	stop := make(chan struct{})
	n := 2000
	if raceEnabled {
		n = 500
	}
	for g := range 4 {
		wg.Go(func() {
			buf := make([]byte, 0, 100)
			for i := range n {
				key := fmt.Sprint("k", (i*7+g)%keys)
				var err error
				switch i % 4 {
				case 0:
					if err = m.Store(key, make([]byte, 100+i%50)); err == nil {
						stores.Add(1)
					}
				case 1:
					err = m.View(key, func([]byte) error { return nil })
				case 2:
					buf, err = m.RetrieveAppend(buf[:0], key)
				case 3:
					_, err = m.Retrieve(fmt.Sprint("absent", i))
				}
				switch {
				case err == nil && i%4 != 0:
					hits.Add(1)
				case errors.Is(err, tiermem.ErrNotFound):
					misses.Add(1)
				case err != nil:
					t.Error(err)
					return
				}
			}
		})
	}
	mover.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m.Move(fmt.Sprint("k", i%keys), tiermem.Tier(i%3))
			m.Migrate()
			if i%20 == 0 {
				var b bytes.Buffer
				must(t, m.WriteAnalytics(&b))
			}
			m.Analytics()
		}
	})
	wg.Wait()
	close(stop)
	mover.Wait()
	m.DisableAnalytics()
	var gotHits, gotMisses, gotStores int64
	for _, s := range m.Analytics() {
		gotHits += s.Hits
		gotMisses += s.Misses
		var tierHits int64
		for _, ts := range s.Tiers {
			gotStores += ts.Stores
			tierHits += ts.Hits
		}
		if tierHits != s.Hits {
			t.Fatalf("tiers' hits %d, sample's %d", tierHits, s.Hits)
		}
	}
	if gotHits != hits.Load() || gotMisses != misses.Load() || gotStores != stores.Load()+keys {
		t.Fatalf("analytics counted %d hits, %d misses, %d stores; the test did %d, %d, %d",
			gotHits, gotMisses, gotStores, hits.Load(), misses.Load(), stores.Load()+keys)
	}
}

// TestAnalyticsEnableDisableWhileBusy: turning analytics on and off while
// reads, Stores and Analytics run breaks nothing (run under -race).
func TestAnalyticsEnableDisableWhileBusy(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("k", []byte("v")))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := m.Retrieve("k"); err != nil {
					t.Error(err)
					return
				}
				must(t, m.Store("k", []byte("v")))
				m.Analytics()
			}
		})
	}
	for i := range 50 {
		if i%2 == 0 {
			must(t, m.EnableAnalytics(time.Millisecond, tiermem.AnalyticsCapacity(1+i)))
		} else {
			m.DisableAnalytics()
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
}

// TestAnalyticsCloseWhileSampling: Close stops the sampler after a last
// sample; the samples stay readable, and analytics cannot start again.
func TestAnalyticsCloseWhileSampling(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	must(t, m.Store("k", []byte("v")))
	must(t, m.EnableAnalytics(time.Millisecond))
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 2 {
		wg.Go(func() {
			for {
				if _, err := m.Retrieve("k"); errors.Is(err, tiermem.ErrClosed) {
					return
				} else if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		})
	}
	for reads.Load() < 1000 {
		time.Sleep(time.Millisecond)
	}
	must(t, m.Close())
	wg.Wait()
	var hits int64
	for _, s := range m.Analytics() {
		hits += s.Hits
	}
	if hits != reads.Load() {
		t.Errorf("analytics counted %d hits, the readers made %d", hits, reads.Load())
	}
	if err := m.EnableAnalytics(time.Second); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("EnableAnalytics after Close = %v, want ErrClosed", err)
	}
	m.DisableAnalytics()
	var b bytes.Buffer
	must(t, m.WriteAnalytics(&b))
}

// TestAnalyticsAllocs: analytics on adds no allocation to a read or a
// Store.
func TestAnalyticsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	m, _ := openAnalytics(t)
	must(t, m.Store("k", make([]byte, 100)))
	buf := make([]byte, 0, 100)
	value := make([]byte, 100)
	measure := func() (read, store float64) {
		read = testing.AllocsPerRun(1000, func() { buf, _ = m.RetrieveAppend(buf[:0], "k") })
		store = testing.AllocsPerRun(1000, func() { m.Store("k", value) })
		return read, store
	}
	offRead, offStore := measure()
	must(t, m.EnableAnalytics(time.Millisecond))
	onRead, onStore := measure()
	if onRead != offRead || onStore != offStore || onRead != 0 {
		t.Errorf("allocations per read %v → %v, per Store %v → %v with analytics on; want no more, and none per read", offRead, onRead, offStore, onStore)
	}
}

// TestAnalyticsJSONAndCSV: WriteAnalytics writes what ReadAnalytics reads
// back as it was, NaN rates included, and the CSV has a row per sample with
// the header's columns.
func TestAnalyticsJSONAndCSV(t *testing.T) {
	m, _ := openAnalytics(t)
	must(t, m.EnableAnalytics(time.Hour))
	must(t, m.Store("k", make([]byte, 100)))
	for range 200 {
		m.Retrieve("k")
	}
	m.Retrieve("absent")
	m.DisableAnalytics()
	want := m.Analytics()
	var b bytes.Buffer
	must(t, m.WriteAnalytics(&b))
	got, err := tiermem.ReadAnalytics(bytes.NewReader(b.Bytes()))
	must(t, err)
	if !sameSamples(got, want) {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	var c bytes.Buffer
	must(t, m.WriteAnalyticsCSV(&c))
	rows, err := csv.NewReader(&c).ReadAll()
	must(t, err)
	if len(rows) != 1+len(want) || len(rows[0]) != 5+3*19 || rows[0][5] != "hot_used_bytes" || rows[1][4] != fmt.Sprint(200.0/201) ||
		rows[1][5+19+5] != "0" { // warm_hit_rate: it served none of the 201 reads
		t.Fatalf("CSV %q: want a header of %d columns and a row per sample", rows, 5+3*19)
	}
}

// sameSamples compares samples, NaN equal to NaN and times by Equal.
func sameSamples(a, b []tiermem.AnalyticsSample) bool {
	if len(a) != len(b) {
		return false
	}
	same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	for i := range a {
		x, y := a[i], b[i]
		if !x.Time.Equal(y.Time) || x.Interval != y.Interval || x.Hits != y.Hits || x.Misses != y.Misses ||
			!same(x.HitRate, y.HitRate) || len(x.Tiers) != len(y.Tiers) {
			return false
		}
		for t := range x.Tiers {
			p, q := x.Tiers[t], y.Tiers[t]
			if !same(p.HitRate, q.HitRate) || !same(p.Percent, q.Percent) {
				return false
			}
			p.HitRate, q.HitRate, p.Percent, q.Percent = 0, 0, 0, 0
			if p != q {
				return false
			}
		}
	}
	return true
}

// TestAnalyticsReadRejects: ReadAnalytics refuses what WriteAnalytics would
// not write.
func TestAnalyticsReadRejects(t *testing.T) {
	for _, doc := range []string{
		``, `[]`, `{"format":"other","version":1,"tiers":["hot"],"samples":[]}`,
		`{"format":"tiermem-analytics","version":2,"tiers":["hot"],"samples":[]}`,
		`{"format":"tiermem-analytics","version":1,"tiers":[],"samples":[]}`,
		`{"format":"tiermem-analytics","version":1,"tiers":["warm"],"samples":[]}`,
		`{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[{"time":"2026-01-01T00:00:00Z","tiers":[]}]}`,
		`{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[{"time":"2026-01-01T00:00:00Z","hit_rate":1.5,"tiers":[{"tier":"hot"}]}]}`,
		`{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[{"time":"2026-01-01T00:00:00Z","tiers":[{"tier":"hot","items":-1}]}]}`,
		`{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[{"time":"2026-01-01T00:00:00Z","tiers":[{"tier":"cold"}]}]}`,
	} {
		if _, err := tiermem.ReadAnalytics(bytes.NewReader([]byte(doc))); !errors.Is(err, tiermem.ErrAnalyticsFormat) {
			t.Errorf("ReadAnalytics(%s) = %v, want ErrAnalyticsFormat", doc, err)
		}
	}
}
