package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/bytesize"
)

func newSnapshotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Create, restore, inspect and verify snapshots of a Manager's directory",
		Long: `A snapshot is a consistent point-in-time image of every key of a Manager —
value, tier, pin, absolute expiry, an array's dtype and shape — in one file, a
bundle (tiermem bundle info and get read it too). create and restore work on
the Manager directory --dir, which no other process may have open; info, get
and verify read the file alone.

A Manager opened on a directory finds its keys in the cold and glacier tiers
(Close writes hot and warm to cold), so a snapshot of a directory records
those tiers; restore puts every key back in the tier the snapshot recorded,
within the budgets, and the Close that ends the command writes the memory
tiers to cold again. In a program, Manager.Snapshot and Manager.Restore keep
the tiers of a running Manager. SIGINT or SIGTERM stops a create and removes
its sort runs and unfinished file (exit status 130 or 143).`,
		Example: `  tiermem snapshot create --dir /var/lib/app/tiermem --out app.snapshot
  tiermem snapshot info app.snapshot
  tiermem snapshot get app.snapshot matrix_0
  tiermem snapshot verify app.snapshot
  tiermem snapshot restore --dir /var/lib/app/tiermem --from app.snapshot --mode merge`,
	}
	cmd.AddCommand(newSnapshotCreateCmd(), newSnapshotRestoreCmd(), newSnapshotInfoCmd(), newSnapshotGetCmd(), newSnapshotVerifyCmd())
	return cmd
}

// snapshotFlags are the flags of create and restore.
type snapshotFlags struct {
	dir, url, file, mode, memory, progress string
}

func (f *snapshotFlags) manager(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "the Manager's directory (required)")
	fl.StringVar(&f.url, "url", "", "the glacier store's URL, if not <dir>/glacier")
	fl.StringVar(&f.progress, "progress", "auto", progressUsage)
	_ = cmd.MarkFlagRequired("dir")
}

func newSnapshotCreateCmd() *cobra.Command {
	var f snapshotFlags
	cmd := &cobra.Command{
		Use:   "create --dir DIR --out FILE",
		Short: "Write a snapshot of every key of the Manager in DIR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshotCreate(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	f.manager(cmd)
	cmd.Flags().StringVar(&f.file, "out", "", "the snapshot file to write (required); it appears only when complete")
	cmd.Flags().StringVar(&f.memory, "memory", "64MiB", "memory for sorting keys and records (e.g. 64MiB, 1GiB)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runSnapshotCreate(out, errOut io.Writer, f snapshotFlags) error {
	defer removeTempsOnSignal(errOut)()
	show, err := showProgress(f.progress, errOut)
	if err != nil {
		return fmt.Errorf("snapshot create: %w", err)
	}
	mem, err := bytesize.Parse(f.memory)
	if err != nil {
		return fmt.Errorf("snapshot create: --memory: %w", err)
	}
	return withGlacier(f.dir, f.url, func(m *tiermem.Manager) error {
		bars := &phaseBars{errOut: errOut, show: show}
		defer bars.finish()
		info, err := m.Snapshot(f.file, &tiermem.SnapshotOptions{MemoryLimit: mem, Progress: bars.update})
		bars.finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d keys, %s of values (%s), %s, taken at %s\n", info.Path, info.Keys,
			formatBytes(info.Bytes), tierCounts(info.Tiers), formatBytes(info.FileSize), info.Created.UTC().Format(time.RFC3339))
		return nil
	})
}

// tierCounts writes the keys of each tier that has any.
func tierCounts(tiers [tiermem.Glacier + 1]tiermem.SnapshotTier) string {
	var parts []string
	for i, t := range tiers {
		if t.Keys > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", tiermem.Tier(i), t.Keys))
		}
	}
	if len(parts) == 0 {
		return "no keys"
	}
	return strings.Join(parts, ", ")
}

// phaseBars draws one progress bar per phase of a Snapshot or Restore: in
// bytes, with the keys in its description, when the phase counts bytes;
// in keys (records) when it does not.
type phaseBars struct {
	errOut io.Writer
	show   bool
	phase  tiermem.SnapshotPhase
	bar    *bar
}

