package bundle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/internal/tempfile"
	"github.com/tiermem/tiermem/internal/vfs"
)

// fileWriter writes a bundle from records given in index order: the data
// section straight into a temporary file beside the output, the index entries
// into a second temporary file that is copied after the data, then the guide
// and the header; finish syncs it and renames it into place.
type fileWriter struct {
	path    string
	out     *os.File       // the temporary output, renamed to path by finish
	idxFile *os.File       // the index entries until they are copied into out
	data    *sectionWriter // the data section of out
	idx     *sectionWriter
	hdr     header
	lay     layout
	guide   *guideBuilder
	dd      *dedup // nil when no value repeats
	scratch []byte
	head    [3 * binary.MaxVarintLen64]byte
	prevKey []byte // key of the last record, for the key counts
	prevH   uint64
	started bool
}

// newFileWriter starts a bundle at path for at most maxRecords records, with
// entries of inline key width inline.
func newFileWriter(path string, o Options, hasMeta bool, maxRecords int64, inline uint8, dd *dedup) (*fileWriter, error) {
	out, err := createOutput(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: creating output: %w", err)
	}
	idxFile, err := os.CreateTemp(o.TempDir, "bundle-index-*")
	if err != nil {
		out.Close()
		tempfile.Remove(out.Name())
		return nil, fmt.Errorf("bundle: creating index file: %w", err)
	}
	os.Remove(idxFile.Name()) // used through its descriptor only: a crash leaves nothing behind
	w := &fileWriter{path: path, out: out, idxFile: idxFile, dd: dd, scratch: make([]byte, 64<<10)}
	w.hdr = header{version: formatVersion, kind: o.Index, inlineKey: inline,
		alignLog: uint8(bits.TrailingZeros(uint(o.Align))), guideBits: guideBitsFor(maxRecords)}
	if hasMeta {
		w.hdr.flags |= flagMeta
	}
	w.hdr.sections = make([]section, 3)
	w.lay = w.hdr.layout()
	w.data = newSectionWriter(out, int64(w.dataOffset()))
	w.idx = newSectionWriter(idxFile, 0)
	w.guide = newGuideBuilder(w.hdr.guideBits)
	return w, nil
}

// outputMode is the mode of a bundle, less the umask: readable by every
// process that maps it, as the format is made to be shared, and never
// written after it is complete.
const outputMode = 0o644

// createOutput creates the temporary file a bundle at path is written to:
// beside path, so that the final rename is atomic, with outputMode less the
// umask, as os.Create does (os.CreateTemp would make it 0600), and locked
// while the build lives (leftover.go). It first removes the temporary files
// that stopped builds of path left (unlocked); another live build's is left
// alone.
func createOutput(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	sweepOutputs(filepath.Clean(dir+"."), base)
	for range 100 {
		name := outputName(path)
		f, err := tempfile.CreateNamed(name, outputMode) // removed if a signal stops the command
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		kept, err := lockKept(f)
		if kept && err == nil {
			return f, nil
		}
		f.Close()
		tempfile.Forget(name)
		if err != nil {
			tempfile.Remove(name)
			return nil, fmt.Errorf("bundle: locking %s: %w", name, err)
		}
		// Swept by another build before it was locked: make another.
	}
	return nil, fmt.Errorf("no unused temporary name beside %s", path)
}

// dataOffset is where the data section starts: after the header and section
// table, aligned for values and cache lines.
func (w *fileWriter) dataOffset() uint64 {
	return alignUp(uint64(w.hdr.size()), max(w.hdr.align(), sectionAlign))
}

// add writes one record and its index entry. Records must come in index
// order: by key hash, then key.
func (w *fileWriter) add(h uint64, key, meta []byte, v value, vhash uint64) error {
	w.count(h, key)
	w.hdr.valueBytes += uint64(v.size)
	w.hdr.metaBytes += uint64(len(meta))
	var loc uint64
	var err error
	if w.direct(key, meta, v) {
		loc, err = w.writeDirect(key, v, vhash)
	} else {
		loc, err = w.writeRecord(key, meta, v, vhash)
	}
	if err != nil {
		return err
	}
	w.writeEntry(h, loc, key)
	w.guide.add(h)
	w.hdr.records++
	return w.data.err
}

