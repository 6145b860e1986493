package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tiermem/tiermem/tier/disk"
)

func newRepairCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "repair DIR",
		Short: "Salvage a cold store that Open refuses as corrupt, and report what was lost",
		Long: `repair salvages the cold tier of the Manager directory DIR (the store in
DIR/cold; DIR may also be the cold store's own directory) when opening it
fails with a corrupt-data error. It keeps every intact record, drops the
damaged bytes, and makes each key whose newest record was damaged read as
not found, never as an older value. It prints every damaged region (file,
byte range, bytes dropped) and the keys lost.

A damaged region in which no key could be read may have held the newest
version of some key; that key then reads as its previous version. The report
says when that happened.

Each damaged segment file is rewritten whole and renamed into place, so an
interrupted repair can simply be run again; running it on a sound store
changes nothing. The store must not be open: repair refuses while a process
holds it, and then prints no report. The exit status is non-zero when the
store could not be repaired, or the report could not be written (redirect
it to a file on a disk with room: it is the only record of the keys lost).`,
		Example: `  tiermem repair --dry-run /var/lib/app/tiermem
  tiermem repair /var/lib/app/tiermem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRepair(cmd.OutOrStdout(), args[0], dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what repair would do, and change nothing")
	return cmd
}

func runRepair(out io.Writer, dir string, dryRun bool) error {
	cold := coldDir(dir)
	if err := holdsSegments(cold); err != nil {
		return err
	}
	r, err := disk.Repair(cold, &disk.RepairOptions{DryRun: dryRun})
	if err != nil {
		return fmt.Errorf("repair of %s failed, %s: %w", cold, changedBy(&r), err)
	}
	w := &errWriter{w: out}
	printRepair(w, &r)
	if w.err != nil {
		if dryRun || r.Clean() {
			return fmt.Errorf("the report on %s could not be written: %w", cold, w.err)
		}
		return fmt.Errorf("%s was repaired, but the report of what it lost could not be written (a second run finds the damage gone): %w", cold, w.err)
	}
	return nil
}

// changedBy says what a Repair that failed had changed: a report read half
// way is no report, and printing it would say "no damage found" of a store
// that was not read, or read in part.
func changedBy(r *disk.RepairReport) string {
	var done []string
	if len(r.Rewritten) > 0 {
		done = append(done, "rewritten: "+strings.Join(r.Rewritten, " "))
	}
	if len(r.Removed) > 0 {
		done = append(done, "removed: "+strings.Join(r.Removed, " "))
	}
	if len(done) == 0 {
		return "not repaired (nothing was changed)"
	}
	return "repaired in part (" + strings.Join(done, "; ") + "; run it again)"
}

// holdsSegments refuses a directory that does not exist or holds no
// segment file: a mistyped path is not a sound store, and is left as it
// was (Repair would create its LOCK file).
func holdsSegments(cold string) error {
	if fi, err := os.Stat(cold); err != nil {
		return fmt.Errorf("repair: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("repair: %s is not a directory", cold)
	}
	segs, err := filepath.Glob(filepath.Join(cold, "*.seg"))
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	if len(segs) == 0 {
		return fmt.Errorf("repair: %s holds no segment file (*.seg): not a cold store, or one never written", cold)
	}
	return nil
}

// coldDir returns the cold store's directory for dir: dir/cold when dir is
// a Manager's directory, dir itself otherwise.
func coldDir(dir string) string {
	cold := filepath.Join(dir, "cold")
	if fi, err := os.Stat(cold); err == nil && fi.IsDir() {
		return cold
	}
	return dir
}

// printRepair writes the report for a person to read.
func printRepair(w io.Writer, r *disk.RepairReport) {
	verb := map[bool]string{false: "", true: " (dry run: nothing was changed)"}[r.DryRun]
	fmt.Fprintf(w, "cold store %s%s\n", r.Dir, verb)
	fmt.Fprintf(w, "%d segment files, %d intact records\n", r.Segments, r.Records)
	for i := range r.Damage {
		printDamage(w, &r.Damage[i])
	}
	if r.TornTail != nil {
		fmt.Fprintf(w, "torn tail: %s bytes %d-%d (%d bytes): %s; opening the store drops it, as after any crash\n",
			r.TornTail.File, r.TornTail.Start, r.TornTail.End, r.TornTail.Bytes(), r.TornTail.Reason)
	}
	if r.Clean() {
		fmt.Fprintln(w, "no damage found")
		return
	}
	fmt.Fprintf(w, "%d damaged regions, %d bytes dropped\n", len(r.Damage), r.BytesDropped())
	printLoss(w, r)
	if len(r.Rewritten) > 0 {
		fmt.Fprintf(w, "rewritten: %s\n", strings.Join(r.Rewritten, " "))
	}
	if len(r.Removed) > 0 {
		fmt.Fprintf(w, "removed: %s\n", strings.Join(r.Removed, " "))
	}
}

func printDamage(w io.Writer, d *disk.Damage) {
	fmt.Fprintf(w, "damaged: %s bytes %d-%d (%d bytes): %s", d.File, d.Start, d.End, d.Bytes(), d.Reason)
	if len(d.Keys) > 0 {
		fmt.Fprintf(w, "; key %s", strings.Join(quoteAll(d.Keys), ", "))
	}
	if d.Restored {
		fmt.Fprint(w, "; restored, nothing lost")
	}
	fmt.Fprintln(w)
}

func printLoss(w io.Writer, r *disk.RepairReport) {
	if len(r.LostKeys) > 0 {
		fmt.Fprintf(w, "lost keys (their newest version was damaged; they now read as not found): %s\n",
			strings.Join(quoteAll(r.LostKeys), ", "))
	} else {
		fmt.Fprintln(w, "no key with a readable record lost its newest version")
	}
	if r.Unreadable() {
		fmt.Fprintln(w, "WARNING: some damaged bytes held records whose keys could not be read. Any of them may have held"+
			" the newest version of some key, which now reads as its previous version (or as not found, if it was the key's first put;"+
			" or, if it was a delete, as the value it deleted).")
	}
}

func quoteAll(keys []string) []string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return q
}
