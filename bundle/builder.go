package bundle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/internal/extsort"
)

// Builder writes a bundle from key/value records added one by one, in any
// order and any number, with bounded memory: records are sorted in runs that
// spill to disk and are merged back (an external sort), identical values are
// stored once, and the file appears at its path only when complete (written
// to a temporary file beside it, synced, then renamed).
//
// A Builder is not safe for concurrent use. Call Finish to write the bundle or
// Abort to give up; either removes every temporary file. The temporary files
// of a build a crash stopped are removed by the next build of the same path
// and the next OpenLayered of it, which remove nothing else (leftover.go).
type Builder struct {
	path    string
	opts    Options
	keys    *extsort.Sorter // records, by key hash then key then order added
	values  *extsort.Sorter // hashes of values of minDedup bytes or more
	spool   *spool          // values too large to sort; created on first use
	large   int64           // values over this many bytes are spooled
	rec     []byte          // scratch for encoding one sort record
	inMem   inMemory        // AddRecord's value, in a streamed build
	short   int64           // records that fit a direct entry with an inline key
	out     *fileWriter     // a streamed build's output, open from the start
	failed  error           // what failed a streamed build
	work    *workDir        // the build's temporary files (leftover.go)
	hasMeta bool
	done    bool
	// detach, set by a Merge, makes Finish leave the finished file at its
	// temporary name, open and locked, in detached, for the Merge to swap
	// in (merge.go).
	detach   bool
	detached *os.File
}

// Record is one key with its value and meta area. Slices returned by a Bundle
// point into its mapping and are valid until Close; the caller must not
// modify them.
type Record struct {
	Key   []byte // nil in approximate bundles
	Value []byte
	// Meta is a small per-record area kept beside the key and never
	// deduplicated: flags, a timestamp, a tier. Empty unless added with
	// AddRecord.
	Meta []byte
}

// maxKey bounds keys and meta areas.
const maxKey = 64 << 20

// NewBuilder returns a Builder that will write a bundle at path. A nil opts
// means the defaults. It checks the output before any record is added: the
// directory of path must exist (else an error wrapping fs.ErrNotExist names
// it), and path must not be a directory (ErrIsDir).
func NewBuilder(path string, opts *Options) (*Builder, error) {
	o, err := opts.resolve(path)
	if err != nil {
		return nil, err
	}
	if err := checkOutput(path); err != nil {
		return nil, err
	}
	work, err := newWorkDir(o.TempDir, path)
	if err != nil {
		return nil, err
	}
	o.TempDir = work.path // every temporary file of the build goes there
	b := &Builder{path: path, opts: o, large: o.MemoryLimit / 64, work: work}
	// A fan-in of 128 merges about 5 GiB of records in one pass at the
	// default memory (runs of 40 MiB).
	b.keys = extsort.New(extsort.Options{Dir: o.TempDir, MemoryLimit: o.MemoryLimit * 5 / 8, Compare: compareKeys, FanIn: 128})
	b.values = extsort.New(extsort.Options{Dir: o.TempDir, MemoryLimit: o.MemoryLimit / 8})
	if o.Streamed {
		if err := b.startStreamed(); err != nil {
			b.Abort()
			return nil, err
		}
	}
	b.progress(StageAdd, 0, -1)
	return b, nil
}

// checkOutput checks that a bundle can be written at path: its directory
// exists and path is not a directory.
func checkOutput(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("bundle: output directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("bundle: output directory %s: %w", dir, syscall.ENOTDIR)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%w: %s", ErrIsDir, path)
	}
	return nil
}

// Build writes a bundle at path from every key and value of records, which
// may be any sequence, e.g. a scan of another store. It returns what Info
// would report of the new bundle.
func Build(path string, records iter.Seq2[[]byte, []byte], opts *Options) (Info, error) {
	return BuildRecords(path, func(yield func(Record, error) bool) {
		for k, v := range records {
			if !yield(Record{Key: k, Value: v}, nil) {
				return
			}
		}
	}, opts)
}

// BuildRecords writes a bundle at path from every record of records, stopping
// at the first error it yields; a Bundle's All or a Layered View's All are
// such sequences.
func BuildRecords(path string, records iter.Seq2[Record, error], opts *Options) (Info, error) {
	b, err := NewBuilder(path, opts)
	if err != nil {
		return Info{}, err
	}
	return b.addAll(records)
}

// addAll adds every record of records and finishes the bundle, or aborts at
// the first error.
func (b *Builder) addAll(records iter.Seq2[Record, error]) (Info, error) {
	for r, err := range records {
		if err == nil {
			err = b.AddRecord(r)
		}
		if err != nil {
			b.Abort()
			return Info{}, err
		}
	}
	return b.Finish()
}

// Add adds a key and its value. Both are copied; the caller may reuse them.
func (b *Builder) Add(key, value []byte) error { return b.AddRecord(Record{Key: key, Value: value}) }

// AddRecord adds a key with its value and meta area.
func (b *Builder) AddRecord(r Record) error {
	if err := b.check(r.Key, r.Meta); err != nil {
		return err
	}
	if b.out != nil {
		b.inMem.b = r.Value
		return b.addStreamed(r.Key, r.Meta, &b.inMem, int64(len(r.Value)))
	}
	if int64(len(r.Value)) > b.large {
		return b.AddStream(r.Key, r.Meta, bytes.NewReader(r.Value), int64(len(r.Value)))
	}
	b.rec = appendSortHead(b.rec[:0], r.Key, r.Meta, inlineValue)
	b.rec = append(b.rec, r.Value...)
	b.countShort(r.Key, r.Meta, int64(len(r.Value)))
	return b.addSorted(r.Key, r.Meta, r.Value, 0)
}