// direct reports whether the record gets a direct entry (entry.go).
func (w *fileWriter) direct(key, meta []byte, v value) bool {
	keyFits := !w.lay.keys || len(key) <= int(w.hdr.inlineKey)
	return keyFits && len(meta) == 0 && v.size <= maxDirectValue &&
		alignUp(w.data.offset(), w.lay.align) <= maxDirectOff
}

// writeDirect stores the value of a direct entry (or finds an identical one
// stored before) and returns the entry's loc.
func (w *fileWriter) writeDirect(key []byte, v value, vhash uint64) (uint64, error) {
	w.hdr.direct++
	keyLen := len(key)
	if !w.lay.keys {
		keyLen = 0
	}
	prev, found, slot, err := w.earlier(v, vhash)
	if err != nil {
		return 0, err
	}
	if found {
		w.hdr.deduped++
		return directLoc(keyLen, uint64(v.size), prev), nil
	}
	w.data.pad(w.lay.align)
	off := w.data.offset()
	return directLoc(keyLen, uint64(v.size), off), w.store(v, slot)
}

// writeRecord writes the whole record of an indirect entry and returns the
// entry's loc: the record's offset.
func (w *fileWriter) writeRecord(key, meta []byte, v value, vhash uint64) (uint64, error) {
	off := w.data.offset()
	if w.lay.keys {
		w.putUvarint(uint64(len(key)))
		w.data.write(key)
	}
	if w.lay.hasMeta {
		w.putUvarint(uint64(len(meta)))
		w.data.write(meta)
	}
	prev, found, slot, err := w.earlier(v, vhash)
	if err != nil {
		return 0, err
	}
	if found {
		n := binary.PutUvarint(w.head[:], uint64(v.size)<<1|1)
		n += binary.PutUvarint(w.head[n:], prev)
		w.data.write(w.head[:n])
		w.hdr.deduped++
		return off, nil
	}
	w.putUvarint(uint64(v.size) << 1)
	w.data.pad(w.lay.align)
	return off, w.store(v, slot)
}

// writeEntry writes the index entry of a record.
func (w *fileWriter) writeEntry(h, loc uint64, key []byte) {
	var e [entryHead + inlineKeyBytes]byte
	binary.LittleEndian.PutUint64(e[:8], h)
	binary.LittleEndian.PutUint64(e[8:], loc)
	if loc&locDirect != 0 && w.lay.keys {
		copy(e[entryHead:], key)
	}
	w.idx.write(e[:w.hdr.entrySize()])
}

// count updates the key counts for a record of key hash h.
func (w *fileWriter) count(h uint64, key []byte) {
	if w.started && h == w.prevH && bytes.Equal(key, w.prevKey) {
		return // another value of a multi key
	}
	if w.started && h == w.prevH {
		w.hdr.collisions++
	}
	w.started, w.prevH = true, h
	w.prevKey = append(w.prevKey[:0], key...)
	w.hdr.keys++
	w.hdr.keyBytes += uint64(len(key))
}

func (w *fileWriter) putUvarint(x uint64) {
	w.data.write(w.head[:binary.PutUvarint(w.head[:], x)])
}

// earlier looks v up in the dedup table. It returns the offset of an
// identical value stored before (found), or else the dedup slot in which to
// record v's place once it is stored (-1 for none: v's hash does not repeat,
// or another value with the same hash holds the slot).
func (w *fileWriter) earlier(v value, vhash uint64) (off uint64, found bool, slot int, err error) {
	if w.dd == nil || v.size < minDedup {
		return 0, false, -1, nil
	}
	slot, repeated := w.dd.find(vhash)
	if !repeated {
		return 0, false, -1, nil
	}
	place, size, stored := w.dd.place(slot)
	if !stored {
		return 0, false, slot, nil
	}
	if size != v.size {
		return 0, false, -1, nil // a hash collision: store this one too
	}
	same, err := w.sameValue(place, v)
	return place, same, -1, err
}

// sameValue reports whether the value of v.size bytes stored at off equals v.
func (w *fileWriter) sameValue(off uint64, v value) (bool, error) {
	if c, ok := w.dd.cache[off]; ok && v.spool == nil {
		return bytes.Equal(c, v.b), nil
	}
	return w.data.equalAt(off, v, w.scratch)
}

