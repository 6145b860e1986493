package tiermem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tiermem/tiermem/internal/tempfile"
)

// restoreMarker is the file in a Manager's directory that says a Restore
// began changing it and has not finished: from before the Restore clears or
// changes anything until what it restored is durable (at once with a
// Durability that writes through, at Close with None). Open refuses a
// directory holding it (ErrRestoreIncomplete), so that a crash or a kill
// half way never leaves a directory that opens as a sound Manager holding
// part of a snapshot.
const restoreMarker = "RESTORING"

// checkRestoreMarker returns ErrRestoreIncomplete, with what the marker
// says, for a directory a Restore did not finish.
func checkRestoreMarker(dir string, o Options) error {
	name := filepath.Join(dir, restoreMarker)
	said, err := os.ReadFile(name)
	switch {
	case errors.Is(err, fs.ErrNotExist), err == nil && o.OpenIncompleteRestore:
		return nil
	case err != nil:
		return fmt.Errorf("tiermem: reading %s: %w", name, err)
	}
	return fmt.Errorf("%w: %s says %q (it may still be running). Restore the snapshot again (tiermem snapshot restore, "+
		"or Open with Options.OpenIncompleteRestore and Restore), or remove %s to use what the directory holds",
		ErrRestoreIncomplete, name, strings.TrimSpace(string(said)), name)
}

// markRestoring writes the marker, durably, before a Restore of path
// changes anything.
func (m *Manager) markRestoring(path string) error {
	m.restorePending.Store(false) // an earlier Restore's: this one decides
	name := filepath.Join(m.dir, restoreMarker)
	err := tempfile.WriteFile(name, func(f *os.File) error {
		_, err := fmt.Fprintf(f, "a restore of %s began at %s\n", path, m.now().UTC().Format(time.RFC3339))
		return err
	})
	if err != nil {
		return fmt.Errorf("tiermem: marking %s as being restored: %w", m.dir, err)
	}
	return nil
}

// restored records that a Restore finished: the marker goes once what it
// restored is durable. With Durability None the memory tiers reach the disk
// at Close, which removes it then; otherwise their values are in the cold
// log already, which is synced first.
func (m *Manager) restored() error {
	if m.Durability() == None {
		m.restorePending.Store(true)
		return nil
	}
	if p := m.tiers[Cold].persistent; p != nil {
		if err := p.Sync(); err != nil {
			return fmt.Errorf("tiermem: making the restored values durable: %w", err)
		}
	}
	return m.unmarkRestoring()
}

// unmarkRestoring removes the marker, durably.
func (m *Manager) unmarkRestoring() error {
	m.restorePending.Store(false)
	err := os.Remove(filepath.Join(m.dir, restoreMarker))
	if err == nil {
		err = tempfile.SyncDir(m.dir)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tiermem: removing the mark of a finished restore from %s: %w", m.dir, err)
	}
	return nil
}
