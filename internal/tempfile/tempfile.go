// Package tempfile records the temporary files the process made and has
// not removed yet, so that a command stopped by a signal removes them
// before it exits: its deferred removals do not run then. The sort runs of
// internal/extsort and the unfinished output of a bundle or snapshot are
// recorded. Its functions are safe for concurrent use.
package tempfile

import (
	"errors"
	"os"
	"sync"
)

var (
	mu      sync.Mutex
	names   = map[string]struct{}{}
	removed bool // RemoveAll ran: no file is made after it
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
		names[f.Name()] = struct{}{}
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
		names[name] = struct{}{}
	}
	return f, err
}

// Forget drops name from the record: it was removed, or renamed to where
// it stays.
func Forget(name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(names, name)
}

// Remove removes the file name and forgets it.
func Remove(name string) error {
	err := os.Remove(name)
	Forget(name)
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
	for name := range names {
		if os.Remove(name) == nil {
			n++
		}
	}
	clear(names)
	return n
}
