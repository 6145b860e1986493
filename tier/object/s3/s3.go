// Package s3 is the object.Bucket of an S3-compatible object store (AWS
// S3, MinIO, Ceph, R2, versitygw), through aws-sdk-go-v2, so that only
// programs that import it link the SDK. Credentials come from the usual
// AWS environment variables and files; the URL carries none.
//
// Importing it registers the s3 scheme with object.OpenURL, so that
// tiermem.GlacierOptions.URL reaches S3 too.
//
//	b, err := s3.OpenURL(ctx, "s3://archive/tiermem?endpoint=http://127.0.0.1:7070&region=us-east-1&path-style=true", "")
//	st, err := object.Open(b, nil)
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/tiermem/tiermem/tier/object"
)

// Bucket is an object.Bucket in an S3 bucket, under a key prefix. It is
// safe for concurrent use and needs no Close (idle connections belong to
// the SDK's shared HTTP transport).
type Bucket struct {
	client *s3.Client
	loc    object.Location
}

var (
	_ object.Bucket        = (*Bucket)(nil)
	_ object.ObjectCreator = (*Bucket)(nil)
)

// New returns the Bucket at loc (Scheme "s3"), loading credentials and
// defaults from the AWS environment and files. It makes no request: a
// missing bucket is found by the first one. Retries are left to the
// object.Store (the SDK's own are off), and the SDK's request checksums
// are asked only where S3 requires them: every frame carries its own.
// optFns adjust the SDK client's options after loc's (an HTTP client that
// counts bytes, in the benchmarks).
func New(ctx context.Context, loc object.Location, optFns ...func(*s3.Options)) (*Bucket, error) {
	if loc.Scheme != "s3" || loc.Bucket == "" {
		return nil, fmt.Errorf("s3: %s is not an S3 location: %w", loc, object.ErrInvalidURL)
	}
	opts := []func(*config.LoadOptions) error{
		config.WithDefaultRegion("us-east-1"),
		config.WithRetryMaxAttempts(1),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if loc.Region != "" {
		opts = append(opts, config.WithRegion(loc.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: loading the AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if loc.Endpoint != "" {
			o.BaseEndpoint = aws.String(loc.Endpoint)
		}
		o.UsePathStyle = loc.PathStyle
	}, func(o *s3.Options) {
		for _, fn := range optFns {
			fn(o)
		}
	})
	return &Bucket{client: client, loc: loc}, nil
}

// OpenURL returns the Bucket a store URL names (see object.ParseURL): a
// Dir for "", a path or file://, with "" meaning defaultDir; a *Bucket
// for s3://. It is object.OpenURL, which this package's import makes
// reach S3.
func OpenURL(ctx context.Context, rawURL, defaultDir string) (object.Bucket, error) {
	return object.OpenURL(ctx, rawURL, defaultDir)
}

// init registers the s3 scheme with object.OpenURL, so that a program
// that imports this package opens s3:// URLs wherever it reads one (the
// Manager's GlacierOptions.URL).
func init() {
	object.Register("s3", func(ctx context.Context, loc object.Location) (object.Bucket, error) {
		return New(ctx, loc)
	})
}

// String returns the bucket's URL, without credentials.
func (b *Bucket) String() string {
	return strings.TrimSuffix("s3://"+b.loc.Bucket+"/"+b.loc.Prefix, "/")
}

func (b *Bucket) key(name string) *string { return aws.String(b.loc.Prefix + name) }

// Create creates the bucket; a bucket this account already owns is not an
// error. Tests and first-time setups call it; a Store never does.
func (b *Bucket) Create(ctx context.Context) error {
	_, err := b.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.loc.Bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err == nil || errors.As(err, &owned) || apiCode(err) == "BucketAlreadyOwnedByYou" {
		return nil
	}
	return fmt.Errorf("s3: creating bucket %s: %w", b.loc.Bucket, err)
}

// Put uploads data under name with one PutObject.
func (b *Bucket) Put(ctx context.Context, name string, data []byte) error {
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.loc.Bucket), Key: b.key(name),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	return b.wrap("put", name, err)
}

// CreateObject uploads data under name with one PutObject sent with
// If-None-Match: *, which the server refuses (412) where an object is:
// ErrExists. A 409 (a conflicting upload in flight) is transient.
func (b *Bucket) CreateObject(ctx context.Context, name string, data []byte) error {
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.loc.Bucket), Key: b.key(name),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), IfNoneMatch: aws.String("*")})
	return b.wrap("create", name, err)
}

