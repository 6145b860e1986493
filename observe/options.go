package observe

import (
	"fmt"
	"time"
)

// Options configures an Optimizer. The zero value of each field means its
// default; a nil *Options means all defaults. Start copies the struct but
// not what its slices and functions refer to: leave the sources unchanged
// while the Optimizer runs.
type Options struct {
	// Interval between two samples of the runtime metrics (default 1 s).
	// A sample reads runtime/metrics and /proc/self: no stop-the-world.
	Interval time.Duration
	// ProfileEvery takes a heap profile and a goroutine profile every
	// ProfileEvery samples (default 5, so every 5 s at the default
	// interval). Leak detection and hot spots are built from them.
	ProfileEvery int
	// Samples is the length of the ring of samples kept for temporal
	// analysis (default 600: ten minutes at the default interval; at most
	// 32768).
	Samples int
	// Profiles is the number of recent profiles leak detection compares
	// (default 12, at least 4, at most 32768): at the defaults, the last
	// minute.
	Profiles int

	// MinLeakBytes is the growth of in-use bytes across the compared
	// profiles below which an allocation site (or the off-heap total) is not
	// reported (default 1 MiB).
	MinLeakBytes int64
	// MinLeakGoroutines is the growth in goroutines at one stack below which
	// it is not reported (default 10).
	MinLeakGoroutines int

	// LeakProfile collects the runtime's goroutine leak profile with each
	// profile, where the runtime has one (Go 1.26 built with
	// GOEXPERIMENT=goroutineleakprofile; elsewhere it does nothing): it names
	// goroutines blocked for good on a channel or lock that nothing running
	// can reach, at the price of an extra GC cycle per profile.
	LeakProfile bool

	// GCCPUTarget is the share of the process's CPU that the garbage
	// collector may take before it is a bottleneck (default 0.10).
	GCCPUTarget float64
	// PauseTarget is the p99 stop-the-world pause above which pauses are a
	// bottleneck (default 10 ms).
	PauseTarget time.Duration

	// HotBytes, when set, returns the bytes the hot tier holds on the Go
	// heap (a Manager's Usage()[Hot].Used): the analysis then weighs moving
	// values to the warm tier.
	HotBytes func() int64

	// Allocators, Pools and Caches are gathered into every report.
	//
	// HotBytes and the sources' Stats functions are called at Start and for
	// every report, from the goroutine that asks for it (Snapshot, Apply,
	// Stop), with the Optimizer's lock held: they must be safe to call while
	// the program runs, and must not call the Optimizer. Should one panic,
	// the panic reaches that caller and the Optimizer stays usable.
	Allocators []AllocatorSource
	Pools      []PoolSource
	Caches     []CacheSource
}

// Defaults of Options.
const (
	DefaultInterval          = time.Second
	DefaultProfileEvery      = 5
	DefaultSamples           = 600
	DefaultProfiles          = 12
	DefaultMinLeakBytes      = 1 << 20
	DefaultMinLeakGoroutines = 10
	DefaultGCCPUTarget       = 0.10
	DefaultPauseTarget       = 10 * time.Millisecond
	minProfiles              = 4 // fewer points than this make no trend
)

// withDefaults returns a copy of o with every zero field set to its default,
// or ErrOptions for a value out of range.
func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	if err := c.check(); err != nil {
		return c, err
	}
	c.Interval = orDefault(c.Interval, DefaultInterval)
	c.ProfileEvery = orDefault(c.ProfileEvery, DefaultProfileEvery)
	c.Samples = orDefault(c.Samples, DefaultSamples)
	c.Profiles = orDefault(c.Profiles, DefaultProfiles)
	c.MinLeakBytes = orDefault(c.MinLeakBytes, DefaultMinLeakBytes)
	c.MinLeakGoroutines = orDefault(c.MinLeakGoroutines, DefaultMinLeakGoroutines)
	c.GCCPUTarget = orDefault(c.GCCPUTarget, DefaultGCCPUTarget)
	c.PauseTarget = orDefault(c.PauseTarget, DefaultPauseTarget)
	return c, nil
}

func (o *Options) check() error {
	switch {
	case o.Interval < 0, o.ProfileEvery < 0, o.Samples < 0, o.MinLeakBytes < 0,
		o.MinLeakGoroutines < 0, o.PauseTarget < 0:
		return fmt.Errorf("%w: negative interval, count or size", ErrOptions)
	case o.Samples != 0 && o.Samples < 2:
		return fmt.Errorf("%w: Samples %d, want at least 2", ErrOptions, o.Samples)
	case o.Profiles != 0 && o.Profiles < minProfiles:
		return fmt.Errorf("%w: Profiles %d, want at least %d", ErrOptions, o.Profiles, minProfiles)
	case o.Samples > maxRing || o.Profiles > maxRing:
		return fmt.Errorf("%w: Samples %d, Profiles %d: want at most %d", ErrOptions, o.Samples, o.Profiles, maxRing)
	case !(o.GCCPUTarget >= 0 && o.GCCPUTarget < 1): // NaN too
		return fmt.Errorf("%w: GCCPUTarget %v, want a share in [0, 1)", ErrOptions, o.GCCPUTarget)
	}
	return o.checkSources()
}

// maxRing bounds Samples and Profiles, whose rings are allocated at Start
// (32768 samples: 9 hours at the default interval). A report of a full
// ring stays under what ReadReport reads (maxReportBytes), indented, and
// reads back in a few seconds (about 4 s under the race detector).
const maxRing = 1 << 15

// checkSources refuses a source without its Stats function.
func (o *Options) checkSources() error {
	for _, a := range o.Allocators {
		if a.Stats == nil {
			return fmt.Errorf("%w: allocator source %q has no Stats function", ErrOptions, a.Name)
		}
	}
	for _, p := range o.Pools {
		if p.Stats == nil {
			return fmt.Errorf("%w: pool source %q has no Stats function", ErrOptions, p.Name)
		}
	}
	for _, c := range o.Caches {
		if c.Stats == nil {
			return fmt.Errorf("%w: cache source %q has no Stats function", ErrOptions, c.Name)
		}
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
