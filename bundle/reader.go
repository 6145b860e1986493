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
	ix     index
	path   string
	closed atomic.Bool
}

// Open maps the bundle at path. It reads and checks only the header and the
// section table, so it takes the same time whatever the size of the file; the
// sections' checksums are checked by Verify.
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
	words := m.WithOrder(hostOrder)
	if b.ix.e, err = memory.Slice[uint64](words, int64(index.off), int64(2*hdr.records)); err != nil {
		return nil, corrupt("section index: %v", err)
	}
	if b.ix.guide, err = memory.Slice[uint64](words, int64(guide.off), int64(guide.size/guideWord)); err != nil {
		return nil, corrupt("section guide: %v", err)
	}
	b.ix.bits = hdr.guideBits
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
func (b *Bundle) Get(key []byte) ([]byte, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	h := xxhash.Sum64(key)
	i, err := b.ix.find(h)
	if err != nil {
		return nil, err
	}
	for e := b.ix.e; i < e.len() && e.hash(i) == h; i++ {
		if v, ok, err := b.valueIf(key, e.offset(i)); ok || err != nil {
			return v, err
		}
	}
	return nil, ErrNotFound
}

// valueIf returns the value of the record at off if the record's key is key
// (always, without keys). It decodes the common record (a key under 128
// bytes, no meta area, an inline value under 8 KiB) inline and leaves the
// rest to the general decoder.
func (b *Bundle) valueIf(key []byte, off uint64) (v []byte, ok bool, err error) {
	d, pos := b.data, off
	if b.lay.keys {
		if off >= uint64(len(d)) || d[off] >= 0x80 {
			return b.valueIfSlow(key, off)
		}
		end := off + 1 + uint64(d[off])
		if end > uint64(len(d)) {
			return b.valueIfSlow(key, off)
		}
		if string(d[off+1:end]) != string(key) {
			return nil, false, nil
		}
		pos = end
	}
	if b.lay.meta || pos >= uint64(len(d)) || d[pos]&1 == 1 {
		return b.valueIfSlow(key, off)
	}
	w, next := uint64(d[pos]), pos+1 // a one- or two-byte vword
	if w >= 0x80 {
		if next >= uint64(len(d)) || d[next] >= 0x80 {
			return b.valueIfSlow(key, off)
		}
		w, next = w&0x7f|uint64(d[next])<<7, next+1
	}
	at, n := alignUp(next, b.lay.align), w>>1
	if at > uint64(len(d)) || n > uint64(len(d))-at {
		return b.valueIfSlow(key, off)
	}
	return d[at : at+n : at+n], true, nil
}

// valueIfSlow is valueIf through the general decoder, which also reports
// corruption.
func (b *Bundle) valueIfSlow(key []byte, off uint64) ([]byte, bool, error) {
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
	return b.lookup(key, xxhash.Sum64(key))
}

// lookup finds the first record of key, whose hash is h.
func (b *Bundle) lookup(key []byte, h uint64) (Record, error) {
	if b.closed.Load() {
		return Record{}, ErrClosed
	}
	i, err := b.ix.find(h)
	if err != nil {
		return Record{}, err
	}
	for n := b.ix.e.len(); i < n && b.ix.e.hash(i) == h; i++ {
		k, pos, err := b.lay.key(b.data, b.ix.e.offset(i))
		if err != nil {
			return Record{}, err
		}
		if b.lay.keys && !bytes.Equal(k, key) {
			continue
		}
		meta, v, err := b.lay.rest(b.data, pos)
		return Record{Key: k, Value: v, Meta: meta}, err
	}
	return Record{}, ErrNotFound
}

// record decodes the record of entry i.
func (b *Bundle) record(i int) (Record, error) {
	k, pos, err := b.lay.key(b.data, b.ix.e.offset(i))
	if err != nil {
		return Record{}, err
	}
	meta, v, err := b.lay.rest(b.data, pos)
	return Record{Key: k, Value: v, Meta: meta}, err
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
// most once, for its record.
func (b *Bundle) LoadIndex() error {
	if b.closed.Load() {
		return ErrClosed
	}
	var sink uint64
	for _, words := range [][]uint64{b.ix.e, b.ix.guide} {
		for i := 0; i < len(words); i += 512 { // one word per 4 KiB page
			sink += words[i]
		}
	}
	runtime.KeepAlive(sink)
	return nil
}
