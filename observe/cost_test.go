package observe

import (
	"testing"
	"time"
)

// BenchmarkRead is what the Optimizer does every interval: runtime/metrics
// and /proc/self/statm.
func BenchmarkRead(b *testing.B) {
	r := newReader()
	b.ReportAllocs()
	for b.Loop() {
		r.read(time.Now())
	}
}

func BenchmarkTune(b *testing.B) {
	in := tuningInput{ram: 64 << 30, hotBytes: 1 << 30, cpuTarget: 0.1, pauseTarget: 0.01,
		hot: HotSpots{ByBytes: []HotSpot{{ByteShare: 0.5}, {ByteShare: 0.3}}}}
	b.ReportAllocs()
	for b.Loop() {
		g := GC{CPUFraction: 0.3, Cycles: 100, HeapLive: 1 << 30, HeapGoal: 2 << 30, GOGC: 100, MemoryLimit: 1 << 62}
		tune(&g, in)
	}
}

// BenchmarkReportManySites is the analysis of a full ring (600 samples, 12
// profiles) of a large program: 10,000 allocation sites and 1,000
// goroutine stacks in each profile, every site growing a little.
func BenchmarkReportManySites(b *testing.B) {
	const sites, stacks = 10000, 1000
	t0 := time.Now()
	st := state{opts: Options{}, ram: 64 << 30, hotBytes: -1, start: t0}
	st.opts, _ = st.opts.withDefaults()
	for i := range DefaultSamples {
		s := Sample{Time: t0.Add(time.Duration(i) * time.Second), HeapLive: 1 << 30, HeapGoal: 2 << 30,
			GOGC: 100, MemoryLimit: 1<<63 - 1, GCCycles: uint64(i), AllocBytes: uint64(i) << 26,
			GCCPUSeconds: float64(i) * 0.2, BusyCPUSeconds: float64(i)}
		st.samples = append(st.samples, s)
	}
	st.from = st.samples[0]
	names := make([]Site, sites)
	for i := range names {
		names[i] = Site{Function: "pkg.f", File: "f.go", Line: i}
	}
	for p := range DefaultProfiles {
		at := t0.Add(time.Duration(p*50) * time.Second)
		hp := heapProfile{time: at, names: names, sites: make([]siteBytes, sites)}
		gp := goroutineProfile{time: at, stacks: make(map[[32]uintptr]int64, stacks)}
		for i := range sites {
			n := int64(i+1) * int64(p+1) << 10
			hp.sites[i] = siteBytes{inUseBytes: n, inUseObjects: n >> 6,
				allocBytes: n * 10, allocObjects: n >> 3}
		}
		for i := range stacks {
			gp.stacks[[32]uintptr{uintptr(i + 1)}] = 1
		}
		st.heaps = append(st.heaps, hp)
		st.gors = append(st.gors, gp)
	}
	b.ReportAllocs()
	var r Report
	for b.Loop() {
		r = st.report()
	}
	b.ReportMetric(float64(len(r.Leaks)), "suspects")
}
