package object_test

import (
	"testing"

	"github.com/tiermem/tiermem/internal/tiertest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
	"github.com/tiermem/tiermem/tier/object/internal/buckettest"
)

func TestDirBucket(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) object.Bucket { return mustDir(t, t.TempDir()) })
}

func TestMemBucket(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) object.Bucket { return object.NewMem() })
}

// TestConformanceMem runs the store's suite over a Mem, reopened from the
// same Mem.
func TestConformanceMem(t *testing.T) {
	buckets := map[string]*object.Mem{}
	open := func(t *testing.T, dir string) tier.Store {
		if buckets[dir] == nil {
			buckets[dir] = object.NewMem()
		}
		return mustOpen(t, buckets[dir], &testOptions)
	}
	tiertest.Run(t, func(t *testing.T) tier.Store { return open(t, t.TempDir()) }, &tiertest.Options{Reopen: open})
}
