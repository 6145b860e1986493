package trace_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem/internal/trace"
)

// TestHostileOracleTraceStartingLikeAGzipHeader: an uncompressed binary
// trace whose first bytes look like a magic is not taken for a compressed
// one, even when they make a whole valid gzip header: an oracleGeneral trace
// whose first request is at second 559903 (0x00088b1f, little-endian
// 1f 8b 08 00: gzip's magic, then flags 0) reads as its 3 requests (it was
// decompressed as gzip, and failed).
func TestHostileOracleTraceStartingLikeAGzipHeader(t *testing.T) {
	var rec []byte
	for i := range 3 {
		rec = binary.LittleEndian.AppendUint32(rec, 0x00088b1f+uint32(i)) // timestamp
		rec = binary.LittleEndian.AppendUint64(rec, uint64(100+i))        // id
		rec = binary.LittleEndian.AppendUint32(rec, 4096)                 // size
		rec = binary.LittleEndian.AppendUint64(rec, ^uint64(0))           // next access
	}
	path := filepath.Join(t.TempDir(), "trace.oracleGeneral.bin")
	if err := os.WriteFile(path, rec, 0o644); err != nil {
		t.Fatal(err)
	}
	reqs, err := trace.ReadAll(path, trace.Oracle, nil)
	if err != nil || len(reqs) != 3 || reqs[0].Key != 100 || reqs[2].Key != 102 {
		t.Errorf("ReadAll of an uncompressed oracle trace starting at second 559903 = %v, %v; want its 3 requests", reqs, err)
	}
}
