package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tempfile"
)

// demoConfig is what the demo's flags set.
type demoConfig struct {
	dir      string        // where the Managers keep their cold tier; "" = a temporary directory
	scale    float64       // fraction of the seed's array sizes and tier budgets
	wait     time.Duration // the seed's wait for automatic migration; 0 = migrate at once
	out      io.Writer     // the examples' output
	err      io.Writer     // progress
	progress string        // --progress: auto, always or never
	show     bool          // whether bars are drawn, from progress and err
	cluster  string        // --cluster: run the Distributed Memory example on this Redis Cluster instead (cluster.go)
}

// demoSizes are the migration example's arrays, in MB of 2^20 bytes as the
// document counts them.
var demoSizes = []int{100, 200, 300, 400, 500}

// demoPeakMiB bounds the RAM the demo's data takes at full scale: the 1500
// MiB of arrays, plus one of them (at most the 500 MiB one) a second time,
// while Store copies it into the hot tier or a migration pass writes it to
// warm memory. The Manager frees each hot copy once its warm copy is written
// and returnFreed hands that memory back at once: the copy into warm memory
// lets the collector in every few megabytes (memory.Copy yields), so a pass
// never holds two arrays' copies at once.
const demoPeakMiB = 1500 + 500

// demoRAM is demoPeakMiB with the Go runtime, as the help and README state it.
const demoRAM = "2.1 GiB"

func newDemoCmd() *cobra.Command {
	cfg := demoConfig{scale: 1, wait: 5 * time.Second}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the memories-dev examples (basic usage, tier migration) on the real Manager",
		Long: "demo runs the basic-usage and memory-tier-migration examples of the memories-dev\n" +
			"Memory System document end to end on a tiermem Manager with the document's tier\n" +
			"sizes (hot 8000 MiB, warm 32000 MiB) and prints what the document prints.\n" +
			"It needs at most " + demoRAM + " of RAM: the 1500 MiB of arrays, and one of them (at\n" +
			"most 500 MiB) a second time while it is stored or moved to warm memory.\n" +
			"--scale shrinks arrays and budgets alike. --wait is how long the example waits for\n" +
			"automatic migration: a pass runs every eighth of it (at most every 250ms) and\n" +
			"demotes the arrays left unread for 4/5 of it; --wait 0 runs one pass at once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.out, cfg.err = cmd.OutOrStdout(), cmd.ErrOrStderr()
			show, err := showProgress(cfg.progress, cfg.err)
			if err != nil {
				return err
			}
			cfg.show = show
			return runDemo(cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.dir, "dir", "", "directory for the cold tier (default: a temporary one, removed afterwards)")
	cmd.Flags().Float64Var(&cfg.scale, "scale", cfg.scale, "fraction of the example's array sizes and tier budgets")
	cmd.Flags().DurationVar(&cfg.wait, "wait", cfg.wait, "how long the migration example waits for automatic migration (0: one pass at once)")
	cmd.Flags().StringVar(&cfg.progress, "progress", "auto", progressUsage)
	cmd.Flags().StringVar(&cfg.cluster, "cluster", "", "run the Distributed Memory example instead, on the Redis Cluster with these nodes (host:port,...)")
	return cmd
}

