// Package zstdenc keeps one zstd encoder per level for the whole process:
// an encoder holds megabytes of state, and its EncodeAll is safe for
// concurrent use, so the stores that compress (tier/disk, tier/object)
// share them instead of building their own.
package zstdenc

import (
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

var (
	once     [zstd.SpeedBestCompression + 1]sync.Once
	encoders [zstd.SpeedBestCompression + 1]*zstd.Encoder
)

// For returns the shared encoder of level (one of zstd's EncoderLevel
// constants), made on first use. Its frames carry no zstd checksum: the
// stores checksum what they write themselves.
func For(level zstd.EncoderLevel) *zstd.Encoder {
	once[level].Do(func() {
		// Options are constants: NewWriter cannot fail with them.
		encoders[level], _ = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(level),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithEncoderCRC(false))
	})
	return encoders[level]
}
