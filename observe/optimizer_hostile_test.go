package observe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A Snapshot taken while another goroutine is inside Stop must be a real
// report (Kind set, samples present): the doc says Snapshot "after Stop
// returns the report Stop returned", and before Stop it reports as of now:
// between Stop marking the Optimizer stopped and Stop storing its final
// report, Snapshot waits for that report rather than return the zero one.
func TestHostileSnapshotDuringStopIsNeverEmpty(t *testing.T) {
	base := runtime.NumGoroutine()
	var empty atomic.Int64
	for round := 0; round < 40 && empty.Load() == 0; round++ {
		o, err := Start(&Options{Interval: time.Millisecond, ProfileEvery: 1, Samples: 8, Profiles: 4})
		if err != nil {
			t.Fatal(err)
		}
		var stopped atomic.Bool
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stopped.Load() {
					r := o.Snapshot()
					if r.Kind != ReportKind || len(r.Samples) == 0 {
						empty.Add(1)
					}
				}
			}()
		}
		time.Sleep(3 * time.Millisecond)
		if _, err := o.Stop(); err != nil {
			t.Fatal(err)
		}
		stopped.Store(true)
		wg.Wait()
	}
	if n := empty.Load(); n > 0 {
		t.Errorf("%d Snapshots during Stop returned the zero Report (no kind, no samples)", n)
	}
	hostileWait(t, base)
}

// Stop's doc: "A second Stop returns ErrStopped (and the same report)". A
// second Stop that arrives while the first is still taking its last sample
// waits for that report, never the zero Report.
func TestHostileConcurrentStopReturnsTheSameReport(t *testing.T) {
	base := runtime.NumGoroutine()
	bad := 0
	for round := 0; round < 40 && bad == 0; round++ {
		o, err := Start(&Options{Interval: time.Millisecond, ProfileEvery: 1, Samples: 8, Profiles: 4})
		if err != nil {
			t.Fatal(err)
		}
		var reps [2]Report
		var errs [2]error
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[i], errs[i] = o.Stop()
			}()
		}
		wg.Wait()
		for i := range 2 {
			if errors.Is(errs[i], ErrStopped) && reps[i].Kind != ReportKind {
				bad++
				t.Errorf("round %d: the second Stop returned ErrStopped with the zero Report, not the first Stop's", round)
			}
		}
	}
	hostileWait(t, base)
}

// hostileWait waits for the goroutines started by a test to end.
func hostileWait(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines left, %d before", n, base)
	}
}

// Latency's mean of positive durations is never negative: the running
// total must not wrap.
func TestHostileLatencyMeanDoesNotWrap(t *testing.T) {
	var l Latency
	d := time.Duration(math.MaxInt64/2 + 1)
	l.Record(d)
	l.Record(d)
	if s := l.Stats(); s.Mean <= 0 {
		t.Errorf("two records of %v: mean %v, want a positive mean (about %v)", d, s.Mean, d)
	}
}

// The largest MemTotal parseMemTotal accepts (1<<53 kB) must not come back
// as a negative byte count: 1<<53 << 10 is 1<<63, which wraps.
func TestHostileParseMemTotalNeverNegative(t *testing.T) {
	if n := parseMemTotal([]byte("MemTotal:       9007199254740992 kB\n")); n < 0 {
		t.Errorf("parseMemTotal = %d, want 0 (out of range) or a positive size", n)
	}
}

// A truncated goroutine (leak) profile, whose header announces more
// goroutines than its stack lines hold, must be refused with ErrFormat, not
// read as a smaller, valid profile.
func TestHostileParseLeakProfileRefusesTruncated(t *testing.T) {
	in := "goroutineleak profile: total 7\n3 @ 0x1 0x2\n#\tmain.f+0x1\n\n"
	if s, err := parseLeakProfile([]byte(in)); !errors.Is(err, ErrFormat) {
		t.Errorf("header says 7 goroutines, lines hold 3: got %v, %v; want ErrFormat", s, err)
	}
}

