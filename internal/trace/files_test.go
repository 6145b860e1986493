package trace_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/trace"
)

// writeTrace writes text to a file named name in a temporary directory.
func writeTrace(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestScanFilesCountsWithoutExpanding counts a 19-byte ARC line that stands
// for 10^11 requests: ScanFiles must count it in one step (expanding it would
// take 800 GB and minutes), and Keys must produce its keys one by one.
func TestScanFilesCountsWithoutExpanding(t *testing.T) {
	path := writeTrace(t, "bomb.lis", "1 99999999999 0 0\n")
	files, err := trace.ScanFiles([]trace.Part{{Path: path, Format: trace.ARC}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if files.Len() != 99999999999 {
		t.Fatalf("Len = %d, want 99999999999", files.Len())
	}
	var got []uint64
	err = files.Keys(func(k uint64) bool {
		got = append(got, k)
		return len(got) < 3
	})
	if err != nil || fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("first keys %v, %v; want [1 2 3]", got, err)
	}
}

// TestFilesKeys replays a trace of three parts in two formats, twice, and
// compares it with the parts read whole.
func TestFilesKeys(t *testing.T) {
	arc := writeTrace(t, "a.lis", "10 3 0 0\n5 0 0 0\n7 1 0 0\n")
	lirs := writeTrace(t, "b.trace", "1\n*\n2\n")
	parts := []trace.Part{{Path: arc, Format: trace.ARC}, {Path: lirs, Format: trace.LIRS}, {Path: arc, Format: trace.ARC}}
	var reads []string
	files, err := trace.ScanFiles(parts, func(part int, done, total int64) { // at the start and end of each part here
		reads = append(reads, fmt.Sprintf("%d:%d/%d", part, done, total))
	})
	if err != nil {
		t.Fatal(err)
	}
	if files.Len() != 10 {
		t.Errorf("Len = %d, want 10", files.Len())
	}
	if got := strings.Join(reads, " "); got != "0:0/25 0:25/25 1:0/6 1:6/6 2:0/25 2:25/25" {
		t.Errorf("progress %s", got)
	}
	for range 2 {
		var got []uint64
		if err := files.Keys(func(k uint64) bool { got = append(got, k); return true }); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[10 11 12 7 1 2 10 11 12 7]" {
			t.Fatalf("keys %v", got)
		}
	}
}

// TestScanFilesErrors checks that a bad line, a negative or overflowing
// count and a trace past 2^63-1 requests are errors naming the file and the
// line.
func TestScanFilesErrors(t *testing.T) {
	full := writeTrace(t, "full.lis", "0 9223372036854775807 0 0\n")
	tests := []struct {
		name  string
		parts []string // ARC files
		err   error
		want  string
	}{
		{"bad line", []string{writeTrace(t, "bad.lis", "1 2 0 0\nx 1 0 0\n")}, trace.ErrSyntax, "bad.lis: trace: malformed trace: line 2: start"},
		{"negative count", []string{writeTrace(t, "neg.lis", "\n1 -1 0 0\n")}, trace.ErrSyntax, "neg.lis: trace: malformed trace: line 2: count -1 is negative"},
		{"count past the last key", []string{writeTrace(t, "wrap.lis", "2 18446744073709551615 0 0\n")}, trace.ErrSyntax, "wrap.lis: trace: malformed trace: line 1: start 2"},
		{"too many requests", []string{full, writeTrace(t, "one.lis", "\n\n5 1 0 0\n")}, trace.ErrTooLong, "one.lis: trace: too many requests: line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var parts []trace.Part
			for _, p := range tt.parts {
				parts = append(parts, trace.Part{Path: p, Format: trace.ARC})
			}
			_, err := trace.ScanFiles(parts, nil)
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %v with %q", err, tt.err, tt.want)
			}
		})
	}
	if _, err := trace.ScanFiles([]trace.Part{{Path: full, Format: trace.ARC}}, nil); err != nil {
		t.Errorf("2^63-1 requests: %v", err)
	}
}

// TestReadAllTooLong reads a 19-byte trace of 10^11 requests: ReadAll must
// refuse it at its line before producing them, not fill memory.
func TestReadAllTooLong(t *testing.T) {
	path := writeTrace(t, "bomb.lis", "1 2 0 0\n1 99999999999 0 0\n")
	_, err := trace.ReadAll(path, trace.ARC, nil)
	if !errors.Is(err, trace.ErrTooLong) || !strings.Contains(err.Error(), "bomb.lis: trace: too many requests: line 2") {
		t.Fatalf("error %v, want ErrTooLong at line 2", err)
	}
}
