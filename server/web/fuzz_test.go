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
		req := httptest.NewRequest("GET", "http://localhost/v1/keys/v", nil)
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

// FuzzBodiless checks bodiless, which lets a GET of a cold value skip
// verifying it, against what it predicts: serveReader, given the value's
// ETag and the request's If-Match, If-None-Match, Range and If-Range (each
// absent when empty), sends not a byte of the value (a 304, 412 or 416)
// whenever bodiless says so; a false "no body" would send a value never
// verified. The value is bytes a JSON error body never holds raw.
func FuzzBodiless(f *testing.F) {
	const tag = `"00112233aabbccdd"`
	for _, s := range [][4]string{
		{`"0"`, "", "", ""}, {tag, "", "", ""}, {"*", "", "", ""}, {"W/" + tag, "", "", ""}, {" , " + tag, "", "", ""},
		{`"0"`, tag, "", ""}, {"", tag, "", ""}, {"", "", "bytes=100-", ""}, {"", "", "bytes=100-", `"0"`},
		{"", "", "bytes=100-", tag}, {"", "", "bytes=-0", ""}, {"", "", "bytes=-0,0-0", ""}, {"", "", "Bytes=200-300", ""},
		{"", "", "bytes=5-1", ""}, {"", "", "bytes=0-0,0-0", ""}, {"", "", "items=100-", ""}, {"", "", "bytes=", ""},
		{"", "", "bytes=,", ""}, {`"0"`, "", "bytes=0-9", tag}, {"", `"0"`, "bytes=100-", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	value := bytes.Repeat([]byte{1}, 100)
	f.Fuzz(func(t *testing.T, ifMatch, ifNoneMatch, rng, ifRange string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for name, v := range map[string]string{"If-Match": ifMatch, "If-None-Match": ifNoneMatch, "Range": rng, "If-Range": ifRange} {
			if v != "" {
				req.Header[name] = []string{v}
			}
		}
		predicted := bodiless(req.Header, []byte(tag), int64(len(value)))
		rec := httptest.NewRecorder()
		rec.Header().Set("Etag", tag)
		if err := serveReader(rec, req, bytes.NewReader(value), int64(len(value))); err != nil {
			t.Fatal(err)
		}
		if !predicted {
			return
		}
		switch rec.Code {
		case http.StatusNotModified, http.StatusPreconditionFailed, http.StatusRequestedRangeNotSatisfiable:
		default:
			t.Fatalf("If-Match %q If-None-Match %q Range %q If-Range %q: bodiless, but the reply is %d", ifMatch, ifNoneMatch, rng, ifRange, rec.Code)
		}
		if bytes.IndexByte(rec.Body.Bytes(), 1) >= 0 {
			t.Fatalf("If-Match %q If-None-Match %q Range %q If-Range %q: bodiless, but the %d reply holds the value: %q", ifMatch, ifNoneMatch, rng, ifRange, rec.Code, rec.Body.Bytes())
		}
	})
}

// TestByteRanges: the Range header byteRanges hands http.ServeContent for
// a value of 100 bytes: overlapping and adjacent specs merged, disjoint
// ones kept in the order asked, specs of no byte dropped; "" to ignore the
// header (another unit, more than maxRanges ranges, no spec), with empty
// true when no byte is selected; a header ServeContent refuses left to it.
func TestByteRanges(t *testing.T) {
	var specs []string
	for i := range maxRanges + 1 {
		specs = append(specs, fmt.Sprintf("%d-%d", 2*i, 2*i))
	}
	many := strings.Join(specs, ",")             // maxRanges+1 disjoint ranges
	most := strings.Join(specs[:maxRanges], ",") // maxRanges
	for _, c := range []struct {
		in, kept string
		empty    bool
	}{
		{"bytes=0-9", "bytes=0-9", false},
		{"Bytes = 0-9", "bytes=0-9", false},
		{"bytes=0-0,0-0,0-0", "bytes=0-0", false},
		{"bytes=0-4,5-9", "bytes=0-9", false},
		{"bytes=0-4,6-9", "bytes=0-4,6-9", false},
		{"bytes=50-59,0-9,5-14", "bytes=50-59,0-14", false},
		{"bytes=-10,0-0,95-", "bytes=90-99,0-0", false},
		{"bytes= 10 - 20 , ,", "bytes=10-20", false},
		{"bytes=90-1000", "bytes=90-99", false},
		{"bytes=-1000", "bytes=0-99", false},
		{"bytes=+5-6", "bytes=5-6", false},
		{"bytes=-0", "", true},
		{"bytes=100-,-0,200-300", "", true},
		{"bytes=-0,3-4", "bytes=3-4", false},
		{"bytes=", "", false},
		{"bytes=,,", "", false},
		{"items=0-9", "", false},
		{"bytes=" + most, "bytes=" + most, false},
		{"bytes=" + many, "", false},
		{"bytes=" + many + ",0-99", "bytes=0-99", false},
		{"bytes=5-1", "bytes=5-1", false},
		{"bytes=x-y,0-0", "bytes=x-y,0-0", false},
		{"bytes=--5", "bytes=--5", false},
		{"0-9", "0-9", false},
	} {
		kept, empty := byteRanges(c.in, 100)
		if kept != c.kept || empty != c.empty {
			t.Errorf("byteRanges(%q, 100) = %q, %v; want %q, %v", c.in, kept, empty, c.kept, c.empty)
		}
	}
}
