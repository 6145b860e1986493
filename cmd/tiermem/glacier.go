package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/object"
	_ "github.com/tiermem/tiermem/tier/object/s3" // glacier URLs may name S3
)

func newGlacierCmd() *cobra.Command {
	var dir, url string
	cmd := &cobra.Command{
		Use:   "glacier",
		Short: "List, verify or compact the packs of a Manager's glacier tier",
		Long: `glacier inspects the glacier tier of the Manager directory --dir: the packs
in <dir>/glacier, or in the store --url names (a directory, or
s3://bucket/prefix?endpoint=…&region=…&path-style=true, with credentials
from the usual AWS environment variables and files).

It opens the Manager, so it refuses while another process has the
directory open; the same operations are the Manager's GlacierPacks,
VerifyGlacier and CompactGlacier.`,
		Example: `  tiermem glacier ls --dir /var/lib/app/tiermem
  tiermem glacier verify --dir /var/lib/app/tiermem --url 's3://archive/app?region=eu-west-1'
  tiermem glacier compact --dir /var/lib/app/tiermem`,
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", "", "the Manager's directory (required)")
	cmd.PersistentFlags().StringVar(&url, "url", "", "the glacier store's URL, if not <dir>/glacier")
	cmd.MarkPersistentFlagRequired("dir")
	sub := func(use, short string, run func(io.Writer, *tiermem.Manager) error) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withGlacier(dir, url, func(m *tiermem.Manager) error { return run(cmd.OutOrStdout(), m) })
			},
		}
	}
	cmd.AddCommand(
		sub("ls", "List the packs, with their size, values and live share", printPacks),
		sub("verify", "Read every pack back and check every checksum", verifyGlacier),
		sub("compact", "Rewrite the packs whose live share fell low", compactGlacier),
	)
	return cmd
}

// withGlacier opens the Manager in dir, without a migration loop and with
// its glacier tier at url, runs fn, and closes it: the commands that work
// on a data directory (glacier, snapshot) share it.
func withGlacier(dir, url string, fn func(*tiermem.Manager) error) (err error) {
	if err := checkManagerDir(dir); err != nil {
		return err
	}
	if err := existingPacks(url); err != nil {
		return err
	}
	return openGlacier(dir, url, false, fn)
}

// existingPacks refuses a --url naming a local directory that does not
// exist, which the glacier store would otherwise create: a mistyped path
// is an error, not a glacier with no packs. An empty --url (the packs in
// --dir) and object stores pass.
func existingPacks(url string) error {
	if url == "" {
		return nil
	}
	loc, err := object.ParseURL(url, "")
	if err != nil || loc.Scheme != "file" {
		return nil // Open says what is wrong with it
	}
	fi, err := os.Stat(loc.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--url %s: no such directory (where the glacier tier's packs are)", url)
	case err != nil:
		return fmt.Errorf("--url: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("--url %s: not a directory", url)
	}
	return nil
}

// existingDir refuses a --dir that does not exist, or is not a directory,
// that Open would otherwise create: a mistyped path is an error, not an
// empty Manager.
func existingDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--dir %s: no such directory (a Manager's directory, as tiermem serve --dir gives it)", dir)
	case err != nil:
		return fmt.Errorf("--dir: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("--dir %s: not a directory", dir)
	}
	return nil
}

// checkManagerDir refuses a --dir that is not a Manager's directory: one that
// does not exist (existingDir), or one without cold/, which every Manager
// has from its first Open. Open would make a Manager in it: the parent of
// the data directory, or $HOME, would report a sound Manager with no keys,
// and snapshot create would write an empty snapshot in place of a backup.
func checkManagerDir(dir string) error {
	if err := existingDir(dir); err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(dir, "cold"))
	if err != nil || !fi.IsDir() {
		return fmt.Errorf("--dir %s: not a Manager's directory (no cold/ in it; a Manager's directory is the one tiermem serve --dir gives)", dir)
	}
	return nil
}

// openGlacier is withGlacier, creating dir when it does not exist (a
// restore into a new directory); restoring opens a directory whose last
// restore did not finish, for this one to finish it.
func openGlacier(dir, url string, restoring bool, fn func(*tiermem.Manager) error) (err error) {
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{URL: url},
		OpenIncompleteRestore: restoring})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := m.Close(); err == nil {
			err = cerr
		}
	}()
	return fn(m)
}

func printPacks(w io.Writer, m *tiermem.Manager) error {
	packs, err := m.GlacierPacks()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pack\tbytes\tentries\tlive bytes\tlive share\t")
	var total, live int64
	for _, p := range packs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f%%\t%s\n", p.Name, p.Bytes, p.Entries, p.LiveBytes, 100*p.LiveShare, pending(p))
		total += p.Bytes
		live += p.LiveBytes
	}
	tw.Flush()
	u := m.Usage()[tiermem.Glacier]
	fmt.Fprintf(w, "%d packs, %d bytes, %d live bytes; %d keys\n", len(packs), total, live, u.Items)
	return nil
}

// pending marks a pack not yet in the store.
func pending(p object.PackInfo) string {
	if p.Durable {
		return ""
	}
	return "(uploading)"
}

func verifyGlacier(w io.Writer, m *tiermem.Manager) error {
	if err := m.VerifyGlacier(); err != nil {
		return err
	}
	packs, err := m.GlacierPacks()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d packs verified: every checksum and index is sound\n", len(packs))
	return nil
}

func compactGlacier(w io.Writer, m *tiermem.Manager) error {
	before, err := m.GlacierPacks()
	if err != nil {
		return err
	}
	if err := m.CompactGlacier(); err != nil {
		return err
	}
	after, err := m.GlacierPacks()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d packs before, %d after\n", len(before), len(after))
	return nil
}
