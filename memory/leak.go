package memory

import (
	"fmt"
	"log"
	"runtime"
	"sync/atomic"
)

// Leak describes off-heap memory or a mapping whose Handle was garbage
// collected without Close. The memory is not freed (views may still use it):
// the report is there so that the missing Close gets fixed.
type Leak struct {
	Size  int64  // bytes of the allocation or mapping
	Kind  string // "off-heap" or "file mapping"
	Where string // file:line of the call that allocated or mapped it
}

func (l Leak) String() string {
	return fmt.Sprintf("memory: %s handle of %d bytes made at %s was never closed", l.Kind, l.Size, l.Where)
}

var leakReporter atomic.Pointer[func(Leak)]

// SetLeakReporter sets the function called for each leaked handle, from a
// background goroutine; nil restores the default, which logs the leak with the
// standard log package.
func SetLeakReporter(report func(Leak)) {
	if report == nil {
		leakReporter.Store(nil)
		return
	}
	leakReporter.Store(&report)
}

// leakRecord is what the cleanup of a Handle sees: it must not point at the
// Handle, or the Handle would never be collected.
type leakRecord struct {
	leak   Leak
	closed atomic.Bool
}

func newLeakRecord(b *block, where string) *leakRecord {
	kind := "off-heap"
	if b.kind == fileBlock {
		kind = "file mapping"
	}
	return &leakRecord{leak: Leak{Size: b.size, Kind: kind, Where: where}}
}

// callerOf returns file:line of the caller of the exported function that
// calls it.
func callerOf() string {
	if _, file, line, ok := runtime.Caller(2); ok {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return "unknown"
}

// release records that the handle was closed and accounts for the freed memory.
func (r *leakRecord) release() { r.closed.Store(true) }

// reportLeak runs when a Handle is collected without Close.
func reportLeak(r *leakRecord) {
	if r.closed.Load() {
		return
	}
	counters.leakedBlocks.Add(1)
	counters.leakedBytes.Add(r.leak.Size)
	if report := leakReporter.Load(); report != nil {
		(*report)(r.leak)
		return
	}
	log.Print(r.leak.String())
}
