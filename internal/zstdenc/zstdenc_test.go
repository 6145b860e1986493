package zstdenc_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/tiermem/tiermem/internal/zstdenc"
)

// TestSharedEncodersRoundTrip encodes from many goroutines at every level
// with the one shared encoder per level, and decodes each frame back.
func TestSharedEncodersRoundTrip(t *testing.T) {
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	in := bytes.Repeat([]byte("tiermem shares its encoders "), 500)
	var wg sync.WaitGroup
	for _, level := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression} {
		if first, again := zstdenc.For(level), zstdenc.For(level); first != again {
			t.Fatalf("level %v: two encoders", level)
		}
		for range 4 {
			wg.Go(func() {
				out := zstdenc.For(level).EncodeAll(in, nil)
				back, err := dec.DecodeAll(out, nil)
				if err != nil || !bytes.Equal(back, in) {
					t.Errorf("level %v: round trip %d bytes, %v", level, len(back), err)
				}
			})
		}
	}
	wg.Wait()
}
