package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tiermem/tiermem/internal/sim"
	"github.com/tiermem/tiermem/internal/trace"
)

// simFlags are the flags of tiermem sim.
type simFlags struct {
	traces      []string
	formats     []string
	sizes       []int
	policies    []string
	progress    string
	maxRequests int64
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

Formats: arc (ARC paper .lis: "start count ..." lines, each standing for count
requests of the keys start, start+1, ...), lirs (one key per line), scarab and
corda (8-byte big-endian keys), oracle (libCacheSim oracleGeneral). Files
compressed with zstd, gzip or xz are read directly. Several --trace flags are
replayed one after the other as one trace (with one --format each, or one
--format for all).

The trace is first read once to check and count it, then streamed from its
files for each policy and size, so memory does not grow with its length: each
replay holds its cache, of the size's entries or, when the trace has fewer
requests, of the trace's (a cache that holds every key never evicts, so
the hit ratio is the same at any larger size). opt needs the future of every
request and holds the trace in memory, 16 bytes a request: with opt, a trace
of more than --max-requests requests is refused before it is loaded.`,
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
	fl.StringVar(&f.progress, "progress", "auto", progressUsage)
	fl.Int64Var(&f.maxRequests, "max-requests", sim.DefaultMaxRequests, "the most requests opt holds in memory (16 bytes each); a longer trace is refused")
	_ = cmd.MarkFlagRequired("trace")
	_ = cmd.MarkFlagRequired("format")
	return cmd
}

func runSim(out, errOut io.Writer, f simFlags) error {
	if len(f.formats) != 1 && len(f.formats) != len(f.traces) {
		return fmt.Errorf("sim: %d formats for %d traces: give one, or one per trace", len(f.formats), len(f.traces))
	}
	if f.maxRequests < 1 {
		return fmt.Errorf("sim: --max-requests %d: want at least 1", f.maxRequests)
	}
	if err := sim.Check(f.sizes, f.policies); err != nil {
		return err
	}
	show, err := showProgress(f.progress, errOut)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	parts, err := traceParts(f.traces, f.formats)
	if err != nil {
		return err
	}
	t, err := scanTraces(parts, errOut, show)
	if err != nil {
		return err
	}
	if t.Len() == 0 {
		return fmt.Errorf("sim: %s holds no request (in format %s): nothing to replay", strings.Join(f.traces, ", "), strings.Join(f.formats, ", "))
	}
	jobs := int64(len(f.sizes) * len(f.policies))
	total := int64(-1) // unknown where it would overflow
	if jobs > 0 && t.Len() <= math.MaxInt64/jobs {
		total = t.Len() * jobs
	}
	bar := newBar(total, "replaying", errOut, show)
	results, err := sim.RunTrace(t, f.sizes, f.policies, &sim.Options{
		Progress:    func(n int) { _ = bar.Add(n) },
		MaxRequests: f.maxRequests,
	})
	_ = bar.Finish()
	if errors.Is(err, sim.ErrTooLong) {
		return fmt.Errorf("%w: raise --max-requests, or leave opt out (the other policies stream the trace)", err)
	}
	if err != nil {
		return err
	}
	return printResults(out, f.policies, results)
}

// traceParts pairs each trace file with its format.
func traceParts(paths, formats []string) ([]trace.Part, error) {
	parts := make([]trace.Part, len(paths))
	for i, path := range paths {
		format, err := trace.ParseFormat(formats[min(i, len(formats)-1)])
		if err != nil {
			return nil, err
		}
		parts[i] = trace.Part{Path: path, Format: format}
	}
	return parts, nil
}

// scanTraces checks and counts the trace, with a bar for each file.
func scanTraces(parts []trace.Part, errOut io.Writer, show bool) (*trace.Files, error) {
	var b *bar
	cur := -1
	t, err := trace.ScanFiles(parts, func(part int, done, total int64) {
		if part != cur {
			if b != nil {
				_ = b.Finish()
			}
			cur, b = part, newBytesBar(total, "reading "+parts[part].Path, errOut, show)
		}
		_ = b.Set64(done)
	})
	if b != nil {
		_ = b.Finish()
	}
	return t, err
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
