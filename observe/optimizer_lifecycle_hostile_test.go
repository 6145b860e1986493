package observe

import (
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

// returnsWithin runs f and reports whether it returned within d.
func returnsWithin(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// panickyHotBytes returns HotBytes that panics while fail is set.
func panickyHotBytes(fail *atomic.Bool) func() int64 {
	return func() int64 {
		if fail.Load() {
			panic("hot tier closed")
		}
		return 0
	}
}

// A source that panics once (a cache closed under the Optimizer, a
// metrics handler whose server recovers the panic) must not wedge the
// Optimizer: the lock must be released by the panic, or the sampling
// goroutine blocks on it and Stop never returns.
func TestHostileSnapshotPanicDoesNotWedgeTheOptimizer(t *testing.T) {
	var fail atomic.Bool
	o, err := Start(&Options{Interval: 5 * time.Millisecond, HotBytes: panickyHotBytes(&fail)})
	if err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	func() {
		defer func() { _ = recover() }()
		o.Snapshot()
	}()
	fail.Store(false)
	if !returnsWithin(3*time.Second, func() { o.Stop() }) {
		t.Fatal("Stop did not return within 3 s after a Snapshot whose HotBytes panicked (the lock is still held)")
	}
}

// The same for Stop: when building the final report panics, Snapshot and a
// second Stop, which wait for that report, must still return (a second
// Stop with ErrStopped) instead of blocking for ever.
func TestHostileStopPanicDoesNotWedgeTheOptimizer(t *testing.T) {
	var fail atomic.Bool
	o, err := Start(&Options{Interval: 5 * time.Millisecond, HotBytes: panickyHotBytes(&fail)})
	if err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	func() {
		defer func() { _ = recover() }()
		o.Stop()
	}()
	fail.Store(false)
	var err2 error
	if !returnsWithin(3*time.Second, func() { _, err2 = o.Stop() }) {
		t.Fatal("a second Stop, after a Stop whose HotBytes panicked, did not return within 3 s")
	}
	if !errors.Is(err2, ErrStopped) {
		t.Errorf("second Stop = %v, want ErrStopped", err2)
	}
	if !returnsWithin(3*time.Second, func() { o.Snapshot() }) {
		t.Error("Snapshot after a Stop whose HotBytes panicked did not return within 3 s")
	}
}

// A Report "is a plain value: it shares nothing with the Optimizer and may
// be kept", after Stop too: Snapshot and a second Stop return the report
// Stop returned, and a caller that edits or sorts its copy (Samples, Leaks,
// HotSpots) must change nothing of what any later call returns, or two
// goroutines holding "their" reports would race.
func TestHostileReportsAfterStopShareNothing(t *testing.T) {
	o, err := Start(&Options{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.Stop()
	if err != nil {
		t.Fatal(err)
	}
	r.Samples[0].HeapLive = -12345 // the caller's copy, edited
	if s := o.Snapshot(); s.Samples[0].HeapLive == -12345 {
		t.Error("after the caller edited the report Stop returned, Snapshot returns the edited samples")
	}
	a := o.Snapshot()
	a.Samples[len(a.Samples)-1].RSS = -1
	if b, _ := o.Stop(); b.Samples[len(b.Samples)-1].RSS == -1 {
		t.Error("a second Stop returns the samples of an earlier Snapshot's report, edited by its caller")
	}
}

// clone shares no list with the report it copies: every slice in a Report,
// found by reflection (a list added later is covered too), is filled and
// then checked apart.
func TestHostileCloneSharesNoList(t *testing.T) {
	var r Report
	fillLists(reflect.ValueOf(&r).Elem())
	c := r.clone()
	a, b := listPointers(reflect.ValueOf(r), nil), listPointers(reflect.ValueOf(c), nil)
	if len(a) < 11 || len(a) != len(b) {
		t.Fatalf("%d lists in the report, %d in the clone", len(a), len(b))
	}
	for i := range a {
		if a[i] == b[i] {
			t.Errorf("list %d of the clone is the report's", i)
		}
	}
}

// fillLists gives every exported slice under v one element, recursively.
func fillLists(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillLists(v.Field(i))
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillLists(v.Index(0))
	}
}

// listPointers returns the address of the first element of every slice
// under v, in a fixed order.
func listPointers(v reflect.Value, out []uintptr) []uintptr {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out = listPointers(v.Field(i), out)
			}
		}
	case reflect.Slice:
		out = append(out, v.Pointer())
		for i := range v.Len() {
			out = listPointers(v.Index(i), out)
		}
	}
	return out
}