// Counts that add up past int64 must be refused, not wrap to a negative
// number of goroutines.
func TestHostileParseLeakProfileCountOverflow(t *testing.T) {
	in := "goroutineleak profile: total 1\n9223372036854775807 @ 0x1\n9223372036854775807 @ 0x1\n"
	s, err := parseLeakProfile([]byte(in))
	if err == nil {
		for _, n := range s {
			if n < 0 {
				t.Errorf("two counts of MaxInt64 at one stack sum to %d, want ErrFormat", n)
			}
		}
	}
}

// A Report holds its Optimizer's whole ring, and the doc says a Report
// encoded with encoding/json is read back by ReadReport: a report of the
// largest ring Options allow (maxRing samples, a few hundred bytes of JSON
// each) fits what ReadReport reads.
func TestHostileReadReportReadsBackALargeRing(t *testing.T) {
	if _, err := (&Options{Samples: maxRing}).withDefaults(); err != nil {
		t.Fatalf("Samples %d refused: %v", maxRing, err)
	}
	o, err := Start(&Options{Samples: 2, Profiles: 4})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.Stop()
	if err != nil {
		t.Fatal(err)
	}
	one, err := json.Marshal(rep.Samples[len(rep.Samples)-1])
	if err != nil {
		t.Fatal(err)
	}
	rep.Samples = nil
	head, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	// The report as encoding/json writes it with a full ring of the largest
	// size Options allow, its samples all alike.
	n := maxRing
	if !bytes.HasSuffix(head, []byte(`"samples":null}`)) {
		t.Fatalf("report JSON does not end with its samples: %s", head)
	}
	var buf bytes.Buffer
	buf.Write(bytes.TrimSuffix(head, []byte(`"samples":null}`)))
	buf.WriteString(`"samples":[`)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(one)
	}
	buf.WriteString("]}")
	size := buf.Len()
	if _, err := ReadReport(&buf); errors.Is(err, ErrFormat) {
		t.Errorf("ReadReport of a %d-byte report of %d samples (Options.Samples allows %d): %v", size, n, maxRing, err)
	}
}

