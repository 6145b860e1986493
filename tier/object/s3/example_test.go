package s3_test

import (
	"context"
	"log"

	"github.com/tiermem/tiermem/tier/object"
	"github.com/tiermem/tiermem/tier/object/s3"
)

// A glacier store in an S3-compatible bucket. Credentials come from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ~/.aws); the URL names
// the bucket, a prefix, and how to reach the server. (No Output: it needs
// a server.)
func ExampleOpenURL() {
	b, err := s3.OpenURL(context.Background(),
		"s3://archive/tiermem?endpoint=http://127.0.0.1:7070&region=us-east-1&path-style=true",
		"/var/lib/tiermem/glacier") // the directory an empty URL would name
	if err != nil {
		log.Fatal(err)
	}
	st, err := object.Open(b, &object.Options{Compression: object.ZstdBetter})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Put("report-2024", []byte("quarterly figures"), nil); err != nil {
		log.Fatal(err)
	}
	if err := st.Sync(); err != nil { // in the bucket from here
		log.Fatal(err)
	}
}
