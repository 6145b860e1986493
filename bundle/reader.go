package bundle

import (
	"bytes"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/memory"
)

// Bundle is an open bundle file, mapped read-only and shared: every process
// that opens the same file shares its pages of RAM, and only the pages that
// are read are loaded.
//
// A Bundle is safe for concurrent use by many goroutines. Slices it returns
// point into the mapping and are valid until Close; the caller must not
// modify them. Close must not run concurrently with reads, and no slice may
// be used after it (see Layered for a store that manages this).
type Bundle struct {
	h      *memory.Handle
	mem    memory.Memory
	hdr    header
	lay    layout
	data   []byte // the data section
	index  []byte // the index section, where direct entries keep their keys
	ix     index
	path   string
	closed atomic.Bool
	// releaseEvery, when not 0, is how many bytes Verify and All read
	// between two releases of the mapping's pages (ReleaseBehind).
	releaseEvery int64
}

// Open maps the bundle at path. It reads and checks only the header and the
// section table, so it takes the same time whatever the size of the file; the
// sections' checksums are checked by Verify. The file may be replaced by a
// rename while open (the Builder replaces it so), but never truncated or
// rewritten in place: a read of a value past a truncated file's new end is a
// SIGBUS, as with any mapping (Verify reports it as ErrCorrupt).
func Open(path string) (*Bundle, error) {
	h, err := memory.Map(path, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("bundle: opening %s: %w", path, err)
	}
	b, err := newBundle(h.Memory(), path)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b.h = h
	return b, nil
}

// newBundle reads a bundle from m, the whole file.
func newBundle(m memory.Memory, path string) (*Bundle, error) {
	hdr, err := decodeHeader(m)
	if err != nil {
		return nil, err
	}
	b := &Bundle{mem: m, hdr: hdr, lay: hdr.layout(), path: path}
	data, index, guide := hdr.find(sectionData), hdr.find(sectionIndex), hdr.find(sectionGuide)
	b.data = m.Bytes(int64(data.off), int64(data.size))
	b.index = m.Bytes(int64(index.off), int64(index.size))
	words := m.WithOrder(hostOrder)
	ew, err := memory.Slice[uint64](words, int64(index.off), int64(index.size/8))
	if err != nil {
		return nil, corrupt("section index: %v", err)
	}
	b.ix.e = newEntries(ew, hdr.inlineKey)
	if b.ix.guide, err = memory.Slice[uint64](words, int64(guide.off), int64(guide.size/guideWord)); err != nil {
		return nil, corrupt("section guide: %v", err)
	}
	b.ix.bits = hdr.guideBits
	b.ix.unique = hdr.kind != Multi && hdr.collisions == 0
	return b, nil
}

// Close unmaps the bundle. Every slice returned by its reads becomes invalid.
// Close of a closed Bundle returns ErrClosed.
func (b *Bundle) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	return b.h.Close()
}

// Path returns the path the bundle was opened from.
func (b *Bundle) Path() string { return b.path }

// Len returns the number of records (index entries).
func (b *Bundle) Len() int { return b.ix.e.len() }

// Index returns the kind of the bundle's index.
func (b *Bundle) Index() IndexKind { return b.hdr.kind }

// Info returns the bundle's statistics and sections, as recorded in its header.
func (b *Bundle) Info() Info { return b.hdr.info() }

// Get returns the value of key, or ErrNotFound. The value points into the
// mapping (no copy, no allocation) and is valid until Close. In a multi bundle
// it is the first value added for the key; in an approximate bundle a key that
// was never added may, rarely, find another key's value (see Approximate).
//
// A direct entry (entry.go) holds the key and the value's place, so that Get
// reads only the index; other entries lead it to their record.
func (b *Bundle) Get(key []byte) ([]byte, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	h := xxhash.Sum64(key)
	i, err := b.ix.find(h)
	if err != nil {
		return nil, err
	}
	k := inlineOf(key)
	for e := b.ix.e; i < e.len() && e.hash(i) == h; i++ {
		loc := e.loc(i)
		if loc&locDirect == 0 {
			if v, ok, err := b.valueIf(key, loc); ok || err != nil {
				return v, err
			}
		} else if !b.lay.keys || e.holds(i, loc, &k) {
			return b.directValue(loc)
		}
	}
	return nil, ErrNotFound
}

