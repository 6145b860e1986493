package disk

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/tiermem/tiermem/internal/zstdenc"
	"github.com/tiermem/tiermem/tier"
)

// Compression is decided per value, cheaply: a value shorter than
// minCompressLen is stored raw; otherwise a sample of sampleLen bytes from
// its middle is compressed at the fastest level, and only if the sample
// shrinks to samplePays of its size is the whole value compressed. The
// result is kept only if it saves at least an eighth.
const (
	minCompressLen = 256       // below this a frame header eats most of the gain
	sampleLen      = 4 << 10   // one page: ~10 µs at the fastest level
	maxCompressLen = 256 << 20 // zstd's default decoder window is 512 MiB; larger values stay raw
)

// pays reports whether n bytes compressed to c are worth keeping: at least
// an eighth smaller.
func pays(n, c int) bool { return c <= n-n/8 }

var (
	decoderOnce sync.Once
	decoder     *zstd.Decoder
)

var encoderLevels = [2]zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault}

// encoder returns the process's shared encoder for c (ZstdFastest or
// ZstdDefault).
func encoder(c Compression) *zstd.Encoder { return zstdenc.For(encoderLevels[c]) }

// zstdDecoder returns the shared decoder. DecodeAll is safe for concurrent use.
func zstdDecoder() *zstd.Decoder {
	decoderOnce.Do(func() {
		decoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	})
	return decoder
}

// compress returns the bytes to store for value and their codec: a zstd
// frame in *scratch when that pays, value itself otherwise. *scratch keeps
// whatever buffer the encoder grew, for the caller's pool.
func (c Compression) compress(value []byte, scratch *[]byte) ([]byte, codec) {
	if c == NoCompression || len(value) < minCompressLen || len(value) > maxCompressLen {
		return value, codecRaw
	}
	if len(value) > sampleLen {
		mid := len(value)/2 - sampleLen/2
		*scratch = encoder(ZstdFastest).EncodeAll(value[mid:mid+sampleLen], (*scratch)[:0])
		if !pays(sampleLen, len(*scratch)) {
			return value, codecRaw
		}
	}
	*scratch = encoder(c).EncodeAll(value, (*scratch)[:0])
	if !pays(len(value), len(*scratch)) {
		return value, codecRaw
	}
	return *scratch, codecZstd
}

// decompress appends the value that zstd frame stored decodes to onto dst;
// it must decode to exactly raw bytes.
func decompress(dst, stored []byte, raw int64) ([]byte, error) {
	start := len(dst)
	out, err := zstdDecoder().DecodeAll(stored, growCap(dst, raw))
	if err != nil || int64(len(out)-start) != raw {
		return dst, fmt.Errorf("decoding %d bytes to %d: %w (%v)", len(stored), raw, tier.ErrCorrupt, err)
	}
	return out, nil
}

// growCap returns dst with room for n more bytes.
func growCap(dst []byte, n int64) []byte {
	if int64(cap(dst)-len(dst)) >= n {
		return dst
	}
	return append(dst, make([]byte, n)...)[:len(dst)]
}
