package web_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

func TestETag(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	u := keyURL(srv, "k")
	do(t, "PUT", u, strings.NewReader("version one"))
	resp, body := do(t, "GET", u, nil)
	wantStatus(t, resp, body, 200, "")
	tag := resp.Header.Get("ETag")
	if len(tag) != 18 || tag[0] != '"' || tag[17] != '"' {
		t.Fatalf("ETag %q: want a strong tag, 16 hex digits in quotes", tag)
	}
	resp, body = do(t, "GET", u, nil, "If-None-Match", tag)
	wantStatus(t, resp, body, 304, "")
	if len(body) != 0 || resp.Header.Get("ETag") != tag {
		t.Fatalf("304: body %q, ETag %q", body, resp.Header.Get("ETag"))
	}
	resp, _ = do(t, "HEAD", u, nil, "If-None-Match", `"other", `+tag)
	if resp.StatusCode != 304 {
		t.Fatalf("HEAD If-None-Match with a list: %d", resp.StatusCode)
	}
	resp, body = do(t, "GET", u, nil, "If-None-Match", "W/"+tag)
	wantStatus(t, resp, body, 304, "") // If-None-Match compares weakly (RFC 9110)
	resp, body = do(t, "GET", u, nil, "If-Match", "W/"+tag)
	wantStatus(t, resp, body, 412, "Precondition Failed") // If-Match compares strongly

	do(t, "PUT", u, strings.NewReader("version two"))
	resp, body = do(t, "GET", u, nil, "If-None-Match", tag)
	wantStatus(t, resp, body, 200, "")
	if string(body) != "version two" || resp.Header.Get("ETag") == tag {
		t.Fatalf("after a new PUT: %q, ETag %q (was %q)", body, resp.Header.Get("ETag"), tag)
	}
	// The same bytes under another key have the same tag.
	do(t, "PUT", keyURL(srv, "k2"), strings.NewReader("version two"))
	resp2, _ := do(t, "GET", keyURL(srv, "k2"), nil)
	if resp2.Header.Get("ETag") != resp.Header.Get("ETag") {
		t.Fatalf("same bytes, tags %q and %q", resp2.Header.Get("ETag"), resp.Header.Get("ETag"))
	}
}

