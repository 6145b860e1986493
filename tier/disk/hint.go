package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/tiermem/tiermem/internal/vfs"
)

// A hint file lists the records of one sealed segment, so that Open builds
// the index without reading the segment. All integers are little-endian.
//
//	header, 32 bytes
//	  0    8 magic "\x89TMHINT\n"
//	  8    2 format version: formatVersion
//	 10    2 minimum reader version
//	 12    4 reserved, zero
//	 16    8 segment id
//	 24    8 segment size: the hint describes the segment only at this size
//	entries, one per record, in segment order
//	  0    8 record offset in the segment
//	  8    … the record's header ‖ key ‖ meta, exactly as in the segment
//	trailer, 16 bytes
//	  0    8 entry count
//	  8    8 XXH3-64 of every byte before it
//
// A hint that fails any check (checksum, ids, sizes, an entry out of order
// or outside the segment, a file larger than a hint of its segment can be)
// is ignored and its segment scanned instead.
const (
	hintHeaderSize  = 32
	hintTrailerSize = 16
	hintEntryFixed  = 8 // the offset before each head
)

const hintMagic = "\x89TMHINT\n"

// errBadHint is wrapped by decodeHint with what is wrong.
var errBadHint = errors.New("disk: bad hint file")

// encodeHint returns the hint file for segment id of size bytes holding recs.
func encodeHint(id uint64, size int64, recs []scanned) []byte {
	n := hintHeaderSize + hintTrailerSize
	for i := range recs {
		n += hintEntryFixed + len(recs[i].head)
	}
	b := make([]byte, hintHeaderSize, n)
	copy(b, hintMagic)
	binary.LittleEndian.PutUint16(b[8:], formatVersion)
	binary.LittleEndian.PutUint16(b[10:], minReaderVersion)
	binary.LittleEndian.PutUint64(b[16:], id)
	binary.LittleEndian.PutUint64(b[24:], uint64(size))
	for i := range recs {
		b = binary.LittleEndian.AppendUint64(b, uint64(recs[i].off))
		b = append(b, recs[i].head...)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(len(recs)))
	return binary.LittleEndian.AppendUint64(b, sum64(b))
}

// decodeHint returns the records that hint file b lists for segment id of
// size bytes. The heads alias b. Garbage is an error, never a panic.
func decodeHint(b []byte, id uint64, size int64) ([]scanned, error) {
	if err := checkHintFrame(b, id, size); err != nil {
		return nil, err
	}
	count := binary.LittleEndian.Uint64(b[len(b)-hintTrailerSize:])
	entries := b[hintHeaderSize : len(b)-hintTrailerSize]
	// Room for the entries the trailer counts, but no more than the bytes
	// can hold: a damaged count must not make a huge slice.
	room := min(count, uint64(len(entries)/(hintEntryFixed+recordHeaderSize)))
	recs, err := decodeHintEntries(entries, size, make([]scanned, 0, room))
	if err == nil && uint64(len(recs)) != count {
		err = fmt.Errorf("%w: %d entries, trailer says %d", errBadHint, len(recs), count)
	}
	return recs, err
}

// checkHintFrame checks b's checksum, header and trailer.
func checkHintFrame(b []byte, id uint64, size int64) error {
	if len(b) < hintHeaderSize+hintTrailerSize {
		return fmt.Errorf("%w: %d bytes", errBadHint, len(b))
	}
	if sum64(b[:len(b)-8]) != binary.LittleEndian.Uint64(b[len(b)-8:]) {
		return fmt.Errorf("%w: checksum", errBadHint)
	}
	return checkHintHeader(b[:hintHeaderSize], id, size)
}

// checkHintHeader checks the header of a hint file whose checksum verified.
func checkHintHeader(b []byte, id uint64, size int64) error {
	if string(b[:8]) != hintMagic {
		return fmt.Errorf("%w: magic", errBadHint)
	}
	if minReader := binary.LittleEndian.Uint16(b[10:]); minReader > readerVersion {
		return fmt.Errorf("%w: needs reader version %d", ErrVersion, minReader)
	}
	gotID, gotSize := binary.LittleEndian.Uint64(b[16:]), binary.LittleEndian.Uint64(b[24:])
	switch {
	case gotID != id:
		return fmt.Errorf("%w: for segment %d of %d bytes, not %d of %d", errBadHint, gotID, gotSize, id, size)
	case gotSize != uint64(size):
		return &hintSizeError{hinted: gotSize, size: size}
	}
	return nil
}