func runDemo(cfg demoConfig) error {
	if !(cfg.scale > 0 && cfg.scale <= 1) { // NaN too
		return fmt.Errorf("--scale %v: want a fraction in (0, 1]", cfg.scale)
	}
	if cfg.wait < 0 {
		return fmt.Errorf("--wait %v: want a duration of 0 or more (0 migrates at once)", cfg.wait)
	}
	if cfg.cluster != "" {
		return distributedDemo(cfg)
	}
	pngDir := cfg.dir // where the analytics example saves its plot
	if cfg.dir == "" {
		pngDir = "."
		dir, err := tempfile.MkdirTemp("", "tiermem-demo")
		if err != nil {
			return err
		}
		defer tempfile.Remove(dir)
		defer removeTempsOnSignal(cfg.err)() // a SIGINT or SIGTERM removes it too
		cfg.dir = dir
	}
	if err := basicUsage(cfg); err != nil {
		return fmt.Errorf("basic usage: %w", err)
	}
	// The first example's buffers (its matrix, the glacier pack holding
	// it) go back to the system before the second example's arrays come.
	debug.FreeOSMemory()
	fmt.Fprintln(cfg.out)
	if err := tierMigration(cfg); err != nil {
		return fmt.Errorf("tier migration: %w", err)
	}
	fmt.Fprintln(cfg.out)
	if err := memorySnapshots(cfg); err != nil {
		return fmt.Errorf("memory snapshots: %w", err)
	}
	fmt.Fprintln(cfg.out)
	if err := memoryAnalytics(cfg, pngDir); err != nil { // plot.go
		return fmt.Errorf("memory analytics: %w", err)
	}
	if os.Getenv(peakRSSEnv) != "" {
		fmt.Fprintf(cfg.err, "peak RSS: %s\n", peakRSS())
	}
	return nil
}

// peakRSSEnv, set in the environment, makes the demo print its peak RSS
// (VmHWM) last, for the test that holds it to what the help states: the
// rusage a parent gets from wait4 cannot tell, since Go starts a child
// with vfork, and the kernel folds the parent's peak into the child's
// when it execs.
const peakRSSEnv = "TIERMEM_DEMO_PEAK_RSS"

// peakRSS returns the VmHWM line of /proc/self/status ("123456 kB"), or
// what went wrong reading it.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err.Error()
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "no VmHWM in /proc/self/status"
}

// demoOptions returns the document's tier sizes, scaled. The Manager runs
// no migration loop of its own: the demo runs the passes (see migrate).
func demoOptions(cfg demoConfig) *tiermem.Options {
	mib := func(n float64) int64 { return int64(n * cfg.scale * (1 << 20)) }
	return &tiermem.Options{
		Hot:             tiermem.TierOptions{Size: mib(8000)},
		Warm:            tiermem.TierOptions{Size: mib(32000)},
		Cold:            tiermem.TierOptions{Size: mib(500 * 1000)},
		MigrateInterval: -1,
		DemoteAfter:     max(cfg.wait*4/5, time.Nanosecond), // idle for 4/5 of the wait
		HitWindow:       max(time.Minute, 2*cfg.wait),       // the reads still count at the last pass
	}
}

// fillRandom fills data with uniform random float64 in [0, 1), from a
// generator of its own (several times faster than the shared one).
func fillRandom(data []float64) {
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for i := range data {
		data[i] = r.Float64()
	}
}

// basicUsage is the document's "Using the MemoryManager" example.
func basicUsage(cfg demoConfig) error {
	m, err := tiermem.Open(filepath.Join(cfg.dir, "basic"), demoOptions(cfg))
	if err != nil {
		return err
	}
	defer m.Close()
	n := int(1000 * math.Sqrt(cfg.scale))
	data := make([]float64, n*n)
	fillRandom(data)
	if err := m.StoreArray("random_matrix_1", tiermem.Float64Array(data, n, n), tiermem.InTier(tiermem.Hot)); err != nil {
		return err
	}
	a, err := m.RetrieveArray("random_matrix_1")
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.out, "Data shape: (%d, %d)\n", a.Shape[0], a.Shape[1])
	printUsage(cfg.out, m, tiermem.Hot, tiermem.Warm, tiermem.Cold)
	if err := archive(cfg, m, filepath.Join(cfg.dir, "basic", "glacier"), "random_matrix_1", a); err != nil {
		return fmt.Errorf("glacier: %w", err)
	}
	return m.Clear()
}