// store writes the bytes of v at the current offset, which the caller has
// aligned, and records their place in dedup slot slot (unless -1).
func (w *fileWriter) store(v value, slot int) error {
	if slot >= 0 {
		w.dd.setPlace(slot, w.data.offset(), v)
	}
	w.hdr.stored += uint64(v.size)
	return v.writeTo(w.data, w.scratch)
}

// finish completes the file and renames it to its path. It returns the
// header written.
func (w *fileWriter) finish() (header, error) {
	h, err := w.seal()
	if err != nil {
		return h, err
	}
	return h, w.commit()
}

// seal places the index and guide after the data, writes the header and
// syncs the file, which stays at its temporary name, open and locked, for
// commit or detach. It returns the header written.
func (w *fileWriter) seal() (header, error) {
	if err := errors.Join(w.data.flush(), w.idx.flush()); err != nil {
		return w.hdr, err
	}
	data := section{kind: sectionData, off: w.dataOffset(), size: w.data.offset(), sum: w.data.sum.Sum64()}
	index := section{kind: sectionIndex, off: alignUp(data.off+data.size, indexAlign), size: w.idx.offset(), sum: w.idx.sum.Sum64()}
	if err := w.copyIndex(int64(index.off)); err != nil {
		return w.hdr, err
	}
	guide := w.guideBytes()
	gs := section{kind: sectionGuide, off: index.off + index.size, size: uint64(len(guide)), sum: xxhash.Sum64(guide)}
	w.hdr.sections = []section{data, index, gs}
	w.hdr.fileSize = gs.off + gs.size
	w.hdr.minReader = w.hdr.minReaderFor()
	if _, err := w.out.WriteAt(guide, int64(gs.off)); err != nil {
		return w.hdr, fmt.Errorf("bundle: writing guide: %w", err)
	}
	if _, err := w.out.WriteAt(w.hdr.encode(), 0); err != nil {
		return w.hdr, fmt.Errorf("bundle: writing header: %w", err)
	}
	if err := w.out.Sync(); err != nil {
		return w.hdr, fmt.Errorf("bundle: syncing %s: %w", w.out.Name(), err)
	}
	return w.hdr, nil
}

// copyIndex copies the index entries into the output at off (in the kernel,
// with copy_file_range, where the platform has it).
func (w *fileWriter) copyIndex(off int64) error {
	if _, err := w.idxFile.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("bundle: copying index: %w", err)
	}
	if _, err := w.out.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("bundle: copying index: %w", err)
	}
	if _, err := w.out.ReadFrom(w.idxFile); err != nil {
		return fmt.Errorf("bundle: copying index: %w", err)
	}
	return nil
}

func (w *fileWriter) guideBytes() []byte {
	words := w.guide.finish()
	b := make([]byte, len(words)*guideWord)
	for i, x := range words {
		binary.LittleEndian.PutUint64(b[i*guideWord:], x)
	}
	return b
}

// commit renames the finished file to its path, where it appears whole and
// at once, and makes the rename durable. The file is renamed before it is
// closed, so that its lock keeps sweeps (leftover.go) off it until then.
func (w *fileWriter) commit() error {
	tmp := w.out.Name()
	if err := os.Rename(tmp, w.path); err != nil {
		return fmt.Errorf("bundle: committing %s: %w", w.path, err) // close removes tmp
	}
	tempfile.Forget(tmp)
	err := w.out.Close()
	w.out = nil
	if err == nil {
		err = vfs.Default.SyncDir(filepath.Dir(w.path))
	}
	if err != nil {
		return fmt.Errorf("bundle: committing %s: %w", w.path, err)
	}
	return nil
}

// detach hands the finished file over, open and locked at its temporary
// name: the caller renames it into place or removes it.
func (w *fileWriter) detach() *os.File {
	f := w.out
	w.out = nil
	return f
}

// close removes the temporary files; after a successful finish only the
// index file is left to remove.
func (w *fileWriter) close() {
	w.idxFile.Close()
	os.Remove(w.idxFile.Name())
	if w.out != nil {
		w.out.Close()
		tempfile.Remove(w.out.Name())
	}
}
