package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tiermem/tiermem/internal/sim"
	"github.com/tiermem/tiermem/internal/trace"
)

func init() { register(newSimCmd) }

// simFlags are the flags of tiermem sim.
type simFlags struct {
	traces   []string
	formats  []string
	sizes    []int
	policies []string
	progress string
}

func newSimCmd() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim --trace FILE --format FORMAT [--sizes N,...] [--policies P,...]",
		Short: "Replay a cache trace and print each policy's hit ratio at each size",
		Long: `sim replays an access trace against the cache policies and Bélády's optimal
policy (opt, with bypass) and prints one row per cache size, with each policy's
hit ratio in percent. Capacity is in entries; every request is a Get followed by
a Set on a miss; cold misses count.

Formats: arc (ARC paper .lis), lirs (one key per line), scarab and corda (8-byte
big-endian keys), oracle (libCacheSim oracleGeneral). Files compressed with zstd,
gzip or xz are read directly. Several --trace flags are replayed one after the
other as one trace (with one --format each, or one --format for all).`,
		Example: `  tiermem sim --trace OLTP.lis.zst --format arc --sizes 250,500,1000 --policies lru,adaptive,opt
  tiermem sim --trace corda.gz --trace loop.trace.gz --trace corda.gz --format corda,lirs,corda --sizes 500`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSim(cmd.OutOrStdout(), cmd.ErrOrStderr(), f) },
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.traces, "trace", nil, "trace file (repeat to concatenate traces)")
	fl.StringSliceVar(&f.formats, "format", nil, "trace format: arc, lirs, scarab, corda or oracle (one, or one per trace)")
	fl.IntSliceVar(&f.sizes, "sizes", []int{250, 500, 1000}, "cache sizes in entries")
	fl.StringSliceVar(&f.policies, "policies", []string{"lru", "lfu", "fifo", "adaptive", "opt"}, "policies: lru, lfu, fifo, s3fifo, adaptive, opt")
	fl.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when it is a terminal), always or never")
	_ = cmd.MarkFlagRequired("trace")
	_ = cmd.MarkFlagRequired("format")
	return cmd
}

func runSim(out, errOut io.Writer, f simFlags) error {
	if len(f.formats) != 1 && len(f.formats) != len(f.traces) {
		return fmt.Errorf("sim: %d formats for %d traces: give one, or one per trace", len(f.formats), len(f.traces))
	}
	show, err := showProgress(f.progress, errOut)
	if err != nil {
		return err
	}
	keys, err := loadKeys(f.traces, f.formats, errOut, show)
	if err != nil {
		return err
	}
	total := int64(len(keys)) * int64(len(f.sizes)*len(f.policies))
	bar := newBar(total, "replaying", errOut, show)
	results, err := sim.Run(keys, f.sizes, f.policies, func(n int) { _ = bar.Add(n) })
	_ = bar.Finish()
	if err != nil {
		return err
	}
	return printResults(out, f.policies, results)
}

// loadKeys reads every trace, in order, into one key sequence.
func loadKeys(paths, formats []string, errOut io.Writer, show bool) ([]uint64, error) {
	var keys []uint64
	for i, path := range paths {
		format, err := trace.ParseFormat(formats[min(i, len(formats)-1)])
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		bar := newBar(st.Size(), "reading "+path, errOut, show)
		reqs, err := trace.ReadAll(path, format, func(done, _ int64) { _ = bar.Set64(done) })
		_ = bar.Finish()
		if err != nil {
			return nil, err
		}
		for _, r := range reqs {
			keys = append(keys, r.Key)
		}
	}
	return keys, nil
}

// printResults writes one row per size: the size, then each policy's hit ratio.
func printResults(out io.Writer, policies []string, results []sim.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%10s", "size")
	for _, p := range policies {
		fmt.Fprintf(&b, " %9s", p)
	}
	b.WriteByte('\n')
	for i, r := range results {
		if i%len(policies) == 0 {
			fmt.Fprintf(&b, "%10d", r.Size)
		}
		fmt.Fprintf(&b, " %9s", strconv.FormatFloat(100*r.Ratio, 'f', 2, 64))
		if i%len(policies) == len(policies)-1 {
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// showProgress decides from the --progress flag whether to draw progress bars.
func showProgress(mode string, errOut io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		f, ok := errOut.(*os.File)
		if !ok {
			return false, nil
		}
		st, err := f.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0, nil
	}
	return false, fmt.Errorf("sim: --progress %q: want auto, always or never", mode)
}

func newBar(total int64, what string, errOut io.Writer, show bool) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWriter(errOut),
		progressbar.OptionSetVisibility(show),
		progressbar.OptionShowBytes(false),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)
}
