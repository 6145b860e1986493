package web_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"strconv"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestHeadInEveryTier sends HEADs for a value in each tier (a large raw
// one in cold, answered without reading it; the others hashed where they
// lie): the headers are those of a GET — status, length, ETag — with no
// body, for a whole value, a range, several ranges (multipart), and an
// If-None-Match naming the ETag (304); a missing key is a 404.
func TestHeadInEveryTier(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	want := make([]byte, 3<<20+17)
	rand.Read(want)
	for _, tier := range []string{"hot", "warm", "cold"} {
		t.Run(tier, func(t *testing.T) {
			url := keyURL(srv, "v-"+tier)
			resp, body := do(t, http.MethodPut, url+"?tier="+tier, bytes.NewReader(want))
			wantStatus(t, resp, body, http.StatusCreated, "")
			get, body := do(t, http.MethodGet, url, nil)
			wantStatus(t, get, body, http.StatusOK, "")
			tag := get.Header.Get("Etag")
			for _, c := range []struct {
				name, header, value string
				status              int
				length              int64
			}{
				{"whole", "", "", http.StatusOK, int64(len(want))},
				{"a range", "Range", "bytes=10-19", http.StatusPartialContent, 10},
				{"its tag", "If-None-Match", tag, http.StatusNotModified, -1},
				{"another tag", "If-None-Match", `"0000000000000000"`, http.StatusOK, int64(len(want))},
			} {
				var hdr []string
				if c.header != "" {
					hdr = []string{c.header, c.value}
				}
				resp, body := do(t, http.MethodHead, url, nil, hdr...)
				if resp.StatusCode != c.status || len(body) != 0 || resp.Header.Get("Etag") != tag ||
					c.length >= 0 && resp.Header.Get("Content-Length") != strconv.FormatInt(c.length, 10) {
					t.Errorf("HEAD, %s: %s, %d bytes of body, ETag %s (GET's %s), %v", c.name, resp.Status, len(body), resp.Header.Get("Etag"), tag, resp.Header)
				}
			}
			resp, body = do(t, http.MethodHead, url, nil, "Range", "bytes=0-1,5-9")
			if resp.StatusCode != http.StatusPartialContent || len(body) != 0 || resp.ContentLength <= 7 {
				t.Errorf("HEAD of two ranges: %s, %d bytes of body, length %d", resp.Status, len(body), resp.ContentLength)
			}
		})
	}
	resp, body := do(t, http.MethodHead, keyURL(srv, "none"), nil)
	if resp.StatusCode != http.StatusNotFound || len(body) != 0 {
		t.Errorf("HEAD of a missing key: %s, %d bytes", resp.Status, len(body))
	}
}
