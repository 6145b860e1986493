package tiermem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
// says, for a directory a Restore did not finish. Opened anyway
// (Options.OpenIncompleteRestore), it returns the snapshot the marker names
// (restoreMarks.failed: the mark stays until that snapshot is restored
// again, or everything replaced), or "" when the directory has no marker.
func checkRestoreMarker(dir string, o Options) (string, error) {
	name := filepath.Join(dir, restoreMarker)
	said, err := os.ReadFile(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("tiermem: reading %s: %w", name, err)
	case o.OpenIncompleteRestore:
		return markedSnapshot(string(said)), nil
	}
	return "", fmt.Errorf("%w: %s says %q (it may still be running). Restore the snapshot again (tiermem snapshot restore, "+
		"or Open with Options.OpenIncompleteRestore and Restore), or remove %s to use what the directory holds",
		ErrRestoreIncomplete, name, strings.TrimSpace(string(said)), name)
}

// markedSnapshot returns the snapshot a marker's text names (markRestoring
// writes "a restore of PATH began at TIME"), or the whole text if it names
// none: never "", which would read as no unfinished Restore.
func markedSnapshot(said string) string {
	rest, ok := strings.CutPrefix(said, "a restore of ")
	if path, _, found := strings.Cut(rest, " began at "); ok && found && path != "" {
		return path
	}
	return "(" + strings.TrimSpace(said) + ")"
}

// restoreMarks tracks the Restores of one Manager for its marker: a
// Restore that finishes removes it only if no other is running and none
// stopped half way since (another's partial keys stay in the Manager). Its
// zero value has no Restore. It is safe for concurrent use.
type restoreMarks struct {
	mu      sync.Mutex
	running int    // Restores between their mark and their end
	begun   uint64 // Restores ever marked
	failed  string // the snapshot of a Restore that stopped half way, "" when none since one cleared it
	atClose bool   // the mark goes at Close: the last Restore finished with Durability None
}

// restoreTicket is one Restore's place among the others.
type restoreTicket struct {
	path   string
	number uint64 // its place in begun
	alone  bool   // no other Restore was running when it began
}

// markRestoring writes the marker, durably, before a Restore of path
// changes anything.
func (m *Manager) markRestoring(path string) (restoreTicket, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs // one spelling, to be recognised when it is restored again
	}
	rm := &m.restores
	rm.mu.Lock()
	defer rm.mu.Unlock()
	name := filepath.Join(m.dir, restoreMarker)
	err := tempfile.WriteFile(name, func(f *os.File) error {
		_, err := fmt.Fprintf(f, "a restore of %s began at %s\n", path, m.now().UTC().Format(time.RFC3339))
		return err
	})
	if err != nil {
		return restoreTicket{}, fmt.Errorf("tiermem: marking %s as being restored: %w", m.dir, err)
	}
	rm.begun++
	rm.running++
	rm.atClose = false // this one decides
	return restoreTicket{path: path, number: rm.begun, alone: rm.running == 1}, nil
}

// finishRestore records the end of t's Restore, which failed if err is not
// nil, and removes the marker if that leaves the directory holding no part
// of a snapshot: once what was restored is durable (with Durability None
// the memory tiers reach the disk at Close, which removes it then;
// otherwise their values are in the cold log already, synced first). A
// Restore that stopped half way keeps the directory marked until one that
// ran alone restores the same snapshot again, or replaces everything.
func (m *Manager) finishRestore(t restoreTicket, mode RestoreMode, err error) error {
	rm := &m.restores
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.running--
	if err != nil {
		rm.failed, rm.atClose = t.path, false
		return err
	}
	ranAlone := t.alone && rm.begun == t.number
	if rm.failed != "" && ranAlone && (mode == RestoreReplace || rm.failed == t.path) {
		rm.failed = ""
	}
	if rm.running > 0 || rm.failed != "" {
		return nil // the mark stays: another Restore is changing the Manager, or one stopped half way
	}
	if m.Durability() == None {
		rm.atClose = true
		return nil
	}
	if p := m.tiers[Cold].persistent; p != nil {
		if err := p.Sync(); err != nil {
			return fmt.Errorf("tiermem: making the restored values durable: %w", err)
		}
	}
	return m.unmarkRestoring()
}

// unmarkAtClose removes the marker if the last Restore left it for Close.
func (m *Manager) unmarkAtClose() error {
	rm := &m.restores
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if !rm.atClose {
		return nil
	}
	rm.atClose = false
	return m.unmarkRestoring()
}

// unmarkRestoring removes the marker, durably.
func (m *Manager) unmarkRestoring() error {
	err := os.Remove(filepath.Join(m.dir, restoreMarker))
	if err == nil {
		err = tempfile.SyncDir(m.dir)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tiermem: removing the mark of a finished restore from %s: %w", m.dir, err)
	}
	return nil
}
