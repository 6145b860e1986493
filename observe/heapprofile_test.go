package observe

import (
	"math"
	"runtime"
	"testing"
	"time"
)

func TestScaleSample(t *testing.T) {
	if o, b := scaleSample(10, 5120, 1); o != 10 || b != 5120 {
		t.Fatalf("rate 1 (every allocation sampled) scaled to %d, %d", o, b)
	}
	// One 512 KiB object at the default rate is sampled with probability
	// 1-1/e: one sample stands for 1/(1-1/e) of them.
	o, b := scaleSample(1, 512<<10, 512<<10)
	want := 1 / (1 - math.Exp(-1))
	if math.Abs(float64(o)-math.Floor(want)) > 0 || math.Abs(float64(b)-want*(512<<10)) > 1 {
		t.Fatalf("scaled to %d objects, %d bytes; want %.3f objects", o, b, want)
	}
	if o, b := scaleSample(0, 0, 512<<10); o != 0 || b != 0 {
		t.Fatal("nothing scales to something")
	}
}

func TestIsStd(t *testing.T) {
	for f, want := range map[string]bool{
		"runtime.mallocgc":                      true,
		"context.WithCancel":                    true,
		"sync.(*WaitGroup).Wait":                true,
		"internal/poll.(*FD).Read":              true,
		"encoding/json.Marshal":                 true,
		"main.main":                             false,
		"main.(*server).handle.func1":           false,
		"github.com/tiermem/tiermem.(*M).Store": false,
		"example.com/x/y.z":                     false,
		"":                                      false,
	} {
		if got := isStd(f); got != want {
			t.Errorf("isStd(%q) = %v, want %v", f, got, want)
		}
	}
}

var profiled [][]byte

//go:noinline
func allocateForProfile() {
	for range 64 {
		profiled = append(profiled, make([]byte, 64<<10))
	}
}

func TestHeapProfileFindsTheSite(t *testing.T) {
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old; profiled = nil }()
	allocateForProfile()
	runtime.GC()
	runtime.GC()
	hp := newProfiler().heap(time.Now())
	for id, b := range hp.sites {
		site := hp.names[id]
		if site.Function == "github.com/tiermem/tiermem/observe.allocateForProfile" {
			if b.inUseBytes < 64*64<<10 || b.allocObjects < 64 {
				t.Fatalf("site %v holds %+v, want at least 4 MiB in 64 objects", site, b)
			}
			return
		}
	}
	t.Fatal("the allocating function is not among the profile's sites")
}

func TestHotSpotsBetween(t *testing.T) {
	a, b := Site{Function: "a", Line: 1}, Site{Function: "b", Line: 2}
	a2 := Site{Function: "a", Line: 9}
	names := []Site{a, a2, b}
	first := heapProfile{names: names[:1], sites: []siteBytes{{allocBytes: 100, allocObjects: 1}}}
	last := heapProfile{names: names, sites: []siteBytes{
		{allocBytes: 400, allocObjects: 4},
		{allocBytes: 400, allocObjects: 1},
		{allocBytes: 300, allocObjects: 30},
	}}
	h := hotSpotsBetween(&first, last, 1)
	if len(h.ByBytes) != 1 || h.ByBytes[0].Site != a2 || h.ByBytes[0].AllocBytes != 700 || h.ByBytes[0].ByteShare != 0.7 {
		t.Fatalf("by bytes %+v: want function a, 700 bytes at its busiest line, 70%%", h.ByBytes)
	}
	if len(h.ByObjects) != 1 || h.ByObjects[0].Site != b || h.ByObjects[0].ObjectShare != 30.0/34 {
		t.Fatalf("by objects %+v: want b", h.ByObjects)
	}
}
