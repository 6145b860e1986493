package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/npy"
)

// FuzzParseKey checks that any escaped path parses or fails cleanly, and
// that every key survives escaping and parsing unchanged.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"k", "a%2Fb", "a/b", "%00%ff", "%", "%zz", "..", "a//b", "%E2%82%AC", strings.Repeat("%41", 70000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		key, err := parseKey(escaped)
		if err == nil && (key == "" || len(key) > maxKeyLen) {
			t.Fatalf("parseKey(%q) = %q: an empty or too long key passed", escaped, key)
		}
		if escaped == "" || len(escaped) > maxKeyLen {
			return
		}
		back, err := parseKey(url.PathEscape(escaped))
		if err != nil || back != escaped {
			t.Fatalf("key %q: escaped and parsed back as %q, %v", escaped, back, err)
		}
	})
}

// FuzzParseNPY checks that any body parses or fails with ErrNPY, and that
// what parses is consistent and writes back to a file that parses the same.
func FuzzParseNPY(f *testing.F) {
	f.Add(npy.AppendHeader(nil, "<f8", []int{2, 3}))
	f.Add(append(npy.AppendHeader(nil, "|u1", []int{3}), 1, 2, 3))
	f.Add(append(npy.AppendHeader(nil, ">i2", []int{1, 1}), 1, 2))
	f.Add([]byte("\x93NUMPY\x02\x00\x3a\x00\x00\x00{'descr': '<i4', 'fortran_order': False, 'shape': (), }\n\x01\x00\x00\x00"))
	f.Add([]byte("\x93NUMPY\x01\x00\x20\x00{'shape':(0,),'descr':'<c16','fortran_order':False}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseNPY(slices.Clone(b))
		if err != nil {
			if !strings.HasPrefix(err.Error(), ErrNPY.Error()) {
				t.Fatalf("error %v does not wrap ErrNPY", err)
			}
			return
		}
		n := a.DType.Size()
		for _, d := range a.Shape {
			n *= d
		}
		if n != len(a.Data) || len(a.Shape) > maxDims {
			t.Fatalf("parsed %v with %d data bytes", a, len(a.Data))
		}
		file := append(npy.AppendHeader(nil, descrOf(a.DType), a.Shape), a.Data...)
		b2, err := parseNPY(file)
		if err != nil || b2.DType != a.DType || !slices.Equal(b2.Shape, a.Shape) || !bytes.Equal(b2.Data, a.Data) {
			t.Fatalf("%v written back parses as %v, %v", a, b2, err)
		}
	})
}

// FuzzRange serves a 100-byte value with any Range header: the reply is
// 200, a 206 whose bytes are the value's at the Content-Range it names, or
// a 416 that names the size.
func FuzzRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=90-", "bytes=-0", "bytes=0-0,-0", "bytes=5-1", "bytes=100-",
		"bytes=0-1,3-4", "bytes= 1 - 2 ", "bytes=-", "bytes=1-2-3", "items=0-1", "bytes=99999999999999999999-", ""} {
		f.Add(s)
	}
	m, err := tiermem.Open(f.TempDir(), &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 1 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1, KeepMemoryLimit: true})
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	value := make([]byte, 100)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	if err := m.Store("v", value); err != nil {
		f.Fatal(err)
	}
	h, err := New(m, Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rng string) {
		req := httptest.NewRequest("GET", "/v1/keys/v", nil)
		req.Header["Range"] = []string{rng}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		body, cr := w.Body.Bytes(), w.Header().Get("Content-Range")
		switch w.Code {
		case http.StatusOK:
			if !bytes.Equal(body, value) {
				t.Fatalf("Range %q: 200 with %q", rng, body)
			}
		case http.StatusPartialContent:
			if strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/") {
				return
			}
			var first, last, size int
			if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &first, &last, &size); err != nil || size != 100 ||
				first < 0 || last < first || last >= 100 || !bytes.Equal(body, value[first:last+1]) {
				t.Fatalf("Range %q: 206, Content-Range %q, body %q", rng, cr, body)
			}
			if w.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Fatalf("Range %q: Content-Length %q for %d bytes", rng, w.Header().Get("Content-Length"), len(body))
			}
		case http.StatusRequestedRangeNotSatisfiable:
			if cr != "bytes */100" || !bytes.HasPrefix(body, []byte(`{"error":"range `)) {
				t.Fatalf("Range %q: 416, Content-Range %q, body %q", rng, cr, body)
			}
		default:
			t.Fatalf("Range %q: status %d", rng, w.Code)
		}
	})
}

// FuzzNamesTag checks namesTag, which decides that a GET of a cold value
// will get no body and need not be verified, against what it predicts:
// http.ServeContent, given the value's ETag and the request's
// If-None-Match (any bytes, on one or two field lines), answers 304 exactly
// when namesTag says the header names the tag.
func FuzzNamesTag(f *testing.F) {
	const tag = `"00112233aabbccdd"`
	for _, s := range []string{tag, `W/` + tag, `"0", ` + tag, `garbage, ` + tag, `"0",` + "\u00a0" + tag,
		"*", ` , ,` + tag, `"0"` + "\n" + tag, `W/"00112233aabbccdd`, `"a"b"`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, inm string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		first, second, two := strings.Cut(inm, "\n")
		req.Header["If-None-Match"] = []string{first}
		if two {
			req.Header["If-None-Match"] = append(req.Header["If-None-Match"], second)
		}
		rec := httptest.NewRecorder()
		rec.Header().Set("Etag", tag)
		http.ServeContent(rec, req, "", time.Time{}, strings.NewReader("value"))
		if got, want := namesTag(req.Header, []byte(tag)), rec.Code == http.StatusNotModified; got != want {
			t.Fatalf("If-None-Match %q: namesTag says %v, ServeContent answered %d", inm, got, rec.Code)
		}
	})
}

// FuzzMatches checks matches, which decides a PUT's or DELETE's If-Match
// and If-None-Match, against http.ServeContent's reading of the same field
// for a GET (412 for a failed If-Match, 304 for a matching If-None-Match):
// a write and a read of one value agree on what a precondition names.
func FuzzMatches(f *testing.F) {
	const tag = `"00112233aabbccdd"`
	for _, s := range []string{tag, `W/` + tag, `"0", ` + tag, `garbage, ` + tag, "*", ` , ,` + tag, `W/"00112233aabbccdd`, `"a"b"`, ""} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, field string, ifMatch bool) {
		if strings.ContainsAny(field, "\r\n") {
			return // one field line: ServeContent reads only the first
		}
		name := "If-None-Match"
		if ifMatch {
			name = "If-Match"
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header[name] = []string{field}
		rec := httptest.NewRecorder()
		rec.Header().Set("Etag", tag)
		http.ServeContent(rec, req, "", time.Time{}, strings.NewReader("value"))
		got := matches(field, true, func() []byte { return []byte(tag) }, ifMatch)
		want := rec.Code == http.StatusNotModified
		if ifMatch {
			want = rec.Code != http.StatusPreconditionFailed
		}
		if field == "" {
			return // no precondition: newWriteCond drops it, as ServeContent skips it
		}
		if got != want {
			t.Fatalf("%s %q: matches says %v, ServeContent answered %d", name, field, got, rec.Code)
		}
	})
}
