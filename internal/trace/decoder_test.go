package trace_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/tiermem/tiermem/internal/trace"
)

// decodeAll returns the keys of a trace, or the first error other than io.EOF.
func decodeAll(r io.Reader, f trace.Format) ([]trace.Request, error) {
	d := trace.NewDecoder(r, f)
	var out []trace.Request
	for {
		req, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, req)
	}
}

func TestDecoder(t *testing.T) {
	be := func(keys ...uint64) string {
		var b []byte
		for _, k := range keys {
			b = binary.BigEndian.AppendUint64(b, k)
		}
		return string(b)
	}
	oracle := func(id uint64, size uint32) string {
		b := make([]byte, 24)
		binary.LittleEndian.PutUint64(b[4:], id)
		binary.LittleEndian.PutUint32(b[12:], size)
		return string(b)
	}
	tests := []struct {
		name   string
		format trace.Format
		in     string
		want   string // keys (and sizes where not 1), or the error text
	}{
		{"arc runs", trace.ARC, "10 3 0 0\n\n7 1 0 1\r\n", "[10 11 12 7]"},
		{"arc zero count", trace.ARC, "5 0 0 0\n6 1 0 0", "[6]"},
		{"arc bad start", trace.ARC, "1 1 0 0\nx 1 0 0\n", "line 2: start"},
		{"arc missing count", trace.ARC, "12\n", "line 1: want"},
		{"arc negative count", trace.ARC, "1 1 0 0\n1 -5 0 0\n", "line 2: count -5 is negative"},
		{"arc count past the last key", trace.ARC, "18446744073709551615 2 0 0\n", "line 1: start 18446744073709551615 + count 2 runs past the largest key"},
		{"arc count overflows uint64", trace.ARC, "1 18446744073709551616 0 0\n", "line 1: count"},
		{"arc run to the last key", trace.ARC, "18446744073709551614 2 0 0\n3 1", "[18446744073709551614 18446744073709551615 3]"},
		{"lirs", trace.LIRS, "3\n*\n\n 4 \n3", "[3 4 3]"},
		{"lirs negative", trace.LIRS, "1\n-2\n", "line 2: key"},
		{"scarab", trace.Scarab, be(1, 1<<63), "[1 9223372036854775808]"},
		{"corda truncated", trace.Corda, be(5) + "abc", "offset 8: truncated record: 3 of 8 bytes"},
		{"oracle", trace.Oracle, oracle(9, 4096) + oracle(2, 1), "[9/4096 2]"},
		{"oracle truncated", trace.Oracle, oracle(9, 1)[:20], "offset 0: truncated record: 20 of 24 bytes"},
		{"empty", trace.LIRS, "", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, err := decodeAll(strings.NewReader(tt.in), tt.format)
			got := formatRequests(reqs)
			if err != nil {
				if !errors.Is(err, trace.ErrSyntax) {
					t.Fatalf("error %v does not wrap ErrSyntax", err)
				}
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func formatRequests(reqs []trace.Request) string {
	parts := make([]string, len(reqs))
	for i, r := range reqs {
		parts[i] = fmt.Sprint(r.Key)
		if r.Size != 1 {
			parts[i] += fmt.Sprintf("/%d", r.Size)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestParseFormat(t *testing.T) {
	for _, name := range []string{"arc", "LIRS", "scarab", "corda", "oracle"} {
		f, err := trace.ParseFormat(name)
		if err != nil || !strings.EqualFold(f.String(), name) {
			t.Errorf("ParseFormat(%q) = %v, %v", name, f, err)
		}
	}
	if _, err := trace.ParseFormat("csv"); !errors.Is(err, trace.ErrFormat) {
		t.Errorf("ParseFormat(csv): %v", err)
	}
}

// TestOpenCompressed writes one LIRS trace raw and in each compression and
// checks that Open reads the same keys from all of them.
func TestOpenCompressed(t *testing.T) {
	const text = "1\n2\n3\n2\n"
	dir := t.TempDir()
	write := func(name string, compress func(io.Writer) io.WriteCloser) string {
		var buf bytes.Buffer
		w := compress(&buf)
		io.WriteString(w, text)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	paths := []string{
		write("raw", func(w io.Writer) io.WriteCloser { return nopCloser{w} }),
		write("gz", func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }),
		write("zst", func(w io.Writer) io.WriteCloser { z, _ := zstd.NewWriter(w); return z }),
		write("xz", func(w io.Writer) io.WriteCloser { z, _ := xz.NewWriter(w); return z }),
	}
	for _, path := range paths {
		reqs, err := trace.ReadAll(path, trace.LIRS, nil)
		if err != nil || formatRequests(reqs) != "[1 2 3 2]" {
			t.Errorf("%s: %v, %v", filepath.Base(path), formatRequests(reqs), err)
		}
	}
	if _, err := trace.ReadAll(filepath.Join(dir, "absent"), trace.LIRS, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// FuzzDecoder feeds arbitrary bytes to every format: a decoder must return
// requests or an error, never panic, and its errors must say where.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("10 3 0 0\n7 1 0 1\n"))
	f.Add([]byte("3\n*\n4\n"))
	f.Add(binary.BigEndian.AppendUint64(nil, 42))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range formats {
			d := trace.NewDecoder(bytes.NewReader(data), format)
			for n := 0; n < 1<<16; n++ { // ARC runs can be long: stop early
				_, err := d.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if !errors.Is(err, trace.ErrSyntax) || !strings.Contains(err.Error(), "line") && !strings.Contains(err.Error(), "offset") {
						t.Fatalf("%v: error without a place: %v", format, err)
					}
					break
				}
			}
		}
	})
}

// formats are every trace format.
var formats = []trace.Format{trace.ARC, trace.LIRS, trace.Scarab, trace.Corda, trace.Oracle}

// FuzzSkip checks the counting step of ScanFiles against Next on arbitrary
// input: where Next reads the whole trace, skip counts as many requests and
// fails where Next fails.
func FuzzSkip(f *testing.F) {
	f.Add([]byte("10 3 0 0\n\n7 0 0 1\n8 1"))
	f.Add([]byte("1 99999999999 0 0\n"))
	f.Add([]byte("3\n*\n4\nx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range formats {
			want, wantErr := 0, error(nil)
			d := trace.NewDecoder(bytes.NewReader(data), format)
			for ; want < 1<<16; want++ {
				if _, wantErr = d.Next(); wantErr != nil {
					break
				}
			}
			if want == 1<<16 {
				continue // too long to compare by Next
			}
			var got uint64
			var err error
			d = trace.NewDecoder(bytes.NewReader(data), format)
			for {
				var n uint64
				if n, err = d.Skip(); err != nil {
					break
				}
				got += n
			}
			if got != uint64(want) || (err == io.EOF) != (wantErr == io.EOF) {
				t.Fatalf("%v: skip counted %d, %v; Next read %d, %v", format, got, err, want, wantErr)
			}
		}
	})
}

// FuzzRoundTrip writes keys in each format and reads them back.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0), uint64(1), uint64(1<<63))
	f.Fuzz(func(t *testing.T, a, b, c uint64) {
		keys := []uint64{a, b, c}
		var text, arc, be, oracle bytes.Buffer
		for _, k := range keys {
			fmt.Fprintf(&text, "%d\n", k)
			fmt.Fprintf(&arc, "%d 1 0 0\n", k)
			be.Write(binary.BigEndian.AppendUint64(nil, k))
			rec := make([]byte, 24)
			binary.LittleEndian.PutUint64(rec[4:], k)
			binary.LittleEndian.PutUint32(rec[12:], 1)
			oracle.Write(rec)
		}
		for _, in := range []struct {
			r io.Reader
			f trace.Format
		}{{&text, trace.LIRS}, {&arc, trace.ARC}, {bytes.NewReader(be.Bytes()), trace.Scarab}, {&be, trace.Corda}, {&oracle, trace.Oracle}} {
			reqs, err := decodeAll(in.r, in.f)
			if err != nil || formatRequests(reqs) != fmt.Sprint(keys) {
				t.Fatalf("%v: %v, %v; want %v", in.f, formatRequests(reqs), err, keys)
			}
		}
	})
}