// maxHintSize returns the most bytes a sound hint for a segment of size
// bytes can hold: its header and trailer, and an entry per record of at
// most the record's size (its head) plus the offset, with records of at
// least recordHeaderSize bytes. A larger file is a bad hint, never read
// into memory.
func maxHintSize(size uint64) uint64 {
	size = min(size, 1<<60)
	body := size - min(size, segmentHeaderSize)
	return hintHeaderSize + hintTrailerSize + body + hintEntryFixed*(body/recordHeaderSize)
}

// maxHintEntries returns the most records a segment of size bytes holds.
func maxHintEntries(size int64) uint64 {
	return uint64(max(size-segmentHeaderSize, 0)) / recordHeaderSize
}

// hintSizeError is a hint file, sound in itself, written for its segment
// when the segment held another size: the segment changed after it was
// sealed (cut short by a lost size update, or by hand).
type hintSizeError struct {
	hinted uint64 // the size the hint was written for
	size   int64  // the segment's size now
}

func (e *hintSizeError) Error() string {
	return fmt.Sprintf("the segment's hint file was written when it held %d bytes; it holds %d", e.hinted, e.size)
}

func (e *hintSizeError) Unwrap() error { return errBadHint }

// decodeHintEntries appends to recs the entries of a hint for a segment of
// size bytes.
func decodeHintEntries(b []byte, size int64, recs []scanned) ([]scanned, error) {
	prevEnd := int64(segmentHeaderSize)
	for len(b) > 0 {
		rec, n, err := decodeHintEntry(b, prevEnd, size)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", len(recs), err)
		}
		recs = append(recs, rec)
		prevEnd, b = rec.end(), b[n:]
	}
	return recs, nil
}

// decodeHintEntry decodes the entry at the start of b, which must describe a
// record between from and size, and returns it and its length.
func decodeHintEntry(b []byte, from, size int64) (scanned, int, error) {
	if len(b) < hintEntryFixed+recordHeaderSize {
		return scanned{}, 0, fmt.Errorf("%w: short entry", errBadHint)
	}
	off := binary.LittleEndian.Uint64(b)
	h, err := decodeHeader(b[hintEntryFixed:])
	if err != nil {
		return scanned{}, 0, err
	}
	n := hintEntryFixed + h.headLen()
	if n > len(b) || !headOK(b[hintEntryFixed:n]) {
		return scanned{}, 0, fmt.Errorf("%w: head checksum", errBadHint)
	}
	if off < uint64(from) || off > uint64(size) || h.size() > size-int64(off) {
		return scanned{}, 0, fmt.Errorf("%w: record at %d outside %d…%d", errBadHint, off, from, size)
	}
	return scanned{off: int64(off), h: h, head: b[hintEntryFixed:n:n]}, n, nil
}

// writeHint writes the hint file for segment g, whose records are recs:
// to a temporary file, synced if durable, then renamed. A hint file torn by
// a crash fails its checksum and is ignored, so durable is only needed when
// the hint must outlive a machine crash.
func writeHint(fs vfs.FS, dir string, g *segment, recs []scanned, durable bool) error {
	name := fileName(dir, g.id, hintExt)
	err := writeFileAtomic(fs, name, encodeHint(g.id, g.size.Load(), recs), durable)
	if err != nil {
		return fmt.Errorf("disk: writing hint for segment %d: %w", g.id, err)
	}
	return nil
}

// writeFileAtomic writes data to name through name.tmp, synced if durable,
// and renamed.
func writeFileAtomic(fs vfs.FS, name string, data []byte, durable bool) error {
	tmp := name + tmpExt
	f, err := fs.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, name)
	}
	if err != nil {
		fs.Remove(tmp)
	}
	return err
}

// hintCount returns how many entries the hint file of segment id, of size
// bytes, says it lists, bounded by what the segment can hold; 0 if it
// cannot be read or is larger than a hint of the segment can be. A
// capacity hint only: the file is checked when it is read.
func hintCount(fs vfs.FS, dir string, id uint64, size int64) uint64 {
	f, err := fs.Open(fileName(dir, id, hintExt))
	if err != nil {
		return 0
	}
	defer f.Close()
	n, err := f.Size()
	if err != nil || n < hintHeaderSize+hintTrailerSize || uint64(n) > maxHintSize(uint64(size)) {
		return 0
	}
	var b [8]byte
	if _, err := f.ReadAt(b[:], n-hintTrailerSize); err != nil {
		return 0
	}
	return min(binary.LittleEndian.Uint64(b[:]), maxHintEntries(size))
}

