package s3_test

import (
	"sync"
	"testing"

	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/internal/tiertest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// testOptions are small packs and the fastest compression, so that the
// suite seals and uploads many packs within seconds.
var testOptions = object.Options{PackSize: 64 << 10, Compression: object.ZstdFastest}

// TestConformance runs the suite every backend runs, with its Persistent
// checks, against the real S3-compatible server: each store in a fresh
// prefix, reopened from the same prefix.
func TestConformance(t *testing.T) {
	s3test.Endpoint(t)
	var urls sync.Map // the suite's directory → the prefix standing for it
	open := func(t *testing.T, dir string) tier.Store {
		t.Helper()
		u, _ := urls.LoadOrStore(dir, s3test.URL(t))
		s, err := object.Open(s3test.Open(t, u.(string)), &testOptions)
		if err != nil {
			t.Fatalf("Open(%s): %v", u, err)
		}
		return s
	}
	tiertest.Run(t, func(t *testing.T) tier.Store { return open(t, t.TempDir()) }, &tiertest.Options{Reopen: open})
}
