package trace_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tiermem/tiermem/internal/trace"
)

// sharedTraces returns the directory of the shared traces, beside the checkout.
// The traces are part of the test fixture: a test that cannot find them fails.
func sharedTraces(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "traces")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("shared traces not found: %v", err)
	}
	return dir
}

// TestSharedTraces checks the request and unique-key counts of every shared trace
// against the table of shared/traces/README.md.
func TestSharedTraces(t *testing.T) {
	tests := []struct {
		file             string
		format           trace.Format
		requests, unique int
	}{
		{"OLTP.lis.zst", trace.ARC, 914145, 186880},
		{"P3.lis.zst", trace.ARC, 3912296, 762543},
		{"gli.trace.gz", trace.LIRS, 6015, 2529},
		{"loop.trace.gz", trace.LIRS, 505500, 1011},
		{"scarab-recs.trace.xz", trace.Scarab, 1245184, 258368},
		{"trace_vaultservice.gz", trace.Corda, 135702, 90468},
		{"cloudPhysicsIO.oracleGeneral.bin", trace.Oracle, 113872, 48974},
	}
	dir := sharedTraces(t)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			reqs, err := trace.ReadAll(filepath.Join(dir, tt.file), tt.format, nil)
			if err != nil {
				t.Fatal(err)
			}
			unique := make(map[uint64]struct{})
			for _, r := range reqs {
				unique[r.Key] = struct{}{}
			}
			if len(reqs) != tt.requests || len(unique) != tt.unique {
				t.Errorf("got %d requests, %d unique keys; want %d, %d", len(reqs), len(unique), tt.requests, tt.unique)
			}
		})
	}
}
