package bundle

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tiermem/tiermem/internal/tempfile"
)

// A build writes its temporary files (sort runs, spooled values, the index
// being written) in a work directory of its own inside Options.TempDir,
// named after its output (base.work-<digits>, marked by the file workMarker
// in it), and the bundle itself to a file beside the output
// (base.tmp-<16 hex digits>). A build that a crash or SIGKILL stopped leaves
// them behind; the next build of the same path, and the next OpenLayered of
// it, remove them. Each is locked (flock, released by the kernel when the
// process dies) while its build lives, so that a build never removes another
// live build's files: two builds of one path may run at once, and the later
// rename wins. A Merge's build keeps its finished file at its temporary
// name, locked, until the Merge has swapped it in (merge.go).
//
// A sweep removes only entries of exactly these shapes: an output that is a
// regular file, a work directory that holds the marker. A user's
// report.tmp-backup or report.work-drafts/ beside the bundle report is no
// build's, and is left alone.

const (
	outputInfix  = ".tmp-"
	outputDigits = 16 // lowercase hex digits of a random uint64
	workInfix    = ".work-"
	workMarker   = ".bundle-work" // the empty file that marks a build's work directory
)

// outputName returns a new name for the temporary output of a bundle at
// path.
func outputName(path string) string {
	return fmt.Sprintf("%s%s%0*x", path, outputInfix, outputDigits, rand.Uint64())
}

// isOutputName reports whether name is one outputName makes for an output
// named base.
func isOutputName(name, base string) bool {
	s, ok := strings.CutPrefix(name, base+outputInfix)
	return ok && len(s) == outputDigits && strings.Trim(s, "0123456789abcdef") == ""
}

// isWorkName reports whether name is one newWorkDir makes for an output
// named base: os.MkdirTemp puts the decimal digits of a random uint32 in
// place of the pattern's "*".
func isWorkName(name, base string) bool {
	s, ok := strings.CutPrefix(name, base+workInfix)
	return ok && len(s) >= 1 && len(s) <= 10 && strings.Trim(s, "0123456789") == ""
}

// workDir is a build's directory for its temporary files.
type workDir struct {
	path string
	lock *os.File // the directory, open and flocked while the build lives
}

// newWorkDir creates, locks and marks a work directory in tempDir for a
// build of out, after removing the ones stopped builds of out left there.
// A sweep removes only marked directories, and the mark is made under the
// lock, so no sweep removes it.
func newWorkDir(tempDir, out string) (*workDir, error) {
	base := filepath.Base(out)
	sweepWorkDirs(tempDir, base)
	p, err := tempfile.MkdirTemp(tempDir, base+workInfix+"*")
	if err != nil {
		return nil, fmt.Errorf("bundle: creating the build's work directory: %w", err)
	}
	f, err := os.Open(p)
	if err == nil {
		if err = lock(f); err != nil {
			f.Close()
		}
	}
	if err == nil {
		if err = os.WriteFile(filepath.Join(p, workMarker), nil, 0o644); err != nil {
			f.Close()
		}
	}
	if err != nil {
		tempfile.Remove(p)
		return nil, fmt.Errorf("bundle: locking the build's work directory: %w", err)
	}
	return &workDir{path: p, lock: f}, nil
}

// remove removes the work directory and everything in it.
func (w *workDir) remove() error {
	err := os.RemoveAll(w.path)
	tempfile.Forget(w.path)
	w.lock.Close()
	return err
}

// lock takes an exclusive flock on f, waiting for it.
func lock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}

// lockKept takes f's lock, waiting for the process that holds it, and
// reports whether f is still at its name: false if a sweep removed it, or a
// rename replaced it, before the lock was taken.
func lockKept(f *os.File) (bool, error) {
	if err := lock(f); err != nil {
		return false, err
	}
	a, err := f.Stat()
	if err != nil {
		return false, nil
	}
	b, err := os.Lstat(f.Name())
	return err == nil && os.SameFile(a, b), nil
}

// sweepLeftovers removes what stopped builds of the output path left: its
// temporary outputs beside it and its work directories in tempDir.
func sweepLeftovers(path, tempDir string) {
	dir, base := filepath.Split(path)
	sweepOutputs(filepath.Clean(dir+"."), base)
	sweepWorkDirs(tempDir, base)
}

// sweepOutputs removes the temporary outputs of builds of base in dir that
// no live build holds locked.
func sweepOutputs(dir, base string) {
	sweep(dir, func(e fs.DirEntry) bool { return e.Type().IsRegular() && isOutputName(e.Name(), base) },
		func(name string) { os.Remove(name) })
}

// sweepWorkDirs removes the work directories of builds of base in tempDir
// that no live build holds locked, with everything in them.
func sweepWorkDirs(tempDir, base string) {
	sweep(tempDir, func(e fs.DirEntry) bool { return e.IsDir() && isWorkName(e.Name(), base) }, removeMarked)
}

// removeMarked removes the directory name with everything in it if it holds
// workMarker.
func removeMarked(name string) {
	if st, err := os.Lstat(filepath.Join(name, workMarker)); err == nil && st.Mode().IsRegular() {
		os.RemoveAll(name)
	}
}

// sweep calls remove for each entry of dir that match accepts and that no
// live build holds locked. remove runs under the entry's lock, so that a
// build that waits for the lock then finds the entry gone (lockKept).
// Errors are ignored: a leftover that cannot be removed now is removed by a
// later sweep.
func sweep(dir string, match func(fs.DirEntry) bool, remove func(name string)) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !match(e) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			remove(name)
		}
		f.Close()
	}
}