// Get reads n bytes of name from off with one ranged GetObject. A reply
// that is not of that range (a server or proxy that ignored the Range
// header and sent the object from its start) is an error naming the
// server, not bytes from elsewhere in the object.
func (b *Bucket) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.loc.Bucket), Key: b.key(name),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))})
	if err != nil {
		return nil, b.wrap("get", name, err)
	}
	defer out.Body.Close()
	if err := checkRange(out.ContentRange, off); err != nil {
		return nil, b.wrap("get", name, err)
	}
	if l := aws.ToInt64(out.ContentLength); out.ContentLength != nil && l < n {
		// The range ran past the object's end: the server sends what there
		// is, a whole reply, not a cut one.
		return nil, b.wrap("get", name, fmt.Errorf("bytes %d-%d: the object holds %d of them: %w", off, off+n, l, object.ErrShortObject))
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(out.Body, buf)
	if err != nil {
		return buf[:got], b.wrap("get", name, fmt.Errorf("bytes %d-%d: %w", off, off+n, err))
	}
	return buf, nil
}

// checkRange returns an error unless contentRange, a ranged GET's
// Content-Range reply header, says the body starts at off. A reply
// without one is the whole object, which a server may send instead of a
// range: from off 0 its first bytes are the range, from further on they
// are not.
func checkRange(contentRange *string, off int64) error {
	if contentRange == nil {
		if off == 0 {
			return nil
		}
		return fmt.Errorf("bytes from %d: the server ignored the Range header and sent the object from its start "+
			"(no Content-Range): it, or a proxy before it, does not serve ranged reads", off)
	}
	var start int64
	if _, err := fmt.Sscanf(*contentRange, "bytes %d-", &start); err != nil || start != off {
		return fmt.Errorf("bytes from %d: the server replied with Content-Range %q", off, *contentRange)
	}
	return nil
}

// List pages through ListObjectsV2 under the prefix.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	pages := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(b.loc.Bucket), Prefix: b.key(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return b.wrap("list", prefix+"*", err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), b.loc.Prefix)
			if err := fn(name, aws.ToInt64(o.Size)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes name; S3 reports success for an absent key.
func (b *Bucket) Delete(ctx context.Context, name string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.loc.Bucket), Key: b.key(name)})
	if errors.Is(b.wrap("delete", name, err), object.ErrNotExist) {
		return nil
	}
	return b.wrap("delete", name, err)
}

// wrap names the operation, bucket and object in err, and maps S3's
// missing key and missing bucket to object.ErrNotExist and
// object.ErrNoBucket.
func (b *Bucket) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	switch code := apiCode(err); {
	case code == "NoSuchBucket":
		err = fmt.Errorf("%w: %w", object.ErrNoBucket, err)
	case code == "NoSuchKey" || code == "NotFound" || httpStatus(err) == http.StatusNotFound:
		err = fmt.Errorf("%w: %w", object.ErrNotExist, err)
	case code == "InvalidRange" || httpStatus(err) == http.StatusRequestedRangeNotSatisfiable:
		err = fmt.Errorf("%w: %w", object.ErrShortObject, err)
	case op == "create" && (code == "PreconditionFailed" || httpStatus(err) == http.StatusPreconditionFailed):
		err = fmt.Errorf("%w: %w", object.ErrExists, err)
	}
	return fmt.Errorf("s3: %s %s/%s: %w", op, b, name, err)
}

// apiCode returns the S3 error code in err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of the response err came with, or 0.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
