package object_test

import (
	"testing"

	"github.com/tiermem/tiermem/internal/tiertest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// testOptions are small packs, so that the suite seals and uploads many,
// at the fastest compression, so that it stays within seconds.
var testOptions = object.Options{PackSize: 64 << 10, Compression: object.ZstdFastest}

// TestConformance runs the suite every backend runs, with its Persistent
// checks, against a local directory.
func TestConformance(t *testing.T) {
	open := func(t *testing.T, dir string) tier.Store {
		t.Helper()
		return mustOpen(t, mustDir(t, dir), &testOptions)
	}
	tiertest.Run(t, func(t *testing.T) tier.Store { return open(t, t.TempDir()) }, &tiertest.Options{Reopen: open})
}

func mustDir(t testing.TB, dir string) *object.Dir {
	t.Helper()
	d, err := object.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustOpen(t testing.TB, b object.Bucket, opts *object.Options) *object.Store {
	t.Helper()
	s, err := object.Open(b, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", b, err)
	}
	return s
}