func TestRange(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	const value = "0123456789abcdefghij" // 20 bytes
	u := keyURL(srv, "r")
	do(t, "PUT", u, strings.NewReader(value))
	resp, _ := do(t, "GET", u, nil)
	tag := resp.Header.Get("ETag")
	for _, c := range []struct {
		rng, ifRange string
		status       int
		body, cr     string
	}{
		{"bytes=0-4", "", 206, "01234", "bytes 0-4/20"},
		{"bytes=5-", "", 206, value[5:], "bytes 5-19/20"},
		{"bytes=-3", "", 206, "hij", "bytes 17-19/20"},
		{"bytes=-100", "", 206, value, "bytes 0-19/20"},
		{"bytes=15-100", "", 206, value[15:], "bytes 15-19/20"},
		{"bytes=19-19", "", 206, "j", "bytes 19-19/20"},
		{"bytes=20-", "", 416, "", "bytes */20"},
		{"bytes=25-30", "", 416, "", "bytes */20"},
		{"bytes=5-2", "", 416, "", "bytes */20"},
		{"bytes=-0", "", 416, "", "bytes */20"},
		{"bytes=-0,-2", "", 206, "ij", "bytes 18-19/20"},
		{"bytes=-00, 0-0", "", 206, "0", "bytes 0-0/20"},
		{"bytes=x-y", "", 416, "", "bytes */20"},
		{"lines=1-2", "", 200, value, ""}, // another unit: ignored (RFC 9110 §14.2)
		{"Bytes=1-2", "", 206, "12", "bytes 1-2/20"},
		{"bytes=-0", `"stale"`, 200, value, ""}, // a false If-Range: the Range is ignored
		{"bytes=0-4", tag, 206, "01234", "bytes 0-4/20"},
		{"bytes=0-4", `"stale"`, 200, value, ""},
	} {
		hdr := []string{"Range", c.rng}
		if c.ifRange != "" {
			hdr = append(hdr, "If-Range", c.ifRange)
		}
		resp, body := do(t, "GET", u, nil, hdr...)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Range") != c.cr {
			t.Errorf("Range %q If-Range %q: %d, Content-Range %q; want %d, %q", c.rng, c.ifRange, resp.StatusCode,
				resp.Header.Get("Content-Range"), c.status, c.cr)
		}
		if c.status == 416 {
			wantStatus(t, resp, body, 416, "range")
		} else if string(body) != c.body {
			t.Errorf("Range %q: body %q, want %q", c.rng, body, c.body)
		}
	}
	// Two ranges: a multipart/byteranges reply.
	resp, body := do(t, "GET", u, nil, "Range", "bytes=0-1,18-19")
	if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") ||
		!strings.Contains(string(body), "\r\n01\r\n") || !strings.Contains(string(body), "\r\nij\r\n") {
		t.Fatalf("two ranges: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// An empty value: net/http ignores a range of it (some clients send
	// one with every request) and answers 200.
	do(t, "PUT", keyURL(srv, "empty"), strings.NewReader(""))
	resp, body = do(t, "GET", keyURL(srv, "empty"), nil)
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("empty value: %d %q", resp.StatusCode, body)
	}
	resp, _ = do(t, "GET", keyURL(srv, "empty"), nil, "Range", "bytes=0-")
	if resp.StatusCode != 200 {
		t.Fatalf("range of an empty value: %d", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{MaxBodyBytes: 1000})
	// With a Content-Length over the limit: refused before the body is read.
	resp, body := do(t, "PUT", keyURL(srv, "big"), strings.NewReader(strings.Repeat("x", 1001)))
	wantStatus(t, resp, body, 413, "Content-Length 1001 is over the limit of 1000 bytes")
	// Chunked, without a length: refused once the limit is passed.
	resp, body = do(t, "PUT", keyURL(srv, "big"), io.MultiReader(strings.NewReader(strings.Repeat("x", 1001))))
	wantStatus(t, resp, body, 413, "over the limit of 1000 bytes")
	resp, body = do(t, "PUT", keyURL(srv, "array"), io.MultiReader(strings.NewReader(strings.Repeat("x", 5000))))
	wantStatus(t, resp, body, 413, "over the limit")
	if _, err := m.Retrieve("big"); err == nil {
		t.Fatal("a refused PUT stored its value")
	}
	// At the limit, chunked and not.
	resp, body = do(t, "PUT", keyURL(srv, "fits"), strings.NewReader(strings.Repeat("y", 1000)))
	wantStatus(t, resp, body, http.StatusCreated, "")
	resp, body = do(t, "PUT", keyURL(srv, "fits2"), io.MultiReader(strings.NewReader(strings.Repeat("y", 1000))))
	wantStatus(t, resp, body, http.StatusCreated, "")
	if v, err := m.Retrieve("fits2"); err != nil || len(v) != 1000 {
		t.Fatalf("chunked PUT at the limit: %d bytes, %v", len(v), err)
	}
}

// pattern is a reader of n bytes of a repeating pattern: a large body
// without a large buffer.
type pattern struct{ off, n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 7 / 5)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func TestPut64MiB(t *testing.T) {
	const n = 64 << 20
	m, srv := newServer(t, nil, web.Config{})
	want := sha256.New()
	io.Copy(want, &pattern{n: n})
	for _, chunked := range []bool{false, true} {
		req, _ := http.NewRequest("PUT", keyURL(srv, "big")+"?tier=warm", &pattern{n: n})
		if chunked {
			req.ContentLength = -1
		} else {
			req.ContentLength = n
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
			t.Fatalf("64 MiB PUT (chunked %v): %d", chunked, resp.StatusCode)
		}
		if tr, _ := m.Tier("big"); tr != tiermem.Warm {
			t.Fatalf("64 MiB PUT ?tier=warm: in %v", tr)
		}
		resp, err = http.Get(keyURL(srv, "big"))
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.New()
		nr, err := io.Copy(got, resp.Body)
		resp.Body.Close()
		if err != nil || nr != n || string(got.Sum(nil)) != string(want.Sum(nil)) {
			t.Fatalf("64 MiB GET: %d bytes, %v, digest differs: %v", nr, err, string(got.Sum(nil)) != string(want.Sum(nil)))
		}
	}
}

// TestPutBuffersOnce checks that a PUT with a Content-Length reads its
// body once into a buffer of its size: into the warm tier (off the Go
// heap), a 64 MiB PUT allocates about 64 MiB of Go memory, not twice that.
func TestPutBuffersOnce(t *testing.T) {
	const n = 64 << 20
	_, srv := newServer(t, nil, web.Config{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest("PUT", keyURL(srv, "big")+"?tier=warm", &pattern{n: n})
	req.ContentLength = n
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a 64 MiB PUT into warm allocated %.1f MiB of Go memory", float64(alloc)/(1<<20))
	if alloc > n+n/4 {
		t.Fatalf("a 64 MiB PUT allocated %d bytes: the body was buffered more than once", alloc)
	}
}

func TestCutBody(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	req, _ := http.NewRequest("PUT", keyURL(srv, "cut"), io.LimitReader(&pattern{n: 1 << 20}, 1000))
	req.ContentLength = 1 << 20 // a promise the body breaks
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Logf("cut body: %d", resp.StatusCode)
	}
	if _, err := m.Retrieve("cut"); err == nil {
		t.Fatal("a body shorter than its Content-Length was stored")
	}
}

func TestNoSpace(t *testing.T) {
	opts := &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 2 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true},
		MigrateInterval: -1, KeepMemoryLimit: true,
	}
	_, srv := newServer(t, opts, web.Config{})
	resp, body := do(t, "PUT", keyURL(srv, "huge"), &pattern{n: 4 << 20}, "Content-Type", "x")
	wantStatus(t, resp, body, 413, "too large")
	for i := 0; ; i++ {
		value := make([]byte, 300<<10)
		rand.Read(value) // incompressible: cold's zstd does not shrink it
		resp, body := do(t, "PUT", keyURL(srv, fmt.Sprint("v", i)), bytes.NewReader(value))
		if resp.StatusCode == 507 {
			wantStatus(t, resp, body, 507, "no space")
			break
		}
		wantStatus(t, resp, body, http.StatusCreated, "")
		if i > 100 {
			t.Fatal("100 PUTs of 300 KiB fit 4 MiB of budgets")
		}
	}
	// Usage shows three tiers: glacier is disabled.
	var u struct{ Tiers []struct{ Tier string } }
	_, body = do(t, "GET", srv.URL+"/v1/usage", nil)
	if err := jsonUnmarshal(body, &u); err != nil || len(u.Tiers) != 3 {
		t.Fatalf("usage without glacier: %s, %v", body, err)
	}
}

