package disk

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tiermem/tiermem/internal/vfs"
)

// File names in a store's directory: NNNNNNNNNNNNNNNN.seg holds a segment,
// NNNNNNNNNNNNNNNN.hint its hint file (the id in 16 lower-case hex digits,
// so names sort by id), *.tmp a file being written (removed at Open) and
// LOCK the lock that keeps a second store out.
//
// Segment ids are below 2^63 (maxSegmentID): a file named with a larger id,
// or not exactly as fileName writes it (upper-case digits, say), is not
// the store's and is left alone, so litter can never set the next id near
// 2^64 and send the ids round onto the names of live segments.
const (
	segmentExt = ".seg"
	hintExt    = ".hint"
	tmpExt     = ".tmp"
	lockName   = "LOCK"
)

// maxSegmentID is the largest segment id the store reads or creates.
const maxSegmentID = 1<<63 - 1

func fileName(dir string, id uint64, ext string) string {
	return filepath.Join(dir, baseName(id, ext))
}

// baseName is the canonical name of the file of id with extension ext.
func baseName(id uint64, ext string) string { return fmt.Sprintf("%016x%s", id, ext) }

// parseName returns the id and extension of a segment or hint file name:
// only the canonical names that fileName writes, for ids up to
// maxSegmentID.
func parseName(name string) (id uint64, ext string, ok bool) {
	ext = filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if len(base) != 16 || (ext != segmentExt && ext != hintExt) {
		return 0, "", false
	}
	id, err := strconv.ParseUint(base, 16, 64)
	if err != nil || id > maxSegmentID || baseName(id, ext) != name {
		return 0, "", false
	}
	return id, ext, true
}

// lstater is a vfs.FS that can describe a name without following a
// symbolic link or opening it. Other file systems are taken to be the
// operating system's (as vfs.Default and a vfs.Fault over it are); on one
// that is not, os.Lstat finds nothing and the checks that use it pass.
type lstater interface {
	Lstat(name string) (iofs.FileInfo, error)
}

func lstat(fs vfs.FS, name string) (iofs.FileInfo, error) {
	if l, ok := fs.(lstater); ok {
		return l.Lstat(name)
	}
	return os.Lstat(name)
}

// isRegular reports whether name may be a regular file. Anything else
// with a store file's name (a FIFO, whose opening would block until a
// writer came; a directory; a symbolic link) is litter, never opened. A
// name that cannot be described (gone since it was listed, or on an FS
// that is not the operating system's and cannot say) is taken as regular:
// opening it tells.
func isRegular(fs vfs.FS, name string) bool {
	fi, err := lstat(fs, name)
	return err != nil || fi.Mode().IsRegular()
}

// newCreator is a vfs.FS that can create a file only if its name is free
// (O_EXCL).
type newCreator interface {
	CreateNew(name string) (vfs.File, error)
}

// createNew creates name, which must not exist: a store never writes a
// file over one it did not mean to replace. With an FS that cannot create
// exclusively, the name is checked first; the directory's lock keeps any
// other store from racing the check.
func createNew(fs vfs.FS, name string) (vfs.File, error) {
	if c, ok := fs.(newCreator); ok {
		return c.CreateNew(name)
	}
	if err := checkFree(fs, name); err != nil {
		return nil, err
	}
	return fs.Create(name)
}

// checkFree returns nil if nothing is named name, and an error wrapping
// fs.ErrExist if something is.
func checkFree(fs vfs.FS, name string) error {
	_, err := lstat(fs, name)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = iofs.ErrExist
	}
	return &iofs.PathError{Op: "create", Path: name, Err: err}
}
