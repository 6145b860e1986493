package object

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tiermem/tiermem/internal/tempfile"
)

// tmpPrefix begins the name of a file Dir is writing; List skips them and
// OpenDir removes those a crash left.
const tmpPrefix = ".tmp-"

// Dir is a Bucket in a local directory: each object is a file, a name's
// slashes are subdirectories. Put writes a temporary file, fsyncs it,
// renames it over the name and fsyncs the directory, so an object is
// whole and durable once Put returns. A Dir is safe for concurrent use,
// and holds no resources: it needs no Close.
type Dir struct {
	root string
}

var (
	_ Bucket        = (*Dir)(nil)
	_ ObjectCreator = (*Dir)(nil)
)

// OpenDir returns the Bucket in directory path, creating it if needed,
// and removes the temporary files of writes a crash interrupted.
func OpenDir(path string) (*Dir, error) {
	root, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("object: directory %s: %w", path, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("object: creating directory %s: %w", root, err)
	}
	d := &Dir{root: root}
	return d, d.removeTemps()
}

// removeTemps removes files whose writes were interrupted.
func (d *Dir) removeTemps() error {
	return filepath.WalkDir(d.root, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasPrefix(e.Name(), tmpPrefix) {
			err = os.Remove(path)
		}
		return err
	})
}

// String returns "file://" and the directory.
func (d *Dir) String() string { return "file://" + d.root }

// path returns the file of object name, or an error for a name that
// would leave the directory.
func (d *Dir) path(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return "", fmt.Errorf("object: %s: invalid object name %q", d, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." || strings.HasPrefix(part, tmpPrefix) {
			return "", fmt.Errorf("object: %s: invalid object name %q", d, name)
		}
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

// gone returns ErrNoBucket, wrapped, if the directory itself is missing,
// else err.
func (d *Dir) gone(err error) error {
	if _, statErr := os.Stat(d.root); errors.Is(statErr, fs.ErrNotExist) {
		return fmt.Errorf("object: %s: %w", d, ErrNoBucket)
	}
	return err
}

// Put writes data to name atomically and durably.
func (d *Dir) Put(ctx context.Context, name string, data []byte) error {
	return d.write(ctx, "put", name, data, writeAtomic)
}

// CreateObject writes data to name atomically and durably, unless a file of
// that name exists: the data is written beside it and linked in, which
// fails if the name is taken.
func (d *Dir) CreateObject(ctx context.Context, name string, data []byte) error {
	err := d.write(ctx, "create", name, data, writeNew)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("object: create %s/%s: %w", d, name, ErrExists)
	}
	return err
}

// write writes data to name's path with place (writeAtomic, writeNew),
// making the directories above it first; op names the call in errors.
func (d *Dir) write(ctx context.Context, op, name string, data []byte, place func(path string, data []byte) error) error {
	path, err := d.path(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.mkdirs(filepath.Dir(path)); err != nil {
		return d.gone(fmt.Errorf("object: %s %s/%s: %w", op, d, name, err))
	}
	if err := place(path, data); err != nil {
		if errors.Is(err, fs.ErrExist) && op == "create" {
			return err // CreateObject says ErrExists
		}
		return d.gone(fmt.Errorf("object: %s %s/%s: %w", op, d, name, err))
	}
	return nil
}

// mkdirs creates dir and the missing directories above it inside the
// root, fsyncing each parent so that the new entries are durable.
func (d *Dir) mkdirs(dir string) error {
	if dir == d.root {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if _, err := os.Stat(d.root); err != nil {
		return err // the bucket is gone: do not recreate it
	}
	parent := filepath.Dir(dir)
	if err := d.mkdirs(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return tempfile.SyncDir(parent)
}

// writeAtomic writes data to a temporary file beside path, fsyncs it,
// renames it to path and fsyncs the directory.
func writeAtomic(path string, data []byte) error {
	return writeBeside(path, data, os.Rename)
}

// writeNew is writeAtomic that links the file in, so that it fails with
// fs.ErrExist where a file of that name is (rename would replace it).
func writeNew(path string, data []byte) error {
	return writeBeside(path, data, func(tmp, path string) error {
		err := os.Link(tmp, path)
		os.Remove(tmp)
		return err
	})
}

// writeBeside writes data to a temporary file beside path, fsyncs it,
// moves it to path with place, and fsyncs the directory.
func writeBeside(path string, data []byte, place func(tmp, path string) error) error {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, tmpPrefix+randomSuffix())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = place(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return tempfile.SyncDir(dir)
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Get reads n bytes of name from off.
func (d *Dir) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	path, err := d.path(name)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, d.gone(fmt.Errorf("object: get %s/%s: %w", d, name, ErrNotExist))
	}
	if err != nil {
		return nil, fmt.Errorf("object: get %s/%s: %w", d, name, err)
	}
	defer f.Close()
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, off)
	if err == io.EOF && int64(got) == n {
		err = nil
	}
	if err == io.EOF {
		return buf[:got], fmt.Errorf("object: get %s/%s bytes %d-%d: %w (%d bytes there)", d, name, off, off+n, ErrShortObject, got)
	}
	if err != nil {
		return buf[:got], fmt.Errorf("object: get %s/%s bytes %d-%d: %w", d, name, off, off+n, err)
	}
	return buf, nil
}

// List calls fn for every object whose name begins with prefix.
func (d *Dir) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	if _, err := os.Stat(d.root); err != nil {
		return d.gone(fmt.Errorf("object: list %s: %w", d, err))
	}
	start := d.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(d.root, filepath.FromSlash(prefix[:i]))
	}
	err := filepath.WalkDir(start, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // the prefix names no directory, or it left under us
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return d.visit(path, e, prefix, fn)
	})
	if err != nil {
		return fmt.Errorf("object: list %s prefix %q: %w", d, prefix, err)
	}
	return nil
}

// visit calls fn for the file at path if it is an object under prefix.
func (d *Dir) visit(path string, e fs.DirEntry, prefix string, fn func(string, int64) error) error {
	if e.IsDir() || strings.HasPrefix(e.Name(), tmpPrefix) {
		return nil
	}
	rel, err := filepath.Rel(d.root, path)
	if err != nil {
		return err
	}
	name := filepath.ToSlash(rel)
	if !strings.HasPrefix(name, prefix) {
		return nil
	}
	info, err := e.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted while we listed
	}
	if err != nil {
		return err
	}
	return fn(name, info.Size())
}

// Delete removes name; an absent object is not an error.
func (d *Dir) Delete(ctx context.Context, name string) error {
	path, err := d.path(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err = os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return d.gone(nil)
	}
	if err == nil {
		err = tempfile.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("object: delete %s/%s: %w", d, name, err)
	}
	return nil
}