// AddStream adds a key and meta area with a value of size bytes read from r,
// which is copied to a temporary file rather than held in memory: for values
// of any size. It returns ErrShortValue if r ends early, ErrInvalidSize for
// a negative size.
func (b *Builder) AddStream(key, meta []byte, r io.Reader, size int64) error {
	if size < 0 {
		return fmt.Errorf("%w: a value of %d bytes", ErrInvalidSize, size)
	}
	if err := b.check(key, meta); err != nil {
		return err
	}
	if b.out != nil {
		return b.addStreamed(key, meta, r, size)
	}
	if b.spool == nil {
		s, err := newSpool(b.opts.TempDir)
		if err != nil {
			return err
		}
		b.spool = s
	}
	off, h, err := b.spool.add(r, size)
	if err != nil {
		return err
	}
	b.rec = appendSortHead(b.rec[:0], key, meta, spooledValue)
	b.rec = binary.AppendUvarint(b.rec, uint64(off))
	b.rec = binary.AppendUvarint(b.rec, uint64(size))
	b.rec = binary.LittleEndian.AppendUint64(b.rec, h)
	b.countShort(key, meta, size)
	return b.addSorted(key, meta, nil, h)
}

// check validates a record's key and meta before it is added.
func (b *Builder) check(key, meta []byte) error {
	switch {
	case b.done:
		return ErrClosed
	case len(key) > maxKey || len(meta) > maxKey:
		return fmt.Errorf("%w: key of %d bytes, meta of %d", ErrTooLarge, len(key), len(meta))
	}
	return nil
}

// countShort counts a record that a direct entry with an inline key can hold.
func (b *Builder) countShort(key, meta []byte, size int64) {
	if len(key) <= inlineKeyBytes && len(meta) == 0 && size <= maxDirectValue {
		b.short++
	}
}

// inlineWidth chooses the inline key width of the entries of a bundle of n
// records: inlineKeyBytes when at least half of them can then have direct
// entries (a 32-byte entry costs 16 bytes more than a plain one, about what a
// direct entry saves in its record), else 0.
func (b *Builder) inlineWidth(n int64) uint8 {
	if b.opts.Index.hasKeys() && n > 0 && 2*b.short >= n {
		return inlineKeyBytes
	}
	return 0
}

// addSorted gives the encoded record in b.rec to the sorts. The value hash
// of a spooled value is vhash; an inline value is hashed here.
func (b *Builder) addSorted(key, meta, value []byte, vhash uint64) error {
	if err := b.keys.Add(xxhash.Sum64(key), b.rec); err != nil {
		return err
	}
	if len(meta) > 0 {
		b.hasMeta = true
	}
	if vhash == 0 && len(value) >= minDedup {
		vhash = xxhash.Sum64(value)
	}
	if vhash != 0 {
		if err := b.values.Add(vhash, nil); err != nil {
			return err
		}
	}
	if n := b.keys.Len(); n%progressEvery == 0 {
		b.progress(StageAdd, n, -1)
	}
	return nil
}

// progressEvery is how many records pass between two progress reports.
const progressEvery = 1 << 16

func (b *Builder) progress(s Stage, done, total int64) {
	if b.opts.Progress != nil {
		b.opts.Progress(Progress{Stage: s, Done: done, Total: total})
	}
}

// Finish sorts what was added, writes the bundle, syncs it and renames it to
// its path, then removes the temporary files. It returns what Info would
// report of the new bundle. The Builder cannot be used afterwards.
func (b *Builder) Finish() (Info, error) {
	if b.done {
		return Info{}, ErrClosed
	}
	defer b.Abort()
	n := b.keys.Len()
	b.progress(StageAdd, n, n)
	b.progress(StageSort, 0, n)
	if b.out != nil {
		return b.finishStreamed(n)
	}
	dd, err := b.dedupTable()
	if err != nil {
		return Info{}, err
	}
	if dd != nil {
		defer dd.close()
	}
	it, err := b.keys.Sort()
	if err != nil {
		return Info{}, err
	}
	w, err := newFileWriter(b.path, b.opts, b.hasMeta, n, b.inlineWidth(n), dd)
	if err != nil {
		return Info{}, err
	}
	defer w.close()
	err = b.writeRecords(it, n, func(h uint64, r sortRecord) error { return w.add(h, r.key, r.meta, r.v, r.vhash) })
	if err != nil {
		return Info{}, err
	}
	b.progress(StageSync, 0, 1)
	h, err := b.complete(w)
	if err != nil {
		return Info{}, err
	}
	b.progress(StageDone, n, n)
	return h.info(), nil
}

// complete finishes the file w writes and renames it to its path, or, for a
// Merge, hands it over in b.detached. It returns the header written.
func (b *Builder) complete(w *fileWriter) (header, error) {
	if !b.detach {
		return w.finish()
	}
	h, err := w.seal()
	if err == nil {
		b.detached = w.detach()
	}
	return h, err
}

// dedupTable sorts the value hashes and builds the dedup table from them.
func (b *Builder) dedupTable() (*dedup, error) {
	it, err := b.values.Sort()
	if err != nil {
		return nil, err
	}
	dd, err := newDedup(b.opts.TempDir, it)
	b.values.Close() // the hashes are no longer needed
	return dd, err
}

// Abort removes the temporary files of a build that will not finish. It is a
// no-op after Finish or another Abort; it returns the first error met while
// removing files.
func (b *Builder) Abort() error {
	if b.done {
		return nil
	}
	b.done = true
	err := errors.Join(b.keys.Close(), b.values.Close())
	if b.spool != nil {
		b.spool.close()
	}
	if b.out != nil {
		b.out.close()
	}
	return errors.Join(err, b.work.remove())
}
