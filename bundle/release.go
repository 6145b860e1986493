package bundle

import "github.com/cespare/xxhash/v2"

// releaseEvery is how many bytes a Bundle reading with ReleaseBehind passes
// between two releases of its pages.
const releaseEvery = 64 << 20

// ReleaseBehind makes Verify and All drop the file's pages from the process
// every 64 MiB they read: the bytes stay on disk and in the page cache and
// are read again when next touched, and records already returned stay
// valid. It is for a caller that reads a bundle once, front to back, and
// does not want the whole file resident: the process then holds about 64
// MiB of it instead of its size. Call it before reading; it must not run
// concurrently with reads. It does nothing for a bundle that is not a
// mapped file of its own.
func (b *Bundle) ReleaseBehind() {
	if b.h != nil {
		b.releaseEvery = releaseEvery
	}
}

// releaser counts the bytes one reading pass has touched and releases the
// mapping's pages every releaseEvery of them, when ReleaseBehind is on.
type releaser struct {
	b      *Bundle
	passed int64
}

// passed counts n more bytes read.
func (r *releaser) pass(n int) {
	if r.b.releaseEvery == 0 {
		return
	}
	if r.passed += int64(n); r.passed >= r.b.releaseEvery {
		r.passed = 0
		r.b.h.Release(0, r.b.h.Size()) // advice: an error leaves the pages resident, nothing worse
	}
}

// sectionSum returns the xxHash64 of the section s, releasing the pages
// behind it as it goes when ReleaseBehind is on.
func (b *Bundle) sectionSum(s section) uint64 {
	if b.releaseEvery == 0 {
		return b.mem.Hash(int64(s.off), int64(s.size))
	}
	d := xxhash.New()
	r := releaser{b: b}
	for off, end := int64(s.off), int64(s.off+s.size); off < end; {
		n := min(end-off, b.releaseEvery)
		d.Write(b.mem.Bytes(off, n))
		r.pass(int(n))
		off += n
	}
	return d.Sum64()
}
