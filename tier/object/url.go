package object

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Location is where a glacier store lives, as ParseURL reads it from a
// URL: a local directory (Scheme "file") or an S3 bucket (Scheme "s3").
type Location struct {
	Scheme string // "file" or "s3"
	Path   string // file: the directory

	Bucket    string // s3: the bucket
	Prefix    string // s3: the key prefix, "" or ending in "/"
	Endpoint  string // s3: the endpoint URL; "" = AWS's for Region
	Region    string // s3: the region; "" = the SDK's default chain
	PathStyle bool   // s3: path-style addressing (MinIO, versitygw, Ceph)
}

// ParseURL reads a store URL:
//
//	""                        the directory defaultDir
//	"/some/dir", "file:///some/dir"
//	"s3://bucket/prefix?endpoint=http://127.0.0.1:7070&region=us-east-1&path-style=true"
//
// Credentials are never part of the URL: the S3 store takes them from the
// usual AWS environment variables and files. An unknown scheme or query
// parameter is an error wrapping ErrInvalidURL.
func ParseURL(raw, defaultDir string) (Location, error) {
	switch {
	case raw == "":
		return dirLocation(defaultDir)
	case strings.HasPrefix(raw, "/"), strings.HasPrefix(raw, "."):
		return dirLocation(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	switch u.Scheme {
	case "file":
		return fileLocation(u)
	case "s3":
		return s3Location(u)
	}
	return Location{}, fmt.Errorf("%w: %q: unknown scheme %q (want file or s3)", ErrInvalidURL, raw, u.Scheme)
}

func dirLocation(dir string) (Location, error) {
	if dir == "" {
		return Location{}, fmt.Errorf("%w: no URL and no default directory", ErrInvalidURL)
	}
	return Location{Scheme: "file", Path: dir}, nil
}

// fileLocation reads file:///abs/path, or file://rel/path relative to the
// working directory.
func fileLocation(u *url.URL) (Location, error) {
	if u.RawQuery != "" {
		return Location{}, fmt.Errorf("%w: %s: a file URL takes no parameters", ErrInvalidURL, u)
	}
	return dirLocation(u.Host + u.Path)
}

func s3Location(u *url.URL) (Location, error) {
	loc := Location{Scheme: "s3", Bucket: u.Host}
	if loc.Bucket == "" {
		return Location{}, fmt.Errorf("%w: %s: no bucket", ErrInvalidURL, u.Redacted())
	}
	if u.User != nil {
		return Location{}, fmt.Errorf("%w: %s: credentials belong in the AWS environment, not the URL", ErrInvalidURL, u.Redacted())
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		loc.Prefix = p + "/"
	}
	return loc, s3Query(&loc, u.Query())
}

// s3Query reads an S3 URL's parameters into loc.
func s3Query(loc *Location, q url.Values) error {
	for name, values := range q {
		if len(values) != 1 {
			return fmt.Errorf("%w: parameter %q given %d times", ErrInvalidURL, name, len(values))
		}
		if err := s3Param(loc, name, values[0]); err != nil {
			return err
		}
	}
	return nil
}

func s3Param(loc *Location, name, value string) error {
	switch name {
	case "endpoint":
		if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: endpoint %q is not an http(s) URL", ErrInvalidURL, value)
		}
		loc.Endpoint = value
	case "region":
		loc.Region = value
	case "path-style":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%w: path-style=%q is not a boolean", ErrInvalidURL, value)
		}
		loc.PathStyle = b
	default:
		return fmt.Errorf("%w: unknown parameter %q (want endpoint, region, path-style)", ErrInvalidURL, name)
	}
	return nil
}

// String returns the location as a URL ParseURL reads back.
func (l Location) String() string {
	if l.Scheme == "file" {
		return "file://" + l.Path
	}
	u := url.URL{Scheme: "s3", Host: l.Bucket, Path: "/" + l.Prefix}
	q := url.Values{}
	if l.Endpoint != "" {
		q.Set("endpoint", l.Endpoint)
	}
	if l.Region != "" {
		q.Set("region", l.Region)
	}
	if l.PathStyle {
		q.Set("path-style", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
