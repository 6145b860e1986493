package web_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// rangeParts returns the Content-Range and the bytes of each part of a
// multipart/byteranges reply, or nil for a reply of another type.
func rangeParts(t *testing.T, resp *http.Response, body []byte) (ranges []string, parts [][]byte) {
	t.Helper()
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return ranges, parts
		}
		if err != nil {
			t.Fatalf("multipart reply: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("multipart reply: %v", err)
		}
		ranges, parts = append(ranges, p.Header.Get("Content-Range")), append(parts, b)
	}
}

// TestHostileOverlappingRangesAreNotAmplified: a GET whose Range asks for
// the same byte 20000 times ("bytes=0-0,0-0,…", an 80 KB header) of a 64
// KiB value, from each tier that serves a GET, gets a reply no larger than
// about the value, not one part per spec (a 206 of 20000 parts some 40
// times the value's size, and seconds of CPU for a longer header): ranges
// that overlap are merged into one (RFC 9110 §14.2 lets a server
// coalesce or ignore many small or overlapping ranges). So does a header
// of 20000 disjoint one-byte ranges, too many to serve part by part: it is
// ignored, and the reply is the whole value, 200.
func TestHostileOverlappingRangesAreNotAmplified(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	value := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
	same := "bytes=" + strings.TrimSuffix(strings.Repeat("0-0,", 20000), ",")
	var disjoint strings.Builder
	disjoint.WriteString("bytes=0-0")
	for i := 1; i < 20000; i++ {
		fmt.Fprintf(&disjoint, ",%d-%d", 2*i, 2*i)
	}
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		key := "v-" + tr.String()
		must(t, m.Store(key, value, tiermem.InTier(tr)))
		resp, body := do(t, "GET", keyURL(srv, key), nil, "Range", same)
		_, parts := rangeParts(t, resp, body)
		if resp.StatusCode != http.StatusPartialContent || string(body) != "0" || parts != nil {
			t.Errorf("%s: GET of a %d-byte value with 20000 ranges 0-0: %d, %d bytes in %d parts, want a 206 of the one byte %q",
				tr, len(value), resp.StatusCode, len(body), len(parts), "0")
		}
		resp, body = do(t, "GET", keyURL(srv, key), nil, "Range", disjoint.String())
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, value) {
			t.Errorf("%s: GET of a %d-byte value with 20000 disjoint ranges: %d, %d bytes, want 200 and the whole value",
				tr, len(value), resp.StatusCode, len(body))
		}
	}
}

// TestHostileRangesMerged: the ranges of a Range header that overlap or
// touch are served as one part, each byte once; disjoint ones stay parts
// of their own, in the order the client asked for them (RFC 9110
// §15.3.7.2), the merged ones where the first of them was; up to 16 parts
// are served, and a header of more is ignored (200, the whole value).
func TestHostileRangesMerged(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	value := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") // 62 bytes
	u := keyURL(srv, "r")
	resp, body := do(t, http.MethodPut, u, bytes.NewReader(value))
	wantWritten(t, resp, body)
	var sixteen, seventeen []string
	for i := range 17 {
		spec := fmt.Sprintf("%d-%d", 3*i, 3*i)
		if i < 16 {
			sixteen = append(sixteen, spec)
		}
		seventeen = append(seventeen, spec)
	}
	for _, c := range []struct {
		rng    string
		ranges []string // the parts' Content-Range, or the single one; nil: not checked
		status int
	}{
		{"bytes=0-4,5-9", []string{"bytes 0-9/62"}, http.StatusPartialContent},
		{"bytes=0-9,3-5,8-", []string{"bytes 0-61/62"}, http.StatusPartialContent},
		{"bytes=50-59,0-4,2-6", []string{"bytes 50-59/62", "bytes 0-6/62"}, http.StatusPartialContent},
		{"bytes=20-29,0-4,-5,25-40", []string{"bytes 20-40/62", "bytes 0-4/62", "bytes 57-61/62"}, http.StatusPartialContent},
		{"bytes=-0,70-,3-3,3-3", []string{"bytes 3-3/62"}, http.StatusPartialContent},
		{"bytes=" + strings.Join(sixteen, ","), nil, http.StatusPartialContent},
		{"bytes=" + strings.Join(seventeen, ","), nil, http.StatusOK},
		{"bytes=" + strings.Join(seventeen, ",") + ",0-61", []string{"bytes 0-61/62"}, http.StatusPartialContent},
	} {
		resp, body := do(t, http.MethodGet, u, nil, "Range", c.rng)
		if resp.StatusCode != c.status {
			t.Errorf("Range %s: %d, want %d", c.rng, resp.StatusCode, c.status)
			continue
		}
		ranges, parts := rangeParts(t, resp, body)
		if ranges == nil && resp.StatusCode == http.StatusPartialContent {
			ranges, parts = []string{resp.Header.Get("Content-Range")}, [][]byte{body}
		}
		if resp.StatusCode == http.StatusOK && !bytes.Equal(body, value) {
			t.Errorf("Range %s: 200 with %q, want the whole value", c.rng, body)
		}
		if c.ranges == nil {
			if resp.StatusCode == http.StatusPartialContent && len(parts) != len(sixteen) {
				t.Errorf("Range %s: %d parts, want %d", c.rng, len(parts), len(sixteen))
			}
			continue
		}
		if strings.Join(ranges, " | ") != strings.Join(c.ranges, " | ") {
			t.Errorf("Range %s: parts %q, want %q", c.rng, ranges, c.ranges)
		}
		for i, r := range ranges {
			var first, last, size int
			if _, err := fmt.Sscanf(r, "bytes %d-%d/%d", &first, &last, &size); err != nil || !bytes.Equal(parts[i], value[first:last+1]) {
				t.Errorf("Range %s: part %q holds %q", c.rng, r, parts[i])
			}
		}
	}
}