// directValue returns the value of a direct entry.
func (b *Bundle) directValue(loc uint64) ([]byte, error) {
	off, n := locValue(loc)
	if d := b.data; off <= uint64(len(d)) && n <= uint64(len(d))-off {
		return d[off : off+n : off+n], nil
	}
	return nil, directError(loc)
}

// directError reports a direct entry whose value lies outside the data
// section. It is kept out of directValue, on the path of every Get.
//
//go:noinline
func directError(loc uint64) error {
	off, n := locValue(loc)
	return corrupt("section index: a direct entry's value of %d bytes at %d runs past the data section", n, off)
}

// valueIf returns the value of the record at off if the record's key is key
// (always, without keys).
func (b *Bundle) valueIf(key []byte, off uint64) ([]byte, bool, error) {
	k, pos, err := b.lay.key(b.data, off)
	if err != nil || (b.lay.keys && !bytes.Equal(k, key)) {
		return nil, false, err
	}
	_, v, err := b.lay.rest(b.data, pos)
	return v, true, err
}

// GetRecord returns the record of key, with its meta area, or ErrNotFound.
// Its slices are valid until Close.
func (b *Bundle) GetRecord(key []byte) (Record, error) {
	if b.closed.Load() {
		return Record{}, ErrClosed
	}
	h := xxhash.Sum64(key)
	i, err := b.ix.find(h)
	if err != nil {
		return Record{}, err
	}
	for n := b.ix.e.len(); i < n && b.ix.e.hash(i) == h; i++ {
		r, err := b.record(i)
		if err != nil || !b.lay.keys || bytes.Equal(r.Key, key) {
			return r, err
		}
	}
	return Record{}, ErrNotFound
}

// record decodes the record of entry i.
func (b *Bundle) record(i int) (Record, error) {
	loc := b.ix.e.loc(i)
	if loc&locDirect != 0 {
		return b.directRecord(i, loc)
	}
	k, pos, err := b.lay.key(b.data, loc)
	if err != nil {
		return Record{}, err
	}
	meta, v, err := b.lay.rest(b.data, pos)
	return Record{Key: k, Value: v, Meta: meta}, err
}

// directRecord decodes direct entry i, whose loc is loc: its key is in the
// entry, its value in the data section, and it has no meta area.
func (b *Bundle) directRecord(i int, loc uint64) (Record, error) {
	v, err := b.directValue(loc)
	if err != nil || !b.lay.keys {
		return Record{Value: v}, err
	}
	n := locKeyLen(loc)
	if n > uint64(b.hdr.inlineKey) {
		return Record{}, corrupt("section index: entry %d holds a key of %d bytes, over the inline width %d", i, n, b.hdr.inlineKey)
	}
	at := uint64(i)*b.hdr.entrySize() + entryHead
	return Record{Key: b.index[at : at+n : at+n], Value: v}, nil
}

// Load asks the kernel to read the whole file into RAM and waits until it is
// resident, so that the first lookups do not wait for the disk.
func (b *Bundle) Load() error {
	if b.closed.Load() {
		return ErrClosed
	}
	return b.h.Load()
}

// LoadIndex brings only the index and the guide into RAM: they are much
// smaller than the data, and with them resident a lookup waits for the disk at
// most once, for its record, and not at all for a direct entry's value until
// the value's bytes are read.
func (b *Bundle) LoadIndex() error {
	if b.closed.Load() {
		return ErrClosed
	}
	var sink uint64
	for _, words := range [][]uint64{b.ix.e.w, b.ix.guide} {
		for i := 0; i < len(words); i += 512 { // one word per 4 KiB page
			sink += words[i]
		}
	}
	runtime.KeepAlive(sink)
	return nil
}
