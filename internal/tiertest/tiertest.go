// Package tiertest checks that a tier.Store keeps the contract of package
// tier: the same hostile suite runs against every backend (tier/heap,
// tier/offheap, tier/disk), from each backend's own tests:
//
//	func TestConformance(t *testing.T) {
//		tiertest.Run(t, func(*testing.T) tier.Store { return heap.New() }, nil)
//	}
//
// Besides the happy path it closes stores while readers and writers run,
// calls every method (optional interfaces included) after Close, checks the
// byte accounting that the Manager's budgets are built on, and, for a store
// that keeps its data (Options.Reopen), that every acknowledged write
// survives Close and reopening (a SetMeta's too). Optional abilities are found by type
// assertion on the interfaces of package tier, never on a
// concrete type.
//
// The concurrent checks run hundreds of rounds, fewer under the race
// detector and with -short, so that each backend's run stays within a few
// seconds.
package tiertest

import (
	"slices"
	"sort"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// Options configures Run. A nil *Options runs every check that applies to
// the store open returns.
type Options struct {
	// Reopen, for a store that keeps its data across Close, opens the store
	// whose files lie in dir (an empty directory the first time: a new,
	// empty store). It adds the checks Reopen and CloseWhileWriting: after
	// reopening, every Put acknowledged before Close, or while Close ran,
	// is found with its meta and its size (Used, Len, Scan), every
	// acknowledged Delete stays deleted, and no Put or Delete that returned
	// ErrClosed took effect. The suite closes what it opens.
	Reopen func(t *testing.T, dir string) tier.Store

	// Skip maps the name of a check (the name t.Run gives it, such as
	// "CloseRacing") to the reason it is skipped for this backend, which
	// the subtest reports with t.Skip. It is for known failures handed to
	// someone to fix; a name that is no check fails the suite.
	Skip map[string]string
}

// Run runs the conformance suite; open returns a new, empty store, which the
// suite closes. opts may be nil.
func Run(t *testing.T, open func(t *testing.T) tier.Store, opts *Options) {
	var o Options
	if opts != nil {
		o = *opts
	}
	c := checks{t: t, skip: o.Skip}
	c.run("RoundTrip", func(t *testing.T) { roundTrip(t, open(t)) })
	c.run("Errors", func(t *testing.T) { errorsOf(t, open(t)) })
	c.run("Sizes", func(t *testing.T) { sizes(t, open(t)) })
	c.run("Model", func(t *testing.T) { model(t, open(t)) })
	c.run("Concurrent", func(t *testing.T) { concurrent(t, open(t)) })
	c.run("Close", func(t *testing.T) { closed(t, open(t)) })
	c.run("CloseEmpty", func(t *testing.T) { closedEmpty(t, open(t)) })
	c.run("DeleteSeesPut", func(t *testing.T) { deleteSeesPut(t, open(t)) })
	c.run("ViewSeesPut", func(t *testing.T) { viewSeesPut(t, open(t)) })
	c.run("CloseRacing", func(t *testing.T) { closeRacing(t, open) })
	c.run("Accounting", func(t *testing.T) { accounting(t, open(t)) })
	c.run("ConcurrentAccounting", func(t *testing.T) { concurrentAccounting(t, open(t)) })
	c.run("CostBound", func(t *testing.T) { costBound(t, open(t)) })
	c.run("ScanValues", func(t *testing.T) { scanValues(t, open(t)) })
	c.run("SetMeta", func(t *testing.T) { setMeta(t, open(t)) })
	c.run("SetMetaRacing", func(t *testing.T) { setMetaRacing(t, open(t)) })
	c.run("PrepareLookups", func(t *testing.T) { prepareLookups(t, open(t)) })
	c.run("PrepareLookupsRacing", func(t *testing.T) { prepareLookupsRacing(t, open(t)) })
	c.runClock(open)
	if o.Reopen != nil {
		c.run("Reopen", func(t *testing.T) { reopen(t, o.Reopen) })
		c.run("CloseWhileWriting", func(t *testing.T) { closeWhileWriting(t, o.Reopen) })
	}
	c.unknownSkips()
}

// checks runs the suite's checks as subtests, skipping those named in skip.
type checks struct {
	t    *testing.T
	skip map[string]string
	ran  []string
}

func (c *checks) run(name string, check func(t *testing.T)) {
	c.ran = append(c.ran, name)
	c.t.Run(name, func(t *testing.T) {
		if why, ok := c.skip[name]; ok {
			t.Skip(why)
		}
		check(t)
	})
}

// unknownSkips fails the suite for a skip that names no check it ran, so
// that a renamed check does not stay skipped unnoticed.
func (c *checks) unknownSkips() {
	var unknown []string
	for name := range c.skip {
		if !slices.Contains(c.ran, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		c.t.Errorf("Options.Skip names %q, which are not checks of this run (checks: %q)", unknown, c.ran)
	}
}

// rounds scales a count of rounds down under the race detector and with
// -short, to at least 1.
func rounds(n int) int {
	if raceEnabled {
		n /= 4
	}
	if testing.Short() {
		n /= 4
	}
	return max(n, 1)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// get appends key's value to dst through ViewMeta, the contract's read; on
// an error it returns dst.
func get(s tier.Store, key string, dst []byte) ([]byte, error) {
	out := dst
	err := s.ViewMeta(key, func(value, _ []byte) error {
		out = append(dst, value...)
		return nil
	})
	if err != nil {
		return dst, err
	}
	return out, nil
}

// view calls fn with key's value through ViewMeta.
func view(s tier.Store, key string, fn func(value []byte) error) error {
	return s.ViewMeta(key, func(value, _ []byte) error { return fn(value) })
}
