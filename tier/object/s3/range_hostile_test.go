package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// newRangeIgnoringProxy starts an HTTP proxy in front of the test server
// that answers every ranged GET of the objects under s3URL with the whole
// object (200, no Content-Range), as a server or proxy that does not serve
// ranges may; it returns s3URL with the proxy as endpoint. The whole
// object is read from the server with a Bucket of its own.
func newRangeIgnoringProxy(t *testing.T, s3URL string) string {
	t.Helper()
	ep := s3test.Endpoint(t)
	target, err := url.Parse(ep)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := object.ParseURL(s3URL, "")
	if err != nil {
		t.Fatal(err)
	}
	direct := s3test.Open(t, s3URL)
	rp := httputil.NewSingleHostReverseProxy(target) // keeps the Host header the client signed
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode != http.StatusPartialContent {
			return nil
		}
		cr := resp.Header.Get("Content-Range")
		total, err := strconv.ParseInt(cr[strings.LastIndexByte(cr, '/')+1:], 10, 64)
		if err != nil {
			return fmt.Errorf("proxy: Content-Range %q: %w", cr, err)
		}
		name := strings.TrimPrefix(resp.Request.URL.Path, "/"+loc.Bucket+"/"+loc.Prefix)
		whole, err := direct.Get(resp.Request.Context(), name, 0, total)
		if err != nil {
			return err
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(whole))
		resp.StatusCode, resp.Status = http.StatusOK, "200 OK"
		resp.Header.Del("Content-Range")
		resp.Header.Set("Content-Length", strconv.FormatInt(total, 10))
		resp.ContentLength = total
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return strings.Replace(s3URL, "endpoint="+ep, "endpoint="+srv.URL, 1)
}

// TestHostileGetFromAServerIgnoringRange: a read through a server (or a
// proxy) that ignores the Range header and sends the whole object fails
// with an error that says so, not with ErrCorrupt, which would send the
// operator looking for damaged data that is not there; a range from the
// object's start, whose bytes the whole object begins with, still reads.
// Before, Get returned the object's first n bytes as if they were the
// range asked for: every read of a frame past a pack's start failed its
// checksum and reported the pack corrupt.
func TestHostileGetFromAServerIgnoringRange(t *testing.T) {
	u := s3test.URL(t)
	opts := &object.Options{PackSize: 64 << 10, Retries: 1, Backoff: time.Millisecond, RequestTimeout: 5 * time.Second}
	st, err := object.Open(s3test.Open(t, u), opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := st.Put(fmt.Sprint("key-", i), bytes.Repeat([]byte{byte(i)}, 1000+i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	bk := s3test.Open(t, newRangeIgnoringProxy(t, u))
	ctx := context.Background()
	const pack = "pack/0000000000000001.pack"
	head, err := bk.Get(ctx, pack, 0, 4)
	if err != nil || string(head) != "TMGP" {
		t.Errorf("Get of the pack's first 4 bytes through the proxy: %q, %v; want its magic", head, err)
	}
	if b, err := bk.Get(ctx, pack, 16, 4); err == nil || !strings.Contains(err.Error(), "Range") {
		t.Errorf("Get of bytes 16-20 through the proxy: %q, %v; want an error naming the ignored Range", b, err)
	}
	re, err := object.Open(bk, opts) // reads whole indexes: from their start
	if err != nil {
		t.Fatalf("Open through the proxy: %v", err)
	}
	defer re.Close()
	for i := range 5 {
		k := fmt.Sprint("key-", i)
		v, _, err := re.GetMeta(k, nil)
		switch {
		case err == nil:
			t.Errorf("%s through the proxy reads %d bytes; want an error", k, len(v))
		case errors.Is(err, tier.ErrCorrupt) || !strings.Contains(err.Error(), "Range"):
			t.Errorf("%s through the proxy: %v; want an error naming the ignored Range, not ErrCorrupt", k, err)
		}
	}
}
