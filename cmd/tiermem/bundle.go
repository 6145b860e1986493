package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/bytesize"
	"github.com/tiermem/tiermem/internal/kvtext"
)

func newBundleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Build, read and check bundle files (immutable key/value files shared through mmap)",
		Long: `A bundle is an immutable key/value file that many processes map at once:
only the pages read sit in RAM, once for all of them, and values are read in
place. build packs a text file of records into one; get, info and verify read it.`,
	}
	cmd.AddCommand(newBundleBuildCmd(), newBundleGetCmd(), newBundleInfoCmd(), newBundleVerifyCmd())
	return cmd
}

// buildFlags are the flags of tiermem bundle build.
type buildFlags struct {
	in, out, format, index, memory, progress string
	align                                    int
}

func newBundleBuildCmd() *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build --in FILE --out BUNDLE",
		Short: "Pack JSON lines or tab-separated records into a bundle",
		Long: `build reads records from FILE ("-" for standard input) and writes a bundle.

Input formats (--format auto picks by the extension, .jsonl/.ndjson/.json or
.tsv/.tab, else by the first line: "{" means JSON lines):

  JSON lines, one object per line:
    {"key": "red", "value": "#f00", "meta": "m"}
    {"key_base64": "AAEC/w==", "value_base64": "3q2+7w=="}
  "key" is a string, stored as its UTF-8 bytes, or any other JSON value,
  stored as its compact text. "value" is a string, stored decoded, or any
  other JSON value, stored as its compact text; missing or null is empty.
  "meta" is an optional string. Strings must be valid UTF-8: a line whose
  key, value or meta holds invalid UTF-8 (or an unpaired \u surrogate) is
  an error, so that no two keys silently become the same. For binary keys
  or values, give "key_base64" or "value_base64" instead (standard base64
  with padding): the bytes are stored as they are.

  Tab-separated: the key, a tab, then the rest of the line as the value,
  both stored byte for byte (no unescaping); a key cannot hold a tab or a
  newline. A line without a tab is an error.

Blank lines are skipped; errors name the line.

Records may come in any order and any number: memory stays within --memory
(sort runs spill beside the output). A key given twice keeps its last value,
unless --index multi keeps them all. The bundle appears at BUNDLE only when
complete, readable by all (mode 0644 less the umask); BUNDLE may not be the
input file, and its directory must exist. SIGINT or SIGTERM stops it and
removes its sort runs and unfinished output (exit status 130 or 143).`,
		Example: `  tiermem bundle build --in users.jsonl --out users.bundle
  zcat dump.tsv.gz | tiermem bundle build --in - --format tsv --out dump.bundle --index approx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBundleBuild(cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.InOrStdin(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in, "in", "", `input file of records, "-" for standard input`)
	fl.StringVar(&f.out, "out", "", "bundle file to write")
	fl.StringVar(&f.format, "format", "auto", "input format: auto, jsonl or tsv")
	fl.StringVar(&f.index, "index", "exact", "index kind: exact, approximate or multi")
	fl.IntVar(&f.align, "align", 8, "alignment of values in the file (power of two up to 4096)")
	fl.StringVar(&f.memory, "memory", "128MiB", "memory for sorting (e.g. 64MiB, 1GiB)")
	fl.StringVar(&f.progress, "progress", "auto", progressUsage)
	_ = cmd.MarkFlagRequired("in")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runBundleBuild(out, errOut io.Writer, stdin io.Reader, f buildFlags) error {
	defer removeTempsOnSignal(errOut)()
	opts, err := f.options()
	if err != nil {
		return err
	}
	show, err := showProgress(f.progress, errOut)
	if err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	in, size, err := openInput(f.in, stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := checkNotInput(in, f.in, f.out); err != nil {
		return err
	}
	readBar := newBytesBar(size, "reading "+f.in, errOut, show)
	var writeBar *bar
	opts.Progress = func(p bundle.Progress) {
		if p.Stage == bundle.StageWrite {
			if writeBar == nil {
				_ = readBar.Finish()
				writeBar = newBar(p.Total, "writing "+f.out, errOut, show)
			}
			_ = writeBar.Set64(p.Done)
		}
	}
	b, err := bundle.NewBuilder(f.out, &opts) // checks the output before any input is read
	if err != nil {
		return err
	}
	src := bufio.NewReaderSize(&countingReader{r: in, bar: readBar}, 1<<20)
	format, err := inputFormat(f.format, f.in, src)
	if err != nil {
		b.Abort()
		return err
	}
	info, err := buildFrom(kvtext.NewReader(src, format), b)
	_ = readBar.Finish()
	if writeBar != nil {
		_ = writeBar.Finish()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %d records, %d keys, %s (%d values deduplicated)\n",
		f.out, info.Records, info.Keys, formatBytes(info.FileSize), info.Deduped)
	return nil
}

// checkNotInput refuses an output path that names the input file, by
// whatever name: the same path, a symbolic link, a hard link, or standard
// input redirected from it. The build would replace its own input.
func checkNotInput(in io.Reader, inName, out string) error {
	var file *os.File
	switch in := in.(type) {
	case *os.File:
		file = in
	case noClose:
		file = in.File
	default:
		return nil
	}
	ist, err := file.Stat()
	if err != nil {
		return nil // nothing to compare: the read will fail or succeed on its own
	}
	ost, err := os.Stat(out)
	if err != nil || !os.SameFile(ist, ost) {
		return nil
	}
	return fmt.Errorf("bundle build: --out %s is the input file %s: the build would replace its own input", out, inName)
}

// options turns the flags into bundle options.
func (f buildFlags) options() (bundle.Options, error) {
	kind, err := bundle.ParseIndexKind(f.index)
	if err != nil {
		return bundle.Options{}, err
	}
	mem, err := bytesize.Parse(f.memory)
	if err != nil {
		return bundle.Options{}, fmt.Errorf("bundle build: --memory: %w", err)
	}
	return bundle.Options{Index: kind, Align: f.align, MemoryLimit: mem}, nil
}

// openInput opens the input file, or standard input for "-", and returns its
// size (-1 when unknown). Standard input is returned as it is, an *os.File
// when it is one, and is not closed.
func openInput(path string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if path == "-" {
		if f, ok := stdin.(*os.File); ok {
			return noClose{f}, -1, nil
		}
		return io.NopCloser(stdin), -1, nil
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	return file, st.Size(), nil
}

// noClose is standard input, which the build reads but does not close.
type noClose struct{ *os.File }

func (noClose) Close() error { return nil }

// inputFormat resolves the --format flag, peeking at the input for auto.
func inputFormat(flag, name string, src *bufio.Reader) (kvtext.Format, error) {
	format, err := kvtext.ParseFormat(flag)
	if err != nil || format != kvtext.Auto {
		return format, err
	}
	head, _ := src.Peek(512)
	return kvtext.Detect(name, head), nil
}

// buildFrom adds every record of r to b and finishes it; it aborts b on an
// error.
func buildFrom(r *kvtext.Reader, b *bundle.Builder) (bundle.Info, error) {
	for r.Next() {
		if err := b.AddRecord(bundle.Record{Key: r.Key(), Value: r.Value(), Meta: r.Meta()}); err != nil {
			b.Abort()
			return bundle.Info{}, fmt.Errorf("line %d: %w", r.Line(), err)
		}
	}
	if err := r.Err(); err != nil {
		b.Abort()
		return bundle.Info{}, err
	}
	return b.Finish()
}

// countingReader reports the bytes read to a progress bar.
type countingReader struct {
	r   io.Reader
	bar *bar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	_ = c.bar.Add(n)
	return n, err
}

func newBundleGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get BUNDLE KEY",
		Short: "Print the value of a key (every value, one per line, in a multi bundle), after checking the bundle's checksums",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBundleGet(cmd.OutOrStdout(), args[0], args[1])
		},
	}
}

func runBundleGet(out io.Writer, path, key string) error {
	b, err := bundle.Open(path)
	if err != nil {
		return err
	}
	defer b.Close()
	// Get reads where the value lies without checking it (what a program
	// reading the mapping pays nothing for); a one-off get reads the file
	// once so that a damaged bundle never prints wrong bytes.
	if err := b.Verify(); err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	found := false
	for v, err := range b.Values([]byte(key)) {
		if err != nil {
			return err
		}
		found = true
		w.Write(v)
		w.WriteByte('\n')
	}
	if !found {
		return fmt.Errorf("%w: %q", bundle.ErrNotFound, key)
	}
	return w.Flush()
}

func newBundleInfoCmd() *cobra.Command {
	var verify bool
	cmd := &cobra.Command{
		Use:   "info BUNDLE",
		Short: "Print a bundle's counts, sizes, index kind and checksum state",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBundleInfo(cmd.OutOrStdout(), args[0], verify)
		},
	}
	cmd.Flags().BoolVar(&verify, "verify", false, "also check every section against its checksum (reads the whole file); the exit status is 1 when one fails")
	return cmd
}

func runBundleInfo(out io.Writer, path string, verify bool) error {
	b, err := bundle.Open(path)
	if err != nil {
		return err
	}
	defer b.Close()
	state := "header ok; sections not checked (use --verify or tiermem bundle verify)"
	var verifyErr error
	if verify {
		state = "ok: every section matches its checksum and the structure is sound"
		if verifyErr = b.Verify(); verifyErr != nil {
			state = "FAILED: " + verifyErr.Error()
		}
	}
	if err := printInfo(out, path, b.Info(), state); err != nil {
		return err
	}
	if verifyErr != nil {
		return fmt.Errorf("%s: %w", path, verifyErr) // the status says it too, as bundle verify's does
	}
	return nil
}

// printInfo writes a bundle's Info as aligned lines.
func printInfo(out io.Writer, path string, in bundle.Info, state string) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(w, "%s\t"+format+"\n", append([]any{name}, args...)...)
	}
	row("file", "%s (%s)", path, formatBytes(in.FileSize))
	row("format", "version %d, readable by readers from version %d", in.Version, in.MinReader)
	row("index", "%s, guide of 2^%d buckets", in.Index, in.GuideBits)
	row("records", "%d", in.Records)
	row("keys", "%d (%s; %d hash collisions)", in.Keys, formatBytes(in.KeyBytes), in.Collisions)
	row("values", "%s as added, %s stored (%d deduplicated)", formatBytes(in.ValueBytes), formatBytes(in.StoredBytes), in.Deduped)
	row("meta", "%s", formatBytes(in.MetaBytes))
	row("alignment", "%d", in.Align)
	for _, s := range in.Sections {
		row("section "+s.Name, "%s at offset %d, checksum %016x", formatBytes(s.Size), s.Offset, s.Checksum)
	}
	row("checksums", "%s", state)
	return w.Flush()
}

func newBundleVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify BUNDLE",
		Short: "Check every byte of a bundle against its checksums and its structure",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBundleVerify(cmd.OutOrStdout(), args[0])
		},
	}
}

func runBundleVerify(out io.Writer, path string) error {
	b, err := bundle.Open(path)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Verify(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	in := b.Info()
	fmt.Fprintf(out, "%s: ok (%d records, %s)\n", path, in.Records, formatBytes(in.FileSize))
	return nil
}

// formatBytes writes a byte count with a binary unit.
func formatBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	i, f := 0, float64(n)/1024
	for ; f >= 1024 && i < len(units)-1; i++ {
		f /= 1024
	}
	return fmt.Sprintf("%.1f %ciB", f, units[i])
}
