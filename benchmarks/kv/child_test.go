package kv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"testing"
)

var (
	storeFlag   = flag.String("kv.store", "", "child: the store to measure (one of the kinds in stores_test.go); empty: TestStore skips")
	entriesFlag = flag.String("kv.entries", "", "entries, comma-separated for TestKV (default 100000, or 1000000,10000000 with -kv.full)")
	opsFlag     = flag.Int64("kv.ops", 0, "operations of each Get and mixed phase (default 4M; 1M for 100K entries or fewer)")
	profileDir  = flag.String("kv.profile", "", "child: write cpu.pprof, mutex.pprof and block.pprof of the phase -kv.profilephase (and allocs.pprof up to its end) here")
	profilePh   = flag.String("kv.profilephase", "get2", "child: the phase to profile: load, get1, get2 or mixed")
)

// resultPrefix starts the one line of a child's output that carries its result.
const resultPrefix = "kvresult "

// result is what a child reports: RSS in bytes, and each phase.
type result struct {
	Store     string           `json:"store"`
	Entries   int              `json:"entries"`
	RSSBefore int64            `json:"rss_before"` // after the key set's own memory, before the store is opened
	RSSLoaded int64            `json:"rss_loaded"` // after the load and a collection
	Phases    map[string]phase `json:"phases"`
}

// payload is the bytes of keys and values the store holds.
func (r result) payload() int64 { return int64(r.Entries) * (keySize + valueSize) }

// TestStore is the child: it measures the store -kv.store with -kv.entries
// entries and prints its result as one line of JSON after resultPrefix.
func TestStore(t *testing.T) {
	if *storeFlag == "" {
		t.Skip("a child of TestKV: run with -kv.store")
	}
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	k, err := kindNamed(*storeFlag)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := strconv.Atoi(*entriesFlag)
	if err != nil || entries <= 0 {
		t.Fatalf("-kv.entries %q: one positive number for a child", *entriesFlag)
	}
	r, err := measureStore(k, entries, opsFor(entries))
	if err != nil {
		t.Fatal(err)
	}
	line, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%s\n", resultPrefix, line)
}

// opsFor returns the operations of each Get and mixed phase for entries.
func opsFor(entries int) int64 {
	switch {
	case *opsFlag > 0:
		return *opsFlag
	case entries <= 100_000:
		return 1 << 20
	}
	return 4 << 20 // 3–15 s a phase on the 2-vCPU VM of BENCHMARKS.md
}

// measureStore opens a store of kind k, loads it with entries keys, and runs
// the Get phases (all hits) and the mixed load.
func measureStore(k kind, entries int, ops int64) (result, error) {
	r := result{Store: k.name, Entries: entries, Phases: map[string]phase{}}
	runtime.GC()
	r.RSSBefore = rss()
	s, err := k.open(entries)
	if err != nil {
		return r, fmt.Errorf("opening %s: %w", k.name, err)
	}
	phases := []struct {
		name string
		run  func() (phase, error)
	}{
		{"load", func() (phase, error) { return load(s, entries) }},
		{"get1", func() (phase, error) { return run(s, entries, ops, 1, 0) }},
		{"get2", func() (phase, error) { return run(s, entries, ops, 2, 0) }},
		{"mixed", func() (phase, error) { return run(s, entries, ops, 2, mixedSets) }},
	}
	for _, ph := range phases {
		p, err := profiled(ph.name, ph.run)
		if err != nil {
			return r, fmt.Errorf("%s, %s: %w", k.name, ph.name, err)
		}
		if p.Misses > 0 {
			return r, fmt.Errorf("%s, %s: %d misses of %d operations: the store lost keys", k.name, ph.name, p.Misses, p.Ops)
		}
		r.Phases[ph.name] = p
		if ph.name == "load" {
			runtime.GC()
			r.RSSLoaded = rss()
		}
	}
	runtime.KeepAlive(s)
	return r, nil
}

// profiled runs a phase, with CPU, mutex and block profiles of it (and the
// allocations of the whole run so far, "allocs") written to
// -kv.profile when it is the phase -kv.profilephase names.
func profiled(name string, fn func() (phase, error)) (phase, error) {
	if *profileDir == "" || name != *profilePh {
		return fn()
	}
	cpu, err := os.Create(filepath.Join(*profileDir, "cpu.pprof"))
	if err != nil {
		return phase{}, err
	}
	defer cpu.Close()
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return phase{}, err
	}
	tr, err := os.Create(filepath.Join(*profileDir, "trace.out"))
	if err != nil {
		return phase{}, err
	}
	defer tr.Close()
	if err := trace.Start(tr); err != nil {
		return phase{}, err
	}
	p, err := fn()
	trace.Stop()
	pprof.StopCPUProfile()
	runtime.SetMutexProfileFraction(0)
	runtime.SetBlockProfileRate(0)
	for _, prof := range []string{"mutex", "block", "allocs"} {
		if werr := writeProfile(prof); werr != nil && err == nil {
			err = werr
		}
	}
	return p, err
}

func writeProfile(name string) error {
	f, err := os.Create(filepath.Join(*profileDir, name+".pprof"))
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rss returns the process's resident set (VmRSS) in bytes, 0 where
// /proc/self/status cannot be read.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:")); ok {
			kb, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			return kb << 10
		}
	}
	return 0
}
