package trace_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/trace"
)

// TestHostileUncompressedBinaryTraceLooksLikeGzip: an uncompressed binary
// trace whose first bytes look like a compression magic reads as it is. An
// oracleGeneral trace whose first timestamp is 35615 (0x8b1f, stored
// little-endian as 1f 8b 00 00) starts like gzip but is not; one whose first
// timestamp is 559903 (0x00088b1f: 1f 8b 08 00, gzip's whole magic, then
// flags 0) even makes a valid gzip header, but does not decompress. Each
// reads as its 3 requests.
func TestHostileUncompressedBinaryTraceLooksLikeGzip(t *testing.T) {
	for _, first := range []uint32{0x8b1f, 0x00088b1f} {
		var rec []byte
		for i := range 3 {
			rec = binary.LittleEndian.AppendUint32(rec, first+uint32(i)) // timestamp
			rec = binary.LittleEndian.AppendUint64(rec, uint64(100+i))   // id
			rec = binary.LittleEndian.AppendUint32(rec, 4096)            // size
			rec = binary.LittleEndian.AppendUint64(rec, ^uint64(0))      // next access
		}
		path := filepath.Join(t.TempDir(), "trace.oracleGeneral.bin")
		if err := os.WriteFile(path, rec, 0o644); err != nil {
			t.Fatal(err)
		}
		reqs, err := trace.ReadAll(path, trace.Oracle, nil)
		if err != nil || len(reqs) != 3 || reqs[0].Key != 100 || reqs[2].Key != 102 || reqs[0].Size != 4096 {
			t.Errorf("ReadAll of an uncompressed oracle trace starting at second %d = %v, %v; want its 3 requests", first, reqs, err)
		}
	}
}

// TestHostileLongLineErrorNamesItsLine: a line longer than the reader's
// buffer is an ErrSyntax that names that line, not the one before it.
func TestHostileLongLineErrorNamesItsLine(t *testing.T) {
	text := "1\n2\n" + strings.Repeat("7", 70000) + "\n4\n"
	d := trace.NewDecoder(strings.NewReader(text), trace.LIRS)
	var err error
	for err == nil {
		_, err = d.Next()
	}
	if !errors.Is(err, trace.ErrSyntax) || !strings.Contains(err.Error(), "line 3:") {
		t.Errorf("error %v, want ErrSyntax naming line 3", err)
	}
}

// TestHostileTruncatedGzipTraceNamesItsPlace: malformed input is an error
// naming the line or byte offset. A LIRS trace whose .gz was cut short (an
// interrupted download) is an ErrSyntax that wraps io.ErrUnexpectedEOF and
// names the line it stopped in.
func TestHostileTruncatedGzipTraceNamesItsPlace(t *testing.T) {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	for i := range 100000 {
		z.Write([]byte(strings.Repeat("1", 1+i%7) + "\n"))
	}
	z.Close()
	path := filepath.Join(t.TempDir(), "cut.trace.gz")
	if err := os.WriteFile(path, b.Bytes()[:b.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := trace.ReadAll(path, trace.LIRS, nil)
	if !errors.Is(err, trace.ErrSyntax) || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "line ") {
		t.Errorf("ReadAll of a truncated .gz trace = %v, want ErrSyntax and io.ErrUnexpectedEOF naming the line it stopped at", err)
	}
}

// TestHostileReadAllRejectsHugeARCCount: a trace of more than
// DefaultMaxRequests is ErrTooLong, found at the line that passes the
// limit, before its requests are produced, whatever the line's count: an
// ARC line of 2^64-1 requests after one request is rejected at once, not
// expanded into memory. Should ReadAll expand it, the test stops it from
// its progress callback once 65,536 requests of that line are held.
func TestHostileReadAllRejectsHugeARCCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absurd.arc")
	if err := os.WriteFile(path, []byte("5 1 0 0\n0 18446744073709551615 0 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expanded := make(chan bool, 1)
	var err error
	go func() {
		defer close(expanded)
		_, err = trace.ReadAll(path, trace.ARC, func(int64, int64) {
			// Called every 65,536 requests held (and at a successful end):
			// with one request before the absurd line, never, if its
			// count is rejected.
			expanded <- true
			runtime.Goexit()
		})
	}()
	if <-expanded {
		t.Fatal("ReadAll holds 65,536 requests of a line of 2^64-1 requests: the limit check wrapped")
	}
	if !errors.Is(err, trace.ErrTooLong) {
		t.Errorf("ReadAll = %v, want ErrTooLong", err)
	}
	if err != nil && !strings.Contains(err.Error(), "line 2:") {
		t.Errorf("ReadAll = %v, want the error to name line 2", err)
	}
}

// TestHostileMagicWithBadHeaderReadsRaw: a Scarab trace whose first key
// starts with gzip's whole magic (1f 8b 08) but whose next byte sets flags
// gzip reserves is no gzip stream: it reads as its keys. The same bytes in
// a file named .gz are an error, not a trace read as raw bytes.
func TestHostileMagicWithBadHeaderReadsRaw(t *testing.T) {
	keys := []uint64{0x1f8b08e000000000, 7, 8}
	var raw []byte
	for _, k := range keys {
		raw = binary.BigEndian.AppendUint64(raw, k)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "recs.scarab")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	reqs, err := trace.ReadAll(path, trace.Scarab, nil)
	if err != nil || len(reqs) != 3 || reqs[0].Key != keys[0] || reqs[2].Key != keys[2] {
		t.Errorf("ReadAll of an uncompressed scarab trace starting 1f 8b 08 = %v, %v; want its 3 keys", reqs, err)
	}
	gz := filepath.Join(dir, "recs.scarab.gz")
	if err := os.WriteFile(gz, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if reqs, err := trace.ReadAll(gz, trace.Scarab, nil); err == nil {
		t.Errorf("ReadAll of a .gz file with a bad gzip header = %v, want an error", reqs)
	}
}