// archive moves key to the glacier tier (glacier_memory_enabled=True in
// the document: <dir>/glacier here), reads it back from there and says
// where it went and whether it came back whole.
func archive(cfg demoConfig, m *tiermem.Manager, where, key string, want tiermem.Array) error {
	if err := m.Move(key, tiermem.Glacier); err != nil {
		return err
	}
	got, err := m.RetrieveArray(key)
	if err != nil {
		return err
	}
	t, err := m.Tier(key)
	if err != nil {
		return err
	}
	packs, err := m.GlacierPacks()
	if err != nil {
		return err
	}
	same := slices.Equal(got.Data, want.Data) && slices.Equal(got.Shape, want.Shape)
	fmt.Fprintf(cfg.out, "Archived '%s' to %s memory: %d bytes in %d pack(s) under %s, read back intact: %v\n",
		key, t, m.Usage()[tiermem.Glacier].Used, len(packs), where, same)
	return nil
}

func printUsage(out io.Writer, m *tiermem.Manager, tiers ...tiermem.Tier) {
	u := m.Usage()
	for _, t := range tiers {
		name := t.String()
		fmt.Fprintf(out, "%s%s memory usage: %.2f%%\n", string(name[0]-'a'+'A'), name[1:], u[t].Percent)
	}
}

// tierMigration is the document's "Memory Tier Migration" example: five
// arrays of 100–500 MB in hot memory, two of them read often, and after a
// wait the three idle ones have moved to warm memory.
func tierMigration(cfg demoConfig) error {
	m, err := tiermem.Open(filepath.Join(cfg.dir, "migration"), demoOptions(cfg))
	if err != nil {
		return err
	}
	defer m.Close()
	if err := storeArrays(cfg, m); err != nil {
		return err
	}
	// The memory of storeArrays' buffer, and then of readOften's, goes back
	// to the system now rather than at a collection that may never come.
	debug.FreeOSMemory()
	fmt.Fprintf(cfg.out, "\nHot memory usage: %.2f%%\n", m.Usage()[tiermem.Hot].Percent)
	if err := readOften(cfg, m, "data_0", "data_1"); err != nil {
		return err
	}
	debug.FreeOSMemory()
	fmt.Fprintln(cfg.out, "\nWaiting for automatic migration...")
	if err := migrate(m, cfg.wait); err != nil {
		return err
	}
	for i := range demoSizes {
		key := fmt.Sprintf("data_%d", i)
		t, err := m.Tier(key)
		if err != nil {
			return err
		}
		fmt.Fprintf(cfg.out, "'%s' is now in %s memory\n", key, t)
	}
	return m.Clear()
}

// memorySnapshots is the document's "Memory Snapshots" example: five
// 100×100 matrices in hot memory, a snapshot, Clear, a Retrieve that
// misses, the restore, and every matrix back with its mean.
func memorySnapshots(cfg demoConfig) error {
	m, err := tiermem.Open(filepath.Join(cfg.dir, "snapshots"), demoOptions(cfg))
	if err != nil {
		return err
	}
	defer m.Close()
	data := make([]float64, 100*100)
	for i := range 5 {
		fillRandom(data)
		for j := range data {
			data[j] *= float64(i)
		}
		if err := m.StoreArray(fmt.Sprintf("matrix_%d", i), tiermem.Float64Array(data, 100, 100), tiermem.InTier(tiermem.Hot)); err != nil {
			return err
		}
	}
	path := filepath.Join(cfg.dir, "memory_snapshot.bin")
	if _, err := m.Snapshot(path, nil); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.out, "Created snapshot at %s\n", path)
	fmt.Fprintf(cfg.out, "Snapshot size: %.2f MB\n", float64(fi.Size())/(1<<20))
	if err := m.Clear(); err != nil {
		return err
	}
	if _, err := m.RetrieveArray("matrix_0"); errors.Is(err, tiermem.ErrNotFound) {
		fmt.Fprintln(cfg.out, "Data was successfully cleared")
	} else {
		fmt.Fprintln(cfg.out, "Data still exists (unexpected)")
	}
	if _, err := m.Restore(path, nil); err != nil {
		return err
	}
	fmt.Fprintln(cfg.out, "Restored from snapshot")
	for i := range 5 {
		a, err := m.RetrieveArray(fmt.Sprintf("matrix_%d", i))
		if err != nil {
			return err
		}
		xs, err := a.Float64s()
		if err != nil {
			return err
		}
		fmt.Fprintf(cfg.out, "Retrieved matrix_%d, mean value: %.2f\n", i, mean(xs))
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	return m.Clear()
}