// Apply applies, unasked, what the analysis rates low risk: "a runtime
// setting whose heap stays well within memory". The rating compares the
// heap GOGC would allow with the machine's memory as if the Go heap were
// all the process holds; in this project the warm tier lives off the heap.
// Here 5 GiB of an 8 GiB machine are off-heap (Sample.OffHeap): raising
// GOGC to let the heap reach 2.2 GiB would bring the process to 90% of the
// machine, so it is not rated low risk, and Apply does not do it unasked.
func TestHostileAutoGOGCCountsOffHeapMemory(t *testing.T) {
	opts, err := (&Options{}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	const ram = 8 << 30
	t0 := time.Now()
	first := Sample{Time: t0, HeapLive: 200 << 20, HeapGoal: 400 << 20, GCRoots: 1 << 20, GOGC: 100,
		MemoryLimit: math.MaxInt64, OffHeap: 5 << 30}
	last := first
	last.Time = t0.Add(10 * time.Second)
	last.GCCycles, last.AllocBytes = 100, 20<<30
	last.GCCPUSeconds, last.BusyCPUSeconds = 5, 10 // the GC takes half the CPU
	st := state{opts: opts, ram: ram, hotBytes: -1, start: t0, samples: []Sample{first, last}, from: first}
	r := st.report()
	for _, op := range r.GC.Opportunities {
		if !op.Auto {
			continue
		}
		total := op.ExpectedHeap + last.OffHeap + last.Mapped
		if float64(total) > 0.5*ram {
			t.Errorf("Auto %s %d: heap %s plus %s off-heap is %.0f%% of the machine's %s, rated %s risk",
				op.Action, op.Value, bytesString(op.ExpectedHeap), bytesString(last.OffHeap+last.Mapped),
				100*float64(total)/ram, bytesString(ram), op.Risk)
		}
	}
}

// Under a memory limit the rating asks only whether the live heap is under
// half the limit, never whether the heap GOGC would allow fits the
// machine. A limit set well above the machine's memory (GOMEMLIMIT=100GiB
// on an 8 GiB machine, common with containers sized elsewhere) must not let
// Apply raise GOGC to a heap larger than the machine: past the machine, the
// machine is the ceiling.
func TestHostileAutoGOGCUnderALimitPastTheMachine(t *testing.T) {
	opts, err := (&Options{}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	const ram = 8 << 30
	t0 := time.Now()
	first := Sample{Time: t0, HeapLive: 1 << 30, HeapGoal: 2 << 30, GCRoots: 1 << 20, GOGC: 100,
		MemoryLimit: 100 << 30}
	last := first
	last.Time = t0.Add(10 * time.Second)
	last.GCCycles, last.AllocBytes = 100, 100<<30
	last.GCCPUSeconds, last.BusyCPUSeconds = 5, 10
	st := state{opts: opts, ram: ram, hotBytes: -1, start: t0, samples: []Sample{first, last}, from: first}
	r := st.report()
	for _, op := range r.GC.Opportunities {
		if op.Auto && op.ExpectedHeap > ram/2 {
			t.Errorf("Auto %s %d: expected heap %s on a machine of %s, rated %s risk",
				op.Action, op.Value, bytesString(op.ExpectedHeap), bytesString(ram), op.Risk)
		}
	}
}

// A stricter GC CPU target can only ask for more GOGC: a target of 0.001
// proposes GOGC 1600 (the cap), and so must a target of 1e-300, which
// Options accept (a share in [0, 1)), where the wanted GOGC would overflow
// int64 if it were not capped first.
func TestHostileTinyGCCPUTargetStillProposes(t *testing.T) {
	t0 := time.Now()
	first := Sample{Time: t0, HeapLive: 100 << 20, HeapGoal: 200 << 20, GCRoots: 1 << 20, GOGC: 100,
		MemoryLimit: math.MaxInt64}
	last := first
	last.Time = t0.Add(10 * time.Second)
	last.GCCycles, last.AllocBytes = 100, 20<<30
	last.GCCPUSeconds, last.BusyCPUSeconds = 5, 10
	for _, target := range []float64{0.001, 1e-300} {
		opts, err := (&Options{GCCPUTarget: target}).withDefaults()
		if err != nil {
			t.Fatalf("GCCPUTarget %v: %v", target, err)
		}
		st := state{opts: opts, ram: 64 << 30, hotBytes: -1, start: t0, samples: []Sample{first, last}, from: first}
		r := st.report()
		var gogc int64
		for _, op := range r.GC.Opportunities {
			if op.Action == SetGCPercent {
				gogc = op.Value
			}
		}
		if gogc != maxGOGC {
			t.Errorf("GCCPUTarget %v, GC at 50%% of the CPU: proposed GOGC %d, want %d", target, gogc, maxGOGC)
		}
	}
}

// ReadReport bounds what it builds, not only its input: each 3-byte "{},"
// would become a 152-byte Sample, so a hostile report of empty samples
// could make it allocate about a hundred times its size. A report holding
// more samples than any Optimizer keeps (maxRing) is ErrFormat, found by a
// pass that builds nothing.
func TestHostileReadReportBoundsWhatItBuilds(t *testing.T) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"kind":%q,"version":%d,"samples":[`, ReportKind, ReportVersion)
	n := maxRing + maxRing/4
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("{}")
	}
	buf.WriteString("]}")
	size := buf.Len()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep, err := ReadReport(&buf)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	if err == nil {
		t.Errorf("a report of %d empty samples (at most %d in any ring) was accepted", len(rep.Samples), maxRing)
	}
	if allocated > 32*uint64(size) {
		t.Errorf("ReadReport of %s allocated %s (%d×): at the %s cap that is %s",
			bytesString(int64(size)), bytesString(int64(allocated)), allocated/uint64(size),
			bytesString(maxReportBytes), bytesString(int64(allocated/uint64(size))*maxReportBytes))
	}
}

// A resident set read from statm never overflows into a negative or
// wrapped figure, however many pages the file claims.
func TestHostileStatmBytesNeverOverflows(t *testing.T) {
	for in, want := range map[string]int64{
		"1 9223372036854775807 0": 0,
		"1 2251799813685248 0":    0, // 2^51 pages of 4 KiB: 2^63 bytes
		"1 2251799813685247 0":    (1<<51 - 1) << 12,
		"1 250 0":                 250 << 12,
	} {
		if got := statmBytes([]byte(in), 4096); got != want {
			t.Errorf("statmBytes(%q, 4096) = %d, want %d", in, got, want)
		}
	}
}
