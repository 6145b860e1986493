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