func TestClosed(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	resp, body := do(t, "GET", srv.URL+"/readyz", nil)
	wantStatus(t, resp, body, 200, "")
	do(t, "PUT", keyURL(srv, "k"), strings.NewReader("v"))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, "GET", keyURL(srv, "k"), nil)
	wantStatus(t, resp, body, 503, "closed")
	resp, body = do(t, "PUT", keyURL(srv, "k"), strings.NewReader("v"))
	wantStatus(t, resp, body, 503, "closed")
	resp, body = do(t, "GET", srv.URL+"/readyz", nil)
	wantStatus(t, resp, body, 503, "not ready")
	resp, body = do(t, "GET", srv.URL+"/healthz", nil)
	wantStatus(t, resp, body, 200, "")
}

func TestAuth(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{Password: "s3cret"})
	for _, path := range []string{"/v1/keys/k", "/v1/arrays/k", "/v1/usage", "/v1/stats", "/v1/analytics", "/metrics", "/debug/pprof/", "/", "/nowhere"} {
		resp, body := do(t, "GET", srv.URL+path, nil)
		wantStatus(t, resp, body, 401, "needs the password")
		if got := resp.Header.Values("WWW-Authenticate"); len(got) != 2 || !strings.HasPrefix(got[0], "Basic realm=") || !strings.HasPrefix(got[1], "Bearer realm=") {
			t.Fatalf("%s: WWW-Authenticate %q", path, got)
		}
	}
	start := time.Now()
	for _, auth := range []string{"Bearer wrong", "Bearer s3cret2", "Basic " + basic("u", "wrong"), "Basic !!!", "Digest s3cret", "s3cret", "Bearer"} {
		resp, body := do(t, "GET", srv.URL+"/v1/usage", nil, "Authorization", auth)
		wantStatus(t, resp, body, 401, "")
	}
	if d := time.Since(start); d < 6*web.FailedAuthDelay {
		t.Fatalf("7 wrong passwords answered in %v: not slowed down", d)
	}
	for _, auth := range []string{"Bearer s3cret", "bearer s3cret", "Basic " + basic("", "s3cret"), "Basic " + basic("admin", "s3cret")} {
		resp, body := do(t, "PUT", keyURL(srv, "k"), strings.NewReader("v"), "Authorization", auth)
		wantWritten(t, resp, body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := do(t, "GET", srv.URL+path, nil)
		wantStatus(t, resp, body, 200, "")
	}
}

func basic(user, password string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestConcurrent(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	const workers, rounds, keys = 16, 60, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				key := fmt.Sprintf("key-%d", (w+i)%keys)
				u := keyURL(srv, key)
				var req *http.Request
				switch i % 3 {
				case 0:
					// Every value of a key is its name repeated: a GET can check it.
					req, _ = http.NewRequest("PUT", u, strings.NewReader(strings.Repeat(key, 1+i%50)))
				case 1:
					req, _ = http.NewRequest("GET", u, nil)
				case 2:
					req, _ = http.NewRequest("DELETE", u, nil)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				ok := map[int]bool{0: resp.StatusCode == 201 || resp.StatusCode == 204, 1: resp.StatusCode == 404 || resp.StatusCode == 200, 2: resp.StatusCode == 204 || resp.StatusCode == 404}[i%3]
				if resp.StatusCode == 200 && (len(body) == 0 || strings.ReplaceAll(string(body), key, "") != "") {
					errs <- fmt.Errorf("GET %s: %q is not a value of it", key, body)
					return
				}
				if !ok {
					errs <- fmt.Errorf("%s %s: %d %s", req.Method, key, resp.StatusCode, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every key left is whole.
	for k := range keys {
		key := fmt.Sprintf("key-%d", k)
		if v, err := m.Retrieve(key); err == nil && strings.ReplaceAll(string(v), key, "") != "" {
			t.Errorf("%s holds %q", key, v)
		}
	}
}
