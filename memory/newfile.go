package memory

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A writable mapping of a missing file creates it. The file is made under a
// temporary name in the directory it belongs in, sized and mapped there, and
// only then hard-linked to its name. link fails if the name exists, so a file
// that another call created meanwhile is never replaced: this call drops its
// own and maps that one. A failure removes only the temporary name, never a
// file that another call may already have mapped by its real name.

// maxCreateTries bounds the rounds of open, find it missing, create, find it
// made by someone else meanwhile: each lost round means another process
// created or removed the file in that instant.
const maxCreateTries = 100

// maxLinkHops bounds the chain of symbolic links followed to a missing
// file, as the kernel bounds the links it follows (ELOOP).
const maxLinkHops = 40

// mapWritablePath maps [off, off+size) of the file at path for reading and
// writing, creating the file if it is missing.
func mapWritablePath(path string, off, size int64) (*block, error) {
	for range maxCreateTries {
		f, err := os.OpenFile(path, os.O_RDWR|openNonblock, 0)
		if err == nil {
			return mapOpened(f, off, size)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("memory: mapping file: %w", err)
		}
		name, exists, lerr := missingName(path)
		if lerr != nil {
			return nil, fmt.Errorf("memory: mapping file: %w", lerr)
		}
		if exists {
			continue // made since the open: open it again
		}
		b, lost, cerr := createAndMap(name, off, size)
		if errors.Is(cerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("memory: mapping file: %w", err) // no directory to create it in
		}
		if !lost {
			return b, cerr
		}
	}
	return nil, fmt.Errorf("memory: mapping %s: created or removed by others %d times in a row", path, maxCreateTries)
}

// mapOpened maps [off, off+size) of f, extending it as needed, and closes f.
func mapOpened(f *os.File, off, size int64) (*block, error) {
	defer f.Close()
	return fitAndMap(f, off, size, true)
}

// missingName returns the name a missing file at path is created under:
// path itself or, where path is a symbolic link (or a chain of them) to a
// missing file, the last link's target. exists reports that path names an
// existing file after all, made since it was found missing.
func missingName(path string) (name string, exists bool, err error) {
	name = path
	for range maxLinkHops {
		st, err := os.Lstat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return name, false, nil
		case err != nil:
			return "", false, err
		case st.Mode()&fs.ModeSymlink == 0:
			return "", true, nil
		}
		to, err := os.Readlink(name)
		if err != nil {
			return "", true, nil // the link changed meanwhile: start again
		}
		name = besideLink(name, to)
	}
	return "", false, fmt.Errorf("%s: more than %d symbolic links to a missing file", path, maxLinkHops)
}

// besideLink resolves the target to of the symbolic link at link as the
// kernel does: a relative target is taken from the link's directory. The
// name is not cleaned, since ".." after a linked directory is not what
// lexical cleaning makes of it.
func besideLink(link, to string) string {
	if filepath.IsAbs(to) {
		return to
	}
	return link[:strings.LastIndexByte(link, filepath.Separator)+1] + to
}

// createAndMap creates the file name with [off, off+size) mapped. lost
// reports that name was created by someone else first: nothing is mapped
// and the caller opens that file instead.
func createAndMap(name string, off, size int64) (b *block, lost bool, err error) {
	tmp, err := createTemp(name)
	if err != nil {
		return nil, false, err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // the temporary name only; once linked, the file lives on under name
	}()
	b, err = fitAndMap(tmp, off, size, true)
	if err != nil {
		return nil, false, fmt.Errorf("memory: creating %s: %w", name, err)
	}
	if err := os.Link(tmp.Name(), name); err != nil {
		b.close()
		if errors.Is(err, fs.ErrExist) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("memory: creating %s: %w", name, err)
	}
	return b, false, nil
}

// createTemp creates an empty file under a new, hidden name in the
// directory of name.
func createTemp(name string) (*os.File, error) {
	dir := name[:strings.LastIndexByte(name, filepath.Separator)+1]
	for {
		tmp := dir + ".tiermem-" + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}
