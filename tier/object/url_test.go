package object_test

import (
	"errors"
	"testing"

	"github.com/tiermem/tiermem/tier/object"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want object.Location
		bad  bool
	}{
		{raw: "", want: object.Location{Scheme: "file", Path: "/data/glacier"}},
		{raw: "/srv/archive", want: object.Location{Scheme: "file", Path: "/srv/archive"}},
		{raw: "./rel", want: object.Location{Scheme: "file", Path: "./rel"}},
		{raw: "file:///srv/archive", want: object.Location{Scheme: "file", Path: "/srv/archive"}},
		{raw: "file://rel/dir", want: object.Location{Scheme: "file", Path: "rel/dir"}},
		{raw: "s3://bucket", want: object.Location{Scheme: "s3", Bucket: "bucket"}},
		{raw: "s3://bucket/", want: object.Location{Scheme: "s3", Bucket: "bucket"}},
		{raw: "s3://bucket/a/b/", want: object.Location{Scheme: "s3", Bucket: "bucket", Prefix: "a/b/"}},
		{raw: "s3://bucket/prefix?endpoint=http://127.0.0.1:7070&region=us-east-1&path-style=true",
			want: object.Location{Scheme: "s3", Bucket: "bucket", Prefix: "prefix/", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", PathStyle: true}},
		{raw: "s3://b?path-style=0", want: object.Location{Scheme: "s3", Bucket: "b"}},
		{raw: "s3://b?region=eu-west-3", want: object.Location{Scheme: "s3", Bucket: "b", Region: "eu-west-3"}},
		{raw: "s3:///prefix", bad: true},                   // no bucket
		{raw: "s3://key:secret@bucket", bad: true},         // credentials in the URL
		{raw: "s3://b?endpoint=127.0.0.1:7070", bad: true}, // endpoint without scheme
		{raw: "s3://b?endpoint=ftp://host", bad: true},     // not http(s)
		{raw: "s3://b?path-style=maybe", bad: true},        // not a boolean
		{raw: "s3://b?bucket-owner=me", bad: true},         // unknown parameter
		{raw: "s3://b?region=a&region=b", bad: true},       // given twice
		{raw: "gs://bucket", bad: true},                    // unknown scheme
		{raw: "file:///x?sync=1", bad: true},               // file takes no parameters
		{raw: "s3://b/%zz", bad: true},                     // not a URL
	}
	for _, tt := range tests {
		got, err := object.ParseURL(tt.raw, "/data/glacier")
		switch {
		case tt.bad && !errors.Is(err, object.ErrInvalidURL):
			t.Errorf("ParseURL(%q) = %+v, %v; want an error wrapping ErrInvalidURL", tt.raw, got, err)
		case !tt.bad && (err != nil || got != tt.want):
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
}

// TestParseURLNoDefault: an empty URL needs a default directory.
func TestParseURLNoDefault(t *testing.T) {
	if _, err := object.ParseURL("", ""); !errors.Is(err, object.ErrInvalidURL) {
		t.Fatalf("ParseURL(\"\", \"\") = %v, want ErrInvalidURL", err)
	}
}

// TestLocationString: String gives back a URL that parses to the same
// location.
func TestLocationString(t *testing.T) {
	for _, raw := range []string{
		"file:///srv/archive",
		"s3://bucket",
		"s3://bucket/a/b?endpoint=http://127.0.0.1:7070&region=us-east-1&path-style=true",
	} {
		loc, err := object.ParseURL(raw, "")
		if err != nil {
			t.Fatal(err)
		}
		again, err := object.ParseURL(loc.String(), "")
		if err != nil || again != loc {
			t.Errorf("ParseURL(%q).String() = %q, which parses to %+v, %v", raw, loc.String(), again, err)
		}
	}
}
