package s3_test

import (
	"testing"

	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
	"github.com/tiermem/tiermem/tier/object/internal/buckettest"
)

// TestBucket checks the Bucket contract against the real server, each
// check in a fresh prefix.
func TestBucket(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) object.Bucket { return s3test.Open(t, s3test.URL(t)) })
}