// readHint returns the records that the hint file of segment g lists, or an
// error if there is none or it does not check out.
func readHint(fs vfs.FS, dir string, g *segment) ([]scanned, error) {
	f, err := fs.Open(fileName(dir, g.id, hintExt))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readHintFrom(f, g.id, g.size.Load())
}

// hintCut returns the *hintSizeError of hint file name, for segment id of
// size bytes, if the hint's checksum, magic and id verify and it names a
// larger size: its segment was cut (Open refuses the segment for it, if
// it is not the tail). It returns nil if the hint says nothing of the
// kind or cannot be read (Open ignores it then), and an error only for a
// hint from a newer format.
func hintCut(fs vfs.FS, name string, id uint64, size int64) (*hintSizeError, error) {
	if !isRegular(fs, name) {
		return nil, nil
	}
	f, err := fs.Open(name)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	n, hinted, err := readHintSize(f)
	if err != nil || hinted <= uint64(size) {
		return nil, nil
	}
	err = checkHintFile(f, n, id, size, hinted)
	var cut *hintSizeError
	if errors.As(err, &cut) {
		return cut, nil
	}
	if errors.Is(err, ErrVersion) {
		return nil, fmt.Errorf("disk: hint file of segment %d: %w", id, err)
	}
	return nil, nil
}

// readHintFrom returns the records that hint file f lists for segment id
// of size bytes. A hint that names a larger size (its segment may have
// been cut) is only checked, reading it a piece at a time: the error is
// then a *hintSizeError if it verifies. No more is allocated than a hint
// of the segment can hold.
func readHintFrom(f vfs.File, id uint64, size int64) ([]scanned, error) {
	n, hinted, err := readHintSize(f)
	if err != nil {
		return nil, err
	}
	if hinted > uint64(size) {
		return nil, checkHintFile(f, n, id, size, hinted)
	}
	if uint64(n) > maxHintSize(uint64(size)) {
		return nil, fmt.Errorf("%w: %d bytes, more than a hint of a segment of %d bytes holds", errBadHint, n, size)
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return decodeHint(b, id, size)
}

// readHintSize returns the size of hint file f and the segment size its
// header names (not yet verified).
func readHintSize(f vfs.File) (n int64, hinted uint64, err error) {
	n, err = f.Size()
	if err != nil {
		return 0, 0, err
	}
	if n < hintHeaderSize+hintTrailerSize {
		return 0, 0, fmt.Errorf("%w: %d bytes", errBadHint, n)
	}
	var b [8]byte
	if _, err := f.ReadAt(b[:], 24); err != nil {
		return 0, 0, err
	}
	return n, binary.LittleEndian.Uint64(b[:]), nil
}

// checkHintFile checks the checksum and header of hint file f, of n bytes,
// whose header names segment size hinted, streaming it through the
// checksum so that a damaged size costs no memory.
func checkHintFile(f vfs.File, n int64, id uint64, size int64, hinted uint64) error {
	if uint64(n) > maxHintSize(hinted) {
		return fmt.Errorf("%w: %d bytes, more than a hint of a segment of %d bytes holds", errBadHint, n, hinted)
	}
	sum, err := sumPrefix(f, n-8)
	if err != nil {
		return err
	}
	var b [hintHeaderSize]byte
	if _, err := f.ReadAt(b[:8], n-8); err != nil {
		return err
	}
	if sum != binary.LittleEndian.Uint64(b[:8]) {
		return fmt.Errorf("%w: checksum", errBadHint)
	}
	if _, err := f.ReadAt(b[:], 0); err != nil {
		return err
	}
	return checkHintHeader(b[:], id, size)
}

// sumPrefix returns the XXH3-64 of the first n bytes of f, read a piece at
// a time.
func sumPrefix(f vfs.File, n int64) (uint64, error) {
	d := newDigest()
	buf := make([]byte, min(n, 1<<16))
	for off := int64(0); off < n; {
		p := buf[:min(int64(len(buf)), n-off)]
		if _, err := f.ReadAt(p, off); err != nil {
			return 0, err
		}
		d.Write(p)
		off += int64(len(p))
	}
	return d.Sum64(), nil
}