// mean returns the arithmetic mean of xs.
func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// storeArrays stores one square float64 array of random numbers per size of
// demoSizes (scaled) in hot memory, and prints each one's real size. Each
// array is generated into one buffer that the next reuses: Store copies it.
func storeArrays(cfg demoConfig, m *tiermem.Manager) error {
	dims := make([]int, len(demoSizes))
	var total int64
	for i, size := range demoSizes {
		dims[i] = int(math.Sqrt(float64(size) * cfg.scale * (1 << 20) / 8))
		total += int64(dims[i]) * int64(dims[i]) * 8
	}
	buf := make([]float64, slices.Max(dims)*slices.Max(dims))
	bar := newByteBar(cfg, total, "storing arrays")
	for i, dim := range dims {
		data := buf[:dim*dim]
		fillRandom(data)
		key := fmt.Sprintf("data_%d", i)
		if err := m.StoreArray(key, tiermem.Float64Array(data, dim, dim), tiermem.InTier(tiermem.Hot)); err != nil {
			return err
		}
		bar.Add64(int64(len(data)) * 8)
		bar.Clear()
		fmt.Fprintf(cfg.out, "Stored %.3gMB array with key '%s' in hot memory\n", float64(len(data)*8)/(1<<20), key)
	}
	return bar.Finish()
}

// readOften retrieves each key ten times over a fifth of the wait, into one
// reused buffer, so that the Manager counts them as in use.
func readOften(cfg demoConfig, m *tiermem.Manager, keys ...string) error {
	var buf []byte
	for range 10 {
		for _, key := range keys {
			a, err := m.RetrieveArrayInto(buf, key)
			if err != nil {
				return err
			}
			buf = a.Data
		}
		time.Sleep(cfg.wait / 50)
	}
	return nil
}

// migrate runs the Manager's migration pass every eighth of the wait (at
// most every 250 ms) until the wait is over, as the Manager's own loop would,
// or, with no wait, once. The passes start only now, once the arrays are
// stored and read, because on a busy machine generating 1.5 GB of random
// numbers can take longer than the idle time the wait allows, and the first
// arrays would be demoted before the example reads them.
func migrate(m *tiermem.Manager, wait time.Duration) error {
	defer returnFreed(m)()
	if wait == 0 {
		return m.Migrate()
	}
	end := time.Now().Add(wait)
	tick := time.NewTicker(max(min(250*time.Millisecond, wait/8), time.Millisecond))
	defer tick.Stop()
	for now := range tick.C {
		if now.After(end) {
			return nil
		}
		if err := m.Migrate(); err != nil {
			return err
		}
	}
	return nil
}

// returnFreed gives the memory the hot tier frees back to the system as soon
// as the tier shrinks, until the returned stop is called. A demoted array's
// hot copy becomes garbage, but the Go runtime finds garbage only at its next
// collection, which a program that allocates little never reaches: without
// this, every array moved to warm memory would take RAM twice.
func returnFreed(m *tiermem.Manager) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		last := m.Usage()[tiermem.Hot].Used
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			used := m.Usage()[tiermem.Hot].Used
			if used < last {
				debug.FreeOSMemory()
			}
			last = used
		}
	}()
	return func() { close(quit); <-done }
}

// newByteBar returns a progress bar over n bytes on the demo's error output,
// drawn only where --progress says.
func newByteBar(cfg demoConfig, n int64, what string) *bar {
	return newBytesBar(n, what, cfg.err, cfg.show)
}