func (p *phaseBars) update(pr tiermem.SnapshotProgress) {
	if p.bar == nil || pr.Phase != p.phase {
		p.finish()
		p.phase = pr.Phase
		if pr.Phase == tiermem.PhaseDone {
			return
		}
		if pr.TotalBytes >= 0 && pr.Phase != tiermem.PhaseList {
			p.bar = newBytesBar(pr.TotalBytes, pr.Phase.String(), p.errOut, p.show)
		} else {
			p.bar = newBar(pr.TotalKeys, pr.Phase.String()+" keys", p.errOut, p.show)
		}
	}
	if pr.TotalBytes >= 0 && pr.Phase != tiermem.PhaseList {
		p.bar.pb.Describe(fmt.Sprintf("%s %d/%d keys", pr.Phase, pr.Keys, pr.TotalKeys))
		_ = p.bar.Set64(min(pr.Bytes, max(pr.TotalBytes, pr.Bytes)))
		return
	}
	_ = p.bar.Set64(pr.Keys)
}

// finish ends the bar of the current phase, if any.
func (p *phaseBars) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

func newSnapshotRestoreCmd() *cobra.Command {
	var f snapshotFlags
	cmd := &cobra.Command{
		Use:   "restore --dir DIR --from FILE",
		Short: "Verify a snapshot, then bring its keys back into the Manager in DIR",
		Long: `restore reads the whole snapshot and checks every checksum first: a damaged,
truncated or newer-format file is refused and the Manager is left as it was.
Then --mode replace (the default) clears the Manager and stores every key of
the snapshot; --mode merge stores them over the present values and keeps the
other keys. Each key goes back to the tier it was in when that tier has room,
else to the next one down (the command says how many); keys whose TTL ran
out since the snapshot are left out.

A file that is not a snapshot leaves DIR as it was, and a restore into a new
DIR that fails removes it. SIGINT or SIGTERM before the restore changes
anything (while it verifies the file) stops it, DIR as it was (exit status
130 or 143). Once it has begun changing DIR, the first signal lets the
restore, and the Close that writes its keys to disk, go on to their end
(exit status 0); a second one stops it at once, leaving DIR marked as an
unfinished restore, which every Open refuses until the restore is run
again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshotRestore(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	f.manager(cmd)
	cmd.Flags().StringVar(&f.file, "from", "", "the snapshot file to restore (required)")
	cmd.Flags().StringVar(&f.mode, "mode", "replace", "replace (clear, then restore) or merge (keep the keys the snapshot lacks)")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

func runSnapshotRestore(out, errOut io.Writer, f snapshotFlags) error {
	show, err := showProgress(f.progress, errOut)
	if err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	mode, err := tiermem.ParseRestoreMode(f.mode)
	if err != nil {
		return fmt.Errorf("snapshot restore: --mode: %w", err)
	}
	_, statErr := os.Stat(f.dir)
	created := errors.Is(statErr, fs.ErrNotExist) // the restore makes it
	_, markErr := os.Stat(filepath.Join(f.dir, restoreMarker))
	var restored atomic.Bool
	stop := finishOnSignal(errOut, restorePlan(f.dir, created, markErr == nil, &restored))
	err = restore(out, errOut, f, mode, show, &restored)
	if sig := stop(); sig != nil && err == nil {
		fmt.Fprintf(errOut, "tiermem: the restore finished after %v\n", sig)
	}
	if _, serr := os.Stat(f.dir); err != nil && created && serr == nil {
		if rerr := os.RemoveAll(f.dir); rerr == nil {
			err = fmt.Errorf("%w (--dir %s, which the restore made, is removed)", err, f.dir)
		}
	}
	return err
}

// restoreMarker is the file a Restore marks a Manager's directory with
// until what it restored is durable (the root package's restoremark.go).
const restoreMarker = "RESTORING"

// restore restores f.file into the Manager in f.dir: the snapshot is
// opened first, so that a file that is no snapshot (a typo) makes no
// directory. restored is set once Restore succeeded, before the Close that
// writes its keys to disk.
func restore(out, errOut io.Writer, f snapshotFlags, mode tiermem.RestoreMode, show bool, restored *atomic.Bool) error {
	sf, err := tiermem.OpenSnapshot(f.file)
	if err != nil {
		return err
	}
	sf.Close()
	return openGlacier(f.dir, f.url, true, func(m *tiermem.Manager) error { // a new directory is made
		bars := &phaseBars{errOut: errOut, show: show}
		defer bars.finish()
		r, err := m.Restore(f.file, &tiermem.RestoreOptions{Mode: mode, Progress: bars.update})
		restored.Store(err == nil)
		bars.finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "restored %d keys, %s of values (%s) from %s (%s)\n", r.Keys, formatBytes(r.Bytes), tierCounts(r.Tiers), f.file, mode)
		if n := r.DemotedKeys(); n > 0 {
			fmt.Fprintf(out, "%d keys went below the tier they were in, which had no room for them (%s)\n", n, demotedCounts(r.Demoted))
		}
		if r.Expired > 0 {
			fmt.Fprintf(out, "%d keys left out: their TTL ran out since the snapshot\n", r.Expired)
		}
		return nil
	})
}

// restorePlan is what a signal does to a restore into dir, from opening
// the snapshot to the end of the Close that writes the restored keys to
// disk. Until the restore marks dir (Manager.Restore verifies the whole
// snapshot first), a signal stops it at once: nothing was changed, and a
// dir the restore made is removed. From the mark on, stopping would leave
// dir holding part of the snapshot, marked, so that Open refuses it: the
// first signal lets the restore and the Close go on to their end. premarked
// is a dir an earlier restore left marked, which the plan cannot tell from
// one this restore marked.
func restorePlan(dir string, created, premarked bool, restored *atomic.Bool) signalPlan {
	return func(_ os.Signal, second bool) (string, bool) {
		_, err := os.Stat(filepath.Join(dir, restoreMarker))
		marked := premarked || err == nil
		switch {
		case second:
			return dir + " holds part of the snapshot and stays marked as an unfinished restore, which Open refuses; run the restore again", true
		case restored.Load():
			return "the restore is done, and writing its keys to disk goes on to its end: until then " + dir + " stays marked as an unfinished restore", false
		case marked:
			return "the restore goes on to its end, since stopping it half-way would leave part of the snapshot in place of the keys it replaces", false
		case created:
			if err := os.RemoveAll(dir); err != nil {
				return "before the restore changed anything; removing " + dir + ", which it had made: " + err.Error(), true
			}
			return "before the restore changed anything; " + dir + ", which it had made, is removed", true
		}
		return "before the restore changed anything: " + dir + " is as it was", true
	}
}

// demotedCounts writes the demoted keys of each tier that has any.
func demotedCounts(d [tiermem.Glacier + 1]int64) string {
	var parts []string
	for i, n := range d {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d from %s", n, tiermem.Tier(i)))
		}
	}
	return strings.Join(parts, ", ")
}

func newSnapshotInfoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "info FILE",
		Short: "Print what a snapshot holds: its instant, keys and bytes per tier (reads only the manifest)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSnapshotInfo(cmd.OutOrStdout(), args[0])
		},
	}
}

func runSnapshotInfo(out io.Writer, path string) error {
	f, err := tiermem.OpenSnapshot(path)
	if err != nil {
		return err
	}
	defer f.Close()
	in := f.Info()
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "file\t%s (%s)\n", in.Path, formatBytes(in.FileSize))
	fmt.Fprintf(w, "format\tsnapshot version %d\n", in.Version)
	fmt.Fprintf(w, "taken at\t%s\n", in.Created.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(w, "keys\t%d, %s of values\n", in.Keys, formatBytes(in.Bytes))
	for i, t := range in.Tiers {
		fmt.Fprintf(w, "%s\t%d keys, %s\n", tiermem.Tier(i), t.Keys, formatBytes(t.Bytes))
	}
	fmt.Fprintf(w, "checksums\tnot checked (tiermem snapshot verify reads the whole file)\n")
	return w.Flush()
}

func newSnapshotGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get FILE KEY",
		Short: "Print a key's tier and state, then its value, from a snapshot without restoring it",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSnapshotGet(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], args[1])
		},
	}
}

// runSnapshotGet writes the key's value to out, and its state to errOut,
// so that the value can be piped on its own.
func runSnapshotGet(out, errOut io.Writer, path, key string) error {
	f, err := tiermem.OpenSnapshot(path)
	if err != nil {
		return err
	}
	defer f.Close()
	e, err := f.Lookup(key)
	if err != nil {
		return err
	}
	state := fmt.Sprintf("%s: %s, %d bytes", key, e.Tier, len(e.Value))
	if e.IsArray {
		state += fmt.Sprintf(", an array of %s %v", e.DType, e.Shape)
	}
	if e.Pinned {
		state += ", pinned"
	}
	if !e.Expires.IsZero() {
		state += ", expires " + e.Expires.UTC().Format(time.RFC3339)
	}
	fmt.Fprintln(errOut, state)
	_, err = out.Write(e.Value)
	return err
}

func newSnapshotVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Read the whole snapshot and check every checksum, record and count",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSnapshotVerify(cmd.OutOrStdout(), args[0])
		},
	}
}

func runSnapshotVerify(out io.Writer, path string) error {
	f, err := tiermem.OpenSnapshot(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		return err
	}
	in := f.Info()
	fmt.Fprintf(out, "%s: ok (%d keys, %s of values, %s)\n", path, in.Keys, formatBytes(in.Bytes), formatBytes(in.FileSize))
	return nil
}
