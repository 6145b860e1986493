package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/tiermem/tiermem"
)

func init() { register(newDemoCmd) }

// demoConfig is what the demo's flags set.
type demoConfig struct {
	dir   string        // where the Managers keep their cold tier; "" = a temporary directory
	scale float64       // fraction of the seed's array sizes and tier budgets
	wait  time.Duration // the seed's wait for automatic migration
	out   io.Writer     // the examples' output
	err   io.Writer     // progress
}

func newDemoCmd() *cobra.Command {
	cfg := demoConfig{scale: 1, wait: 5 * time.Second}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the memories-dev examples (basic usage, tier migration) on the real Manager",
		Long: "demo runs the basic-usage and memory-tier-migration examples of the memories-dev\n" +
			"Memory System document end to end on a tiermem Manager with the document's tier\n" +
			"sizes (hot 8000 MiB, warm 32000 MiB) and prints what the document prints.\n" +
			"The arrays take 1.5 GB of RAM; --scale shrinks arrays and budgets alike.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.out, cfg.err = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return runDemo(cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.dir, "dir", "", "directory for the cold tier (default: a temporary one, removed afterwards)")
	cmd.Flags().Float64Var(&cfg.scale, "scale", cfg.scale, "fraction of the example's array sizes and tier budgets")
	cmd.Flags().DurationVar(&cfg.wait, "wait", cfg.wait, "how long the migration example waits for automatic migration")
	return cmd
}

func runDemo(cfg demoConfig) error {
	if cfg.scale <= 0 || cfg.scale > 1 {
		return fmt.Errorf("--scale %v: want a fraction in (0, 1]", cfg.scale)
	}
	if cfg.dir == "" {
		dir, err := os.MkdirTemp("", "tiermem-demo")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.dir = dir
	}
	if err := basicUsage(cfg); err != nil {
		return fmt.Errorf("basic usage: %w", err)
	}
	fmt.Fprintln(cfg.out)
	if err := tierMigration(cfg); err != nil {
		return fmt.Errorf("tier migration: %w", err)
	}
	return nil
}

// openDemo opens a Manager with the document's tier sizes, scaled.
func openDemo(cfg demoConfig, name string) (*tiermem.Manager, error) {
	mib := func(n float64) int64 { return int64(n * cfg.scale * (1 << 20)) }
	return tiermem.Open(cfg.dir+"/"+name, &tiermem.Options{
		Hot:             tiermem.TierOptions{Size: mib(8000)},
		Warm:            tiermem.TierOptions{Size: mib(32000)},
		Cold:            tiermem.TierOptions{Size: mib(500 * 1000)},
		MigrateInterval: min(250*time.Millisecond, cfg.wait/8),
		DemoteAfter:     cfg.wait * 4 / 5,
	})
}

// randomMatrix returns a rows×cols array of uniform random float64 in [0, 1).
func randomMatrix(rows, cols int) tiermem.Array {
	data := make([]float64, rows*cols)
	for i := range data {
		data[i] = rand.Float64()
	}
	return tiermem.Float64Array(data, rows, cols)
}

// basicUsage is the document's "Using the MemoryManager" example.
func basicUsage(cfg demoConfig) error {
	m, err := openDemo(cfg, "basic")
	if err != nil {
		return err
	}
	defer m.Close()
	n := int(1000 * math.Sqrt(cfg.scale))
	if err := m.StoreArray("random_matrix_1", randomMatrix(n, n), tiermem.InTier(tiermem.Hot)); err != nil {
		return err
	}
	a, err := m.RetrieveArray("random_matrix_1")
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.out, "Data shape: (%d, %d)\n", a.Shape[0], a.Shape[1])
	printUsage(cfg.out, m, tiermem.Hot, tiermem.Warm, tiermem.Cold)
	return m.Clear()
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
	m, err := openDemo(cfg, "migration")
	if err != nil {
		return err
	}
	defer m.Close()
	sizes := []int{100, 200, 300, 400, 500} // MB
	if err := storeArrays(cfg, m, sizes); err != nil {
		return err
	}
	fmt.Fprintf(cfg.out, "\nHot memory usage: %.2f%%\n", m.Usage()[tiermem.Hot].Percent)
	for range 10 {
		for _, key := range []string{"data_0", "data_1"} {
			if _, err := m.RetrieveArray(key); err != nil {
				return err
			}
		}
		time.Sleep(cfg.wait / 50)
	}
	fmt.Fprintln(cfg.out, "\nWaiting for automatic migration...")
	time.Sleep(cfg.wait)
	for i := range sizes {
		key := fmt.Sprintf("data_%d", i)
		t, err := m.Tier(key)
		if err != nil {
			return err
		}
		fmt.Fprintf(cfg.out, "'%s' is now in %s memory\n", key, t)
	}
	return m.Clear()
}

// storeArrays stores one square float64 array per size (MB, scaled) in hot
// memory. The arrays are made first, so that the stores follow each other as
// closely as in the document; progress bars show both steps.
func storeArrays(cfg demoConfig, m *tiermem.Manager, sizes []int) error {
	total := 0
	for _, s := range sizes {
		total += s
	}
	bytes := int64(float64(total<<20) * cfg.scale)
	arrays := make([]tiermem.Array, len(sizes))
	bar := newByteBar(cfg, bytes, "generating arrays")
	for i, size := range sizes {
		dim := int(math.Sqrt(float64(size) * cfg.scale * (1 << 20) / 8))
		arrays[i] = randomMatrix(dim, dim)
		bar.Add64(int64(len(arrays[i].Data)))
	}
	bar.Finish()
	bar = newByteBar(cfg, bytes, "storing arrays")
	for i, a := range arrays {
		key := fmt.Sprintf("data_%d", i)
		if err := m.StoreArray(key, a, tiermem.InTier(tiermem.Hot)); err != nil {
			return err
		}
		bar.Add64(int64(len(a.Data)))
		bar.Clear()
		fmt.Fprintf(cfg.out, "Stored %dMB array with key '%s' in hot memory\n", sizes[i], key)
	}
	return bar.Finish()
}

// newByteBar returns a progress bar over n bytes on the demo's error output.
func newByteBar(cfg demoConfig, n int64, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(n, progressbar.OptionSetWriter(cfg.err), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription(what), progressbar.OptionClearOnFinish())
}
