package tiertest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// A sample is a value that describes itself, so that any read of it, by any
// goroutine, while anything else runs, can be checked without a shared
// model: its first sampleHeader bytes hold its key's number, its version,
// its length and whether it is compressible, and the rest follows from them.
//
//	0        4          8        12     13     16
//	+--------+----------+--------+------+------+----------------------+
//	| key    | version  | length | kind | pad  | body (from the seed) |
//	+--------+----------+--------+------+------+----------------------+
//	 uint32   uint32     uint32   uint8          little-endian
//
// The meta a sample is stored with, if any, is its header: a read that
// returns a value with the meta of another version is caught.
const sampleHeader = 16

// sampleKey is the key of sample key number i.
func sampleKey(i int) string { return "k" + strconv.Itoa(i) }

// sample returns a value of n ≥ sampleHeader bytes for key number key at
// version; a compressible one is a short phrase repeated, which s2 and zstd
// shrink many times, the other pseudo-random bytes.
func sample(key int, version uint32, n int, compressible bool) []byte {
	if n < sampleHeader {
		panic(fmt.Sprintf("tiertest: a sample of %d bytes (at least %d)", n, sampleHeader))
	}
	v := make([]byte, n)
	binary.LittleEndian.PutUint32(v[0:], uint32(key))
	binary.LittleEndian.PutUint32(v[4:], version)
	binary.LittleEndian.PutUint32(v[8:], uint32(n))
	if compressible {
		v[12] = 1
	}
	fill(v[sampleHeader:], uint64(key)<<32|uint64(version), compressible)
	return v
}

// fill fills b from seed: a repeated phrase, or a splitmix64 stream.
func fill(b []byte, seed uint64, compressible bool) {
	body(seed, compressible, len(b), func(off int, chunk []byte) bool {
		copy(b[off:], chunk)
		return true
	})
}

// matches reports whether b is what fill would write, without a copy.
func matches(b []byte, seed uint64, compressible bool) bool {
	return body(seed, compressible, len(b), func(off int, chunk []byte) bool {
		return bytes.HasPrefix(b[off:], chunk[:min(len(chunk), len(b)-off)])
	})
}

// body hands the n bytes that follow from seed to emit, in chunks at
// increasing offsets, until emit returns false; it reports whether emit
// took them all.
func body(seed uint64, compressible bool, n int, emit func(off int, chunk []byte) bool) bool {
	if compressible {
		phrase := fmt.Appendf(nil, "tiermem sample %x; ", seed)
		for off := 0; off < n; off += len(phrase) {
			if !emit(off, phrase) {
				return false
			}
		}
		return true
	}
	var word [8]byte
	x := seed
	for off := 0; off < n; off += 8 {
		x += 0x9e3779b97f4a7c15
		z := (x ^ x>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		binary.LittleEndian.PutUint64(word[:], z^z>>31)
		if !emit(off, word[:]) {
			return false
		}
	}
	return true
}

// seedOf returns the key number and version a sample describes.
func seedOf(v []byte) (key int, version uint32) {
	return int(binary.LittleEndian.Uint32(v)), binary.LittleEndian.Uint32(v[4:])
}

// checkSample reports what is wrong with v as a value read for key: not a
// sample, one of another key, or altered bytes; "" if nothing.
func checkSample(key string, v []byte) string {
	if len(v) < sampleHeader {
		return fmt.Sprintf("%q: a value of %d bytes, shorter than any stored", key, len(v))
	}
	k, version := seedOf(v)
	if got := sampleKey(k); got != key {
		return fmt.Sprintf("%q: the value of %q (version %d)", key, got, version)
	}
	if n := binary.LittleEndian.Uint32(v[8:]); int(n) != len(v) {
		return fmt.Sprintf("%q: %d bytes of a value of %d (version %d)", key, len(v), n, version)
	}
	if v[12] > 1 || !matches(v[sampleHeader:], uint64(k)<<32|uint64(version), v[12] == 1) {
		return fmt.Sprintf("%q: the %d bytes of version %d are altered", key, len(v), version)
	}
	return ""
}

// checkSampleMeta reports what is wrong with meta as the meta of key: it
// must be empty or a header of one of key's samples.
func checkSampleMeta(key string, meta []byte) string {
	if len(meta) == 0 {
		return ""
	}
	if len(meta) != sampleHeader {
		return fmt.Sprintf("%q: meta of %d bytes, none stored has that length", key, len(meta))
	}
	if k, version := seedOf(meta); sampleKey(k) != key {
		return fmt.Sprintf("%q: the meta of %q (version %d)", key, sampleKey(k), version)
	}
	return ""
}

// metaFor returns the meta a sample is stored with: its header, or none
// when withMeta is false.
func metaFor(v []byte, withMeta bool) []byte {
	if !withMeta {
		return nil
	}
	return v[:sampleHeader:sampleHeader]
}

// isSampleKey reports whether key is a sample's key.
func isSampleKey(key string) bool {
	n, ok := strings.CutPrefix(key, "k")
	_, err := strconv.ParseUint(n, 10, 32)
	return ok && err == nil
}
