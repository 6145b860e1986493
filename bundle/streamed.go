package bundle

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"
)

// A streamed build (Options.Streamed) writes each record into the data
// section of the output as it is added, in the order added, and sorts only
// what the index needs: the key, its hash and the record's place. Every
// value is written once, where a sorted build writes it twice (into a sort
// run or the spool, then into the file) and reads it back in between. The
// price: no value is deduplicated, every entry is indirect (a record with
// its key, meta area and value, as in format version 1), and in an exact
// bundle a key added twice leaves its earlier record in the file, unindexed.
// The file is an ordinary bundle: readers follow offsets and never assume
// the data section is in index order.

// startStreamed creates the output of a streamed build.
func (b *Builder) startStreamed() error {
	w, err := newFileWriter(b.path, b.opts, true, 0, 0, nil)
	if err != nil {
		return err
	}
	b.out = w
	return nil
}

// addStreamed writes the record of key and meta with a value of size bytes
// from r into the output and gives its place to the key sort. A value that
// cannot be read whole fails the build: its record is already in the file.
func (b *Builder) addStreamed(key, meta []byte, r io.Reader, size int64) error {
	if b.failed != nil {
		return b.failed
	}
	off, err := b.out.appendRecord(key, meta, r, size)
	if err != nil {
		b.failed = fmt.Errorf("bundle: the streamed build failed at an earlier value: %w", err)
		return err
	}
	b.rec = appendSortHead(b.rec[:0], key, nil, locatedValue)
	b.rec = binary.AppendUvarint(b.rec, off)
	b.rec = binary.AppendUvarint(b.rec, uint64(size))
	b.rec = binary.AppendUvarint(b.rec, uint64(len(meta)))
	if err := b.keys.Add(xxhash.Sum64(key), b.rec); err != nil {
		return err
	}
	if n := b.keys.Len(); n%progressEvery == 0 {
		b.progress(StageAdd, n, -1)
	}
	return nil
}

// appendRecord writes an indirect record (key, meta, value of size bytes
// from r) at the end of the data section and returns its offset. A value in
// memory (a *bytes.Reader, as AddRecord passes) is written without a copy
// through the scratch buffer.
func (w *fileWriter) appendRecord(key, meta []byte, r io.Reader, size int64) (uint64, error) {
	off := w.data.offset()
	w.putUvarint(uint64(len(key)))
	w.data.write(key)
	w.putUvarint(uint64(len(meta)))
	w.data.write(meta)
	w.putUvarint(uint64(size) << 1)
	w.data.pad(w.lay.align)
	if v, ok := r.(*inMemory); ok {
		w.data.write(v.b)
		return off, w.data.err
	}
	for done := int64(0); done < size; {
		buf := w.scratch[:min(int64(len(w.scratch)), size-done)]
		n, err := io.ReadFull(r, buf)
		w.data.write(buf[:n])
		done += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, fmt.Errorf("%w: %d of %d bytes", ErrShortValue, done, size)
		}
		if err != nil {
			return 0, fmt.Errorf("bundle: reading value: %w", err)
		}
	}
	return off, w.data.err
}

// inMemory is a value AddRecord hands to a streamed build: its bytes, with
// no copy.
type inMemory struct{ b []byte }

func (v *inMemory) Read(p []byte) (int, error) {
	if len(v.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, v.b)
	v.b = v.b[n:]
	return n, nil
}

// finishStreamed sorts a streamed build's index, writes it from the
// records' places, then the guide and the header, and completes the file.
func (b *Builder) finishStreamed(n int64) (Info, error) {
	if b.failed != nil {
		return Info{}, b.failed
	}
	it, err := b.keys.Sort()
	if err != nil {
		return Info{}, err
	}
	w := b.out
	w.hdr.guideBits = guideBitsFor(n)
	w.guide = newGuideBuilder(w.hdr.guideBits)
	err = b.writeRecords(it, n, func(h uint64, r sortRecord) error {
		w.addLocated(h, r)
		return nil
	})
	if err != nil {
		return Info{}, err
	}
	b.progress(StageSync, 0, 1)
	hdr, err := b.complete(w)
	if err != nil {
		return Info{}, err
	}
	b.progress(StageDone, n, n)
	return hdr.info(), nil
}

// addLocated writes the index entry of a record already in the data
// section and counts it.
func (w *fileWriter) addLocated(h uint64, r sortRecord) {
	w.count(h, r.key)
	w.hdr.valueBytes += uint64(r.v.size)
	w.hdr.stored += uint64(r.v.size)
	w.hdr.metaBytes += r.metaLen
	w.writeEntry(h, r.at, r.key)
	w.guide.add(h)
	w.hdr.records++
}
