package object

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/tiermem/tiermem/internal/zstdenc"
)

// Compression says how hard a Store compresses values. Each value is its
// own zstd frame, kept only where it pays (see compressValue).
type Compression int

const (
	// ZstdBest is zstd's best level (about zstd -11 in ratio); the default:
	// glacier values are written once and read rarely.
	ZstdBest Compression = iota
	// ZstdBetter is zstd's "better" level (about zstd -7), for demotion that
	// must keep up with a fast store on few cores.
	ZstdBetter
	// ZstdFastest is zstd's fastest level (about zstd -1).
	ZstdFastest
	// NoCompression stores every value raw.
	NoCompression
)

var compressionLevels = [...]zstd.EncoderLevel{zstd.SpeedBestCompression, zstd.SpeedBetterCompression, zstd.SpeedFastest}

// Compression is decided per value: a value shorter than minCompressLen is
// stored raw; a value longer than sampleLen is first judged by a sample
// from its middle compressed at the fastest level, so that an incompressible
// value costs microseconds, not the best level's milliseconds; the result
// is kept only if it saves at least a sixteenth.
const (
	minCompressLen = 64       // below this a zstd frame header eats the gain
	sampleLen      = 16 << 10 // judged in ~20 µs at the fastest level
)

// pays reports whether n bytes compressed to c are worth keeping.
func pays(n, c int) bool { return c <= n-n/16 }

var (
	decoderOnce sync.Once
	decoder     *zstd.Decoder
)

// encoder returns the process's shared encoder for c (not NoCompression).
func encoder(c Compression) *zstd.Encoder { return zstdenc.For(compressionLevels[c]) }

// zstdDecoder returns the shared decoder. DecodeAll is safe for concurrent use.
func zstdDecoder() *zstd.Decoder {
	decoderOnce.Do(func() {
		decoder, _ = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(maxValueLen),
			zstd.IgnoreChecksum(true))
	})
	return decoder
}

// compressValue returns v's stored bytes and codec under c.
func compressValue(c Compression, v []byte) ([]byte, byte) {
	if c == NoCompression || len(v) < minCompressLen || !samplePays(v) {
		return v, codecRaw
	}
	out := encoder(c).EncodeAll(v, make([]byte, 0, len(v)/2))
	if !pays(len(v), len(out)) {
		return v, codecRaw
	}
	return out, codecZstd
}

// samplePays reports whether a sample from the middle of v compresses
// well enough at the fastest level to try the whole.
func samplePays(v []byte) bool {
	if len(v) <= 4*sampleLen {
		return true
	}
	mid := len(v)/2 - sampleLen/2
	s := v[mid : mid+sampleLen]
	return pays(len(s), len(encoder(ZstdFastest).EncodeAll(s, make([]byte, 0, sampleLen))))
}

// decompressValue returns the value a frame stores, which must be rawLen
// bytes long.
func decompressValue(f *frame) ([]byte, error) {
	if f.codec == codecRaw {
		return f.stored, nil
	}
	// A damaged length must not allocate gigabytes up front: start from
	// what a plausible ratio needs and let DecodeAll grow the rest.
	out, err := zstdDecoder().DecodeAll(f.stored, make([]byte, 0, min(int(f.rawLen), 1<<20+16*len(f.stored))))
	if err != nil {
		return nil, badFormat(frameHeader, "zstd: %v", err)
	}
	if len(out) != int(f.rawLen) {
		return nil, badFormat(12, "value decompressed to %d bytes, the frame says %d", len(out), f.rawLen)
	}
	return out, nil
}

func (c Compression) String() string {
	switch c {
	case ZstdBest:
		return "zstd-best"
	case ZstdBetter:
		return "zstd-better"
	case ZstdFastest:
		return "zstd-fastest"
	case NoCompression:
		return "none"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}
