package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tiermem/tiermem/internal/tempfile"
)

// A build writes its temporary files (sort runs, spooled values, the index
// being written) in a work directory of its own inside Options.TempDir,
// named after its output (base.work-*), and the bundle itself to a file
// beside the output (base.tmp-*). A build that a crash or SIGKILL stopped
// leaves them behind; the next build of the same path removes them. Each is
// locked (flock, released by the kernel when the process dies) while its
// build lives, so that a build never removes another live build's files: two
// builds of one path may run at once, and the later rename wins.

// workDir is a build's directory for its temporary files.
type workDir struct {
	path string
	lock *os.File // the directory, open and flocked while the build lives
}

// newWorkDir creates and locks a work directory in tempDir for a build of
// out, after removing the ones stopped builds of out left there.
func newWorkDir(tempDir, out string) (*workDir, error) {
	prefix := filepath.Base(out) + ".work-"
	sweepLeftovers(tempDir, prefix)
	for range 10 {
		p, err := tempfile.MkdirTemp(tempDir, prefix+"*")
		if err != nil {
			return nil, fmt.Errorf("bundle: creating the build's work directory: %w", err)
		}
		f, err := lockedAt(p)
		if errors.Is(err, fs.ErrNotExist) {
			tempfile.Forget(p)
			continue // swept by another build before we locked it: make another
		}
		if err != nil {
			tempfile.Remove(p)
			return nil, fmt.Errorf("bundle: locking the build's work directory: %w", err)
		}
		return &workDir{path: p, lock: f}, nil
	}
	return nil, fmt.Errorf("bundle: the work directories made in %s kept vanishing (another process removing them?)", tempDir)
}

// remove removes the work directory and everything in it.
func (w *workDir) remove() error {
	err := os.RemoveAll(w.path)
	tempfile.Forget(w.path)
	w.lock.Close()
	return err
}

// lockedAt opens name and takes its lock, waiting for a build that is
// sweeping it; it returns fs.ErrNotExist if name is gone, or was removed
// while it waited (the lock is then on a removed file).
func lockedAt(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	kept, err := lockKept(f)
	if err == nil && !kept {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
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

// lockKept takes f's lock, waiting for a build that is sweeping it, so that
// later sweeps leave it, and reports whether f is still at its name: false
// if a sweep removed it before the lock was taken.
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

// sweepLeftovers removes the entries of dir whose names start with prefix
// and that no live build holds locked. Errors are ignored: a leftover that
// cannot be removed now is removed by a later build.
func sweepLeftovers(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.RemoveAll(name) // under the lock: a build that waits for it then finds it gone
		}
		f.Close()
	}
}
