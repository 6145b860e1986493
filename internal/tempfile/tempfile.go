// Package tempfile records the temporary files (and directories) the
// process made and has not removed yet, so that a command stopped by a
// signal removes them before it exits: its deferred removals do not run
// then. The sort runs of internal/extsort, the unfinished output of a
// bundle or snapshot and the demo's directory are recorded. Its functions
// are safe for concurrent use.
package tempfile

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"
)

var (
	mu      sync.Mutex
	names   = map[string]bool{} // true for a directory
	removed bool                // RemoveAll ran: no file is made after it
)

// errStopping is the error of a file asked for after RemoveAll.
var errStopping = errors.New("tempfile: the process is stopping: its temporary files were removed")

// Create makes a temporary file as os.CreateTemp does and records it.
func Create(dir, pattern string) (*os.File, error) {
	mu.Lock() // held while the file is made, so that RemoveAll sees it
	defer mu.Unlock()
	if removed {
		return nil, errStopping
	}
	f, err := os.CreateTemp(dir, pattern)
	if err == nil {
		names[f.Name()] = false
	}
	return f, err
}

// CreateNamed makes the file name, which must not exist (O_EXCL), open
// for reading and writing with perm, and records it.
func CreateNamed(name string, perm os.FileMode) (*os.File, error) {
	mu.Lock()
	defer mu.Unlock()
	if removed {
		return nil, errStopping
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	if err == nil {
		names[name] = false
	}
	return f, err
}

// MkdirTemp makes a temporary directory as os.MkdirTemp does and records
// it: RemoveAll removes it with everything in it.
func MkdirTemp(dir, pattern string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if removed {
		return "", errStopping
	}
	name, err := os.MkdirTemp(dir, pattern)
	if err == nil {
		names[name] = true
	}
	return name, err
}

// Forget drops name from the record: it was removed, or renamed to where
// it stays.
func Forget(name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(names, name)
}

// Remove removes the file name (a directory recorded by MkdirTemp with
// everything in it) and forgets it. The lock is held across both, so that a
// CreateNamed of the same name cannot come between them and lose its record.
func Remove(name string) error {
	mu.Lock()
	defer mu.Unlock()
	remove := os.Remove
	if names[name] {
		remove = os.RemoveAll
	}
	err := remove(name)
	delete(names, name)
	return err
}

// RemoveAll removes every file recorded, and returns how many it removed:
// what a command stopped by a signal calls before it exits. Their writers
// may still be writing them; the removal unlinks their names. No file is
// made after it: Create and CreateNamed fail.
func RemoveAll() int {
	mu.Lock()
	defer mu.Unlock()
	removed = true
	n := 0
	for name, dir := range names {
		remove := os.Remove
		if dir {
			remove = os.RemoveAll
		}
		if remove(name) == nil {
			n++
		}
	}
	clear(names)
	return n
}

// WriteFile creates or replaces the file at path with what write puts in a
// temporary file beside it, recorded until it is synced and renamed over
// path, its directory synced after: a reader of path sees the old file or
// the whole new one, never a part, a write that fails (a full disk) or a
// signal leaves the old file as it was, and once it returns the new one
// survives a crash. The new file has the temporary file's mode (0600).
func WriteFile(path string, write func(*os.File) error) error {
	tmp, err := Create(filepath.Dir(path), "."+tempBase(filepath.Base(path))+".*")
	if err != nil {
		return err
	}
	defer Remove(tmp.Name()) // once renamed, it names nothing
	defer tmp.Close()        // for a write that panics; else os.ErrClosed, ignored
	if err := write(tmp); err != nil {
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// maxTempBase is the most bytes of the target's name that WriteFile puts in
// its temporary file's name: with the dot before, the dot after and up to 10
// random digits, that name stays within NAME_MAX (255) for any legal target.
const maxTempBase = 200

// tempBase returns base cut to maxTempBase bytes, at a rune's start so that
// a UTF-8 name stays valid.
func tempBase(base string) string {
	if len(base) <= maxTempBase {
		return base
	}
	n := maxTempBase
	for n > 0 && !utf8.RuneStart(base[n]) {
		n--
	}
	return base[:n]
}

// SyncDir fsyncs the directory dir, making the entries created in it,
// renamed into it and removed from it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
