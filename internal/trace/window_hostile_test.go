package trace_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/trace"
)

// allocatedBy returns the heap bytes f allocates.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// boundedTraceAlloc is room for the largest window Open accepts (64 MiB) and
// more, and far less than the windows of 512 MiB and up that it refuses.
const boundedTraceAlloc = 128 << 20

// zstdFrame returns a zstd frame of data as one raw block, its header
// declaring a window of 2^(10+log) bytes.
func zstdFrame(log byte, data []byte) []byte {
	return append([]byte{
		0x28, 0xb5, 0x2f, 0xfd, // magic
		0x00,                          // no content size, not single segment, no checksum, no dictionary
		log << 3,                      // window descriptor
		byte(len(data))<<3 | 0<<1 | 1, // last block, raw
		byte(len(data) >> 5), byte(len(data) >> 13),
	}, data...)
}

// TestHostileZstdTraceHeaderSizesMemory: an 11-byte .zst LIRS trace whose frame
// header declares a 512 MiB window (and holds the two bytes "1\n") made the
// zstd decoder allocate that window before it decoded anything. The package
// promises traces "in bounded memory", and sim replays a Files on every CPU
// at once, each replay opening its own decoder: one such file cost half a
// GiB per CPU. The window is now bounded (64 MiB), and a larger one is an
// error naming the file, in the first frame or in a later one.
func TestHostileZstdTraceHeaderSizesMemory(t *testing.T) {
	for name, file := range map[string][]byte{
		"first frame":  zstdFrame(19, []byte("1\n")), // 2^29 = 512 MiB
		"second frame": append(zstdFrame(0, []byte("1\n")), zstdFrame(19, []byte("2\n"))...),
	} {
		path := filepath.Join(t.TempDir(), "t.lirs.zst")
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		n := allocatedBy(func() { _, err = trace.ReadAll(path, trace.LIRS, nil) })
		if n > boundedTraceAlloc {
			t.Errorf("%s: reading a %d-byte trace allocated %d MiB (err %v); want a bounded window", name, len(file), n>>20, err)
		}
		if !errors.Is(err, trace.ErrWindow) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: ReadAll of a trace declaring a 512 MiB window = %v, want ErrWindow naming the file", name, err)
		}
	}
	path := filepath.Join(t.TempDir(), "t.lirs.zst")
	if err := os.WriteFile(path, zstdFrame(16, []byte("1\n")), 0o644); err != nil { // 64 MiB
		t.Fatal(err)
	}
	if reqs, err := trace.ReadAll(path, trace.LIRS, nil); err != nil || len(reqs) != 1 || reqs[0].Key != 1 {
		t.Errorf("ReadAll of a trace declaring a 64 MiB window = %v, %v; want the key 1", reqs, err)
	}
}

// TestHostileXzTraceHeaderSizesMemory: the same with an xz trace whose LZMA2
// filter declares a 1 GiB dictionary (or 4 GiB - 1, byte 40): ulikunitz/xz
// allocates the whole dictionary when the block starts and has no bound.
// Open now refuses a first block declaring over 64 MiB, whether the file is
// named .xz or sniffed, and the reads refuse such a block anywhere after it:
// a later block, or a later stream after padding.
func TestHostileXzTraceHeaderSizesMemory(t *testing.T) {
	small := xzStream([]byte("1\n"), 20) // 4 MiB
	for _, c := range []struct {
		name string
		file []byte
		ok   bool
	}{
		{"t.lirs.xz", xzStream([]byte("1\n"), 36), false}, // 1 GiB
		{"t.lirs.xz", xzStream([]byte("1\n"), 40), false}, // 4 GiB - 1
		{"t.lirs", xzStream([]byte("1\n"), 36), false},
		{"t.lirs.xz", xzStream([]byte("1\n"), 20, 20, 36), false},
		{"t.lirs.xz", append(append(small, 0, 0, 0, 0), xzStream([]byte("1\n"), 36)...), false},
		{"t.lirs.xz", xzStream([]byte("1\n"), 28), true}, // 64 MiB
		{"t.lirs.xz", append(append(small, 0, 0, 0, 0), xzStream([]byte("1\n"), 20, 28)...), true},
	} {
		path := filepath.Join(t.TempDir(), c.name)
		if err := os.WriteFile(path, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		var reqs []trace.Request
		var err error
		n := allocatedBy(func() { reqs, err = trace.ReadAll(path, trace.LIRS, nil) })
		if n > boundedTraceAlloc {
			t.Errorf("%s of %d bytes: reading it allocated %d MiB (err %v)", c.name, len(c.file), n>>20, err)
		}
		switch {
		case c.ok && (err != nil || len(reqs) == 0 || reqs[0].Key != 1):
			t.Errorf("%s of %d bytes, no dictionary over 64 MiB: ReadAll = %v, %v; want keys 1", c.name, len(c.file), reqs, err)
		case !c.ok && c.name == "t.lirs.xz" && (!errors.Is(err, trace.ErrWindow) || !strings.Contains(err.Error(), path)):
			t.Errorf("%s of %d bytes: ReadAll = %v, want ErrWindow naming the file", c.name, len(c.file), err)
		}
	}
}

// xzStream returns a whole .xz stream (CRC32 check) of one block for each
// of dicts, the block's LZMA2 dictionary byte, each holding data as an
// uncompressed LZMA2 chunk. data is under 100 bytes.
func xzStream(data []byte, dicts ...byte) []byte {
	le32 := func(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
	flags := []byte{0x00, 0x01} // CRC32 check
	out := append([]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, flags...)
	out = le32(out, crc32.ChecksumIEEE(flags))

	index := []byte{0x00, byte(len(dicts))}
	for _, dict := range dicts {
		head := []byte{0x02, 0x00, 0x21, 0x01, dict, 0x00, 0x00, 0x00} // 12 bytes in all, one filter: LZMA2
		head = le32(head, crc32.ChecksumIEEE(head))
		out = append(out, head...)
		chunk := []byte{0x01, byte((len(data) - 1) >> 8), byte(len(data) - 1)} // uncompressed, dictionary reset
		chunk = append(append(chunk, data...), 0x00)                           // end of LZMA2 data
		out = append(out, chunk...)
		for pad := (4 - len(chunk)%4) % 4; pad > 0; pad-- {
			out = append(out, 0)
		}
		out = le32(out, crc32.ChecksumIEEE(data))
		index = append(index, byte(len(head)+len(chunk)+4), byte(len(data)))
	}
	for len(index)%4 != 0 {
		index = append(index, 0)
	}
	index = le32(index, crc32.ChecksumIEEE(index))
	out = append(out, index...)

	footer := le32(nil, uint32(len(index)/4-1))
	footer = append(footer, flags...)
	out = le32(out, crc32.ChecksumIEEE(footer))
	return append(append(out, footer...), 'Y', 'Z')
}
