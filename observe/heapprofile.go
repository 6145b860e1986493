package observe

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Site is where memory was allocated: the first function on the allocating
// stack outside the Go runtime.
type Site struct {
	Function string `json:"function"` // package-qualified, as runtime.Frame.Function
	File     string `json:"file"`
	Line     int    `json:"line"`
}

// String returns "function (file:line)", or the part of it that is known.
func (s Site) String() string {
	switch {
	case s.File == "":
		return s.Function
	case s.Function == "":
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return fmt.Sprintf("%s (%s:%d)", s.Function, s.File, s.Line)
}

// siteBytes is what one site holds in a heap profile, scaled from the
// runtime's samples to estimates of the true figures.
type siteBytes struct {
	inUseBytes, inUseObjects int64
	allocBytes, allocObjects int64
}

// heapProfile is a heap profile taken at one time: sites[i] is what the
// site names[i] holds. names is the profiler's table of sites as of the
// profile; the table only grows and its entries never change, so profiles
// share it, and a site numbered after a profile was taken holds nothing in
// it.
type heapProfile struct {
	time   time.Time
	cycles uint64 // GC cycles completed when it was taken
	names  []Site
	sites  []siteBytes
}

// at returns what site number i holds in the profile.
func (h *heapProfile) at(i int) siteBytes {
	if i < len(h.sites) {
		return h.sites[i]
	}
	return siteBytes{}
}

// profiler takes heap profiles; it numbers sites and remembers which site
// each stack resolves to, so that resolving is paid once per stack (the
// memory this takes grows with the runtime's own profile buckets, which the
// runtime never frees either). Not safe for concurrent use: the
// Optimizer's lock guards it.
type profiler struct {
	records []runtime.MemProfileRecord
	ids     []int // the site number of each record, reused
	names   []Site
	number  map[Site]int
	idOf    map[[32]uintptr]int
}

func newProfiler() *profiler {
	return &profiler{number: make(map[Site]int), idOf: make(map[[32]uintptr]int)}
}

// heap returns the heap profile as of the last completed GC (the runtime
// publishes a profile only at the end of a cycle), by site.
func (p *profiler) heap(now time.Time) heapProfile {
	p.records = memProfile(p.records)
	p.ids = p.ids[:0]
	for i := range p.records {
		p.ids = append(p.ids, p.site(p.records[i].Stack0))
	}
	rate := runtime.MemProfileRate
	hp := heapProfile{time: now, names: p.names, sites: make([]siteBytes, len(p.names))}
	for i := range p.records {
		r, b := &p.records[i], &hp.sites[p.ids[i]]
		o, n := scaleSample(r.InUseObjects(), r.InUseBytes(), rate)
		b.inUseObjects, b.inUseBytes = b.inUseObjects+o, b.inUseBytes+n
		o, n = scaleSample(r.AllocObjects, r.AllocBytes, rate)
		b.allocObjects, b.allocBytes = b.allocObjects+o, b.allocBytes+n
	}
	return hp
}

// memProfile returns every record of runtime.MemProfile, reusing buf.
func memProfile(buf []runtime.MemProfileRecord) []runtime.MemProfileRecord {
	for {
		n, ok := runtime.MemProfile(buf[:cap(buf)], true)
		if ok {
			return buf[:n]
		}
		buf = make([]runtime.MemProfileRecord, n+n/4+16)
	}
}

// site returns the number of the site a stack resolves to.
func (p *profiler) site(stack [32]uintptr) int {
	if id, ok := p.idOf[stack]; ok {
		return id
	}
	s := siteOfStack(stack[:])
	id, ok := p.number[s]
	if !ok {
		id = len(p.names)
		p.names = append(p.names, s)
		p.number[s] = id
	}
	p.idOf[stack] = id
	return id
}

// siteOfStack returns the first frame outside the standard library (the
// code that asked for the map entry, the context, the goroutine's wait),
// or, when the whole stack is the standard library's, the first frame
// outside the runtime.
func siteOfStack(stack []uintptr) Site {
	frames := runtime.CallersFrames(trimStack(stack))
	var first, firstStd Site
	for {
		f, more := frames.Next()
		s := Site{Function: f.Function, File: f.File, Line: f.Line}
		if first.Function == "" {
			first = s
		}
		if firstStd.Function == "" && !isRuntime(f.Function) {
			firstStd = s
		}
		if !isStd(f.Function) {
			return s
		}
		if !more {
			return cmp.Or(firstStd, first)
		}
	}
}

// isStd reports whether a function belongs to the standard library. Its
// package is not in the main module or a dependency (as the binary's build
// information lists them), is not main nor a package built from files named
// on the command line, and its import path's first element has no dot (no
// standard package has one; a module path may have none: "example/hello").
func isStd(function string) bool {
	path := packageOf(function)
	switch {
	case path == "" || path == "main" || path == "command-line-arguments":
		return false
	case strings.Contains(strings.SplitN(path, "/", 2)[0], "."):
		return false
	}
	return !inModule(path, modulePaths())
}

// packageOf returns the import path of a package-qualified function name
// ("example/hello/cache.(*T[...]).Put": "example/hello/cache").
func packageOf(function string) string {
	path, _, _ := strings.Cut(function, "[") // type arguments may hold any path
	dir := ""
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, path = path[:i+1], path[i+1:]
	}
	name, _, _ := strings.Cut(path, ".")
	return dir + name
}

// modulePaths returns the paths of the main module and its dependencies,
// from the binary's build information (none where it has none).
var modulePaths = sync.OnceValue(func() []string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	paths := []string{info.Main.Path}
	for _, m := range info.Deps {
		paths = append(paths, m.Path)
	}
	return paths
})

// inModule reports whether the package path is in one of the modules.
func inModule(path string, modules []string) bool {
	for _, m := range modules {
		if m != "" && (path == m || strings.HasPrefix(path, m) && path[len(m)] == '/') {
			return true
		}
	}
	return false
}

func trimStack(stack []uintptr) []uintptr {
	for i, pc := range stack {
		if pc == 0 {
			return stack[:i]
		}
	}
	return stack
}

func isRuntime(function string) bool {
	return strings.HasPrefix(function, "runtime.") || strings.HasPrefix(function, "internal/runtime/")
}

// scaleSample turns sampled counts into estimates of the true ones, as
// pprof does: an allocation of average size s is sampled with probability
// 1-exp(-s/rate).
func scaleSample(objects, bytes int64, rate int) (int64, int64) {
	if objects == 0 || bytes == 0 || rate <= 1 {
		return objects, bytes
	}
	avg := float64(bytes) / float64(objects)
	scale := 1 / (1 - math.Exp(-avg/float64(rate)))
	return int64(float64(objects) * scale), int64(float64(bytes) * scale)
}
