package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// testOptions are small budgets and no background migration.
func testOptions() *tiermem.Options {
	return &tiermem.Options{
		Hot:             tiermem.TierOptions{Size: 256 << 20},
		Warm:            tiermem.TierOptions{Size: 128 << 20},
		Cold:            tiermem.TierOptions{Size: 512 << 20},
		MigrateInterval: -1,
		KeepMemoryLimit: true,
	}
}

// newServer opens a Manager and serves it; both close at the test's end.
func newServer(t testing.TB, opts *tiermem.Options, cfg web.Config) (*tiermem.Manager, *httptest.Server) {
	t.Helper()
	if opts == nil {
		opts = testOptions()
	}
	m, err := tiermem.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h, err := web.New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return m, srv
}

// do sends one request and returns the response with its body read.
func do(t testing.TB, method, url string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// wantStatus fails the test unless resp has status want; for an error
// status it also checks the JSON body and that its message contains msg.
// wantWritten fails the test unless a PUT succeeded: 201 when it created
// the key's value, 204 when it replaced one.
func wantWritten(t testing.TB, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%s %s: status %d, want 201 or 204; body %q", resp.Request.Method, resp.Request.URL, resp.StatusCode, body)
	}
}

func wantStatus(t testing.TB, resp *http.Response, body []byte, want int, msg string) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %q", resp.Request.Method, resp.Request.URL, resp.StatusCode, want, body)
	}
	if want < 400 || resp.Request.Method == http.MethodHead {
		return
	}
	var e struct {
		Error  string
		Status int
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%s %s: error body %q is not JSON: %v", resp.Request.Method, resp.Request.URL, body, err)
	}
	if e.Status != want || !strings.Contains(e.Error, msg) {
		t.Fatalf("%s %s: error body %+v, want status %d and a message containing %q", resp.Request.Method, resp.Request.URL, e, want, msg)
	}
}

func keyURL(srv *httptest.Server, key string) string {
	return srv.URL + "/v1/keys/" + url.PathEscape(key)
}

func TestKeyPutGetDelete(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	u := keyURL(srv, "greeting")
	resp, body := do(t, "GET", u, nil)
	wantStatus(t, resp, body, 404, "not found")

	resp, body = do(t, "PUT", u, strings.NewReader("hello, tiers"))
	wantStatus(t, resp, body, http.StatusCreated, "")
	if v, err := m.Retrieve("greeting"); err != nil || string(v) != "hello, tiers" {
		t.Fatalf("Retrieve after PUT: %q, %v", v, err)
	}

	resp, body = do(t, "GET", u, nil)
	wantStatus(t, resp, body, 200, "")
	if string(body) != "hello, tiers" || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("GET: %q, Content-Type %q", body, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Content-Length") != "12" || resp.Header.Get("Accept-Ranges") != "bytes" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Fatalf("GET headers: %v", resp.Header)
	}

	resp, body = do(t, "HEAD", u, nil)
	wantStatus(t, resp, body, 200, "")
	if len(body) != 0 || resp.Header.Get("Content-Length") != "12" || resp.Header.Get("ETag") == "" {
		t.Fatalf("HEAD: body %q, headers %v", body, resp.Header)
	}

	resp, body = do(t, "DELETE", u, nil)
	wantStatus(t, resp, body, 204, "")
	resp, body = do(t, "DELETE", u, nil)
	wantStatus(t, resp, body, 404, "not found")
	resp, body = do(t, "HEAD", u, nil)
	wantStatus(t, resp, body, 404, "")

	resp, body = do(t, "POST", u, nil)
	wantStatus(t, resp, body, 405, "method POST")
	if resp.Header.Get("Allow") != "GET, HEAD, PUT, DELETE" {
		t.Fatalf("405 Allow: %q", resp.Header.Get("Allow"))
	}
}

func TestKeyNames(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	for _, key := range []string{"a/b", "a//b", "../x", "./", "..", "with space", "ü-ñ", "\x00\xff\x01", "%41", "?q=1#frag",
		"<img src=x onerror=alert(1)>", strings.Repeat("k", 65535)} {
		value := "value of " + key
		resp, body := do(t, "PUT", keyURL(srv, key), strings.NewReader(value))
		wantStatus(t, resp, body, http.StatusCreated, "")
		if v, err := m.Retrieve(key); err != nil || string(v) != value {
			t.Fatalf("key %q: Retrieve %q, %v", key, v, err)
		}
		resp, body = do(t, "GET", keyURL(srv, key), nil)
		wantStatus(t, resp, body, 200, "")
		if string(body) != value {
			t.Fatalf("key %q: GET %q", key, body)
		}
	}
	// An unescaped slash is part of the key too.
	resp, body := do(t, "GET", srv.URL+"/v1/keys/a/b", nil)
	wantStatus(t, resp, body, 200, "")
	if string(body) != "value of a/b" {
		t.Fatalf("GET /v1/keys/a/b: %q", body)
	}
}

func TestBadInput(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	long := strings.Repeat("k", 65536)
	for _, c := range []struct {
		method, path string
		status       int
		msg          string
	}{
		{"PUT", "/v1/keys/", 400, "empty key"},
		{"GET", "/v1/keys/", 400, "empty key"},
		{"GET", "/v1/keys/" + long, 400, "65536 bytes long"},
		{"PUT", "/v1/keys/k?tier=lukewarm", 400, `tier "lukewarm"`},
		{"PUT", "/v1/keys/k?ttl=soon", 400, `ttl "soon"`},
		{"PUT", "/v1/keys/k?ttl=-5s", 400, "must be positive"},
		{"PUT", "/v1/keys/k?ttl=0", 400, "must be positive"},
		{"PUT", "/v1/keys/k?pin=maybe", 400, `pin "maybe"`},
		{"PUT", "/v1/keys/k?colour=blue", 400, `unknown parameter "colour"`},
		{"PUT", "/v1/keys/k?tier=%zz", 400, "query"},
		{"GET", "/v1/analytics?since=yesterday", 400, `since "yesterday"`},
		{"GET", "/v1/nothing", 404, "no such path"},
		{"PUT", "/v1/arrays/a", 400, "magic"},
		{"DELETE", "/v1/arrays/a", 405, "method DELETE"},
	} {
		resp, body := do(t, c.method, srv.URL+c.path, strings.NewReader(""))
		wantStatus(t, resp, body, c.status, c.msg)
	}
	// A bad escape: net/http refuses the request line before the handler.
	req := &http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: srv.Listener.Addr().String(), Opaque: "/v1/keys/a%zz"}, Header: http.Header{}}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("GET /v1/keys/a%%zz: %d", resp.StatusCode)
	}
}

func TestPutTierTTLPin(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier} {
		key := "in-" + tr.String()
		resp, body := do(t, "PUT", keyURL(srv, key)+"?tier="+strings.ToUpper(tr.String()), strings.NewReader(key))
		wantStatus(t, resp, body, http.StatusCreated, "")
		if got, err := m.Tier(key); err != nil || got != tr {
			t.Fatalf("PUT ?tier=%s: Tier %v, %v", tr, got, err)
		}
		resp, body = do(t, "GET", keyURL(srv, key), nil)
		wantStatus(t, resp, body, 200, "")
		if string(body) != key {
			t.Fatalf("GET from %s: %q", tr, body)
		}
	}
	resp, body := do(t, "PUT", keyURL(srv, "brief")+"?ttl=150ms", strings.NewReader("x"))
	wantStatus(t, resp, body, http.StatusCreated, "")
	resp, body = do(t, "PUT", keyURL(srv, "long")+"?ttl=3600&pin=true&tier=warm", strings.NewReader("y"))
	wantStatus(t, resp, body, http.StatusCreated, "")
	if exp, err := m.ExpireTime("long"); err != nil || time.Until(exp) < 59*time.Minute || time.Until(exp) > time.Hour {
		t.Fatalf("?ttl=3600: expires %v, %v", exp, err)
	}
	if pinned, err := m.IsPinned("long"); err != nil || !pinned {
		t.Fatalf("?pin=true: IsPinned %v, %v", pinned, err)
	}
	resp, body = do(t, "PUT", keyURL(srv, "short")+"?ttl=90m&pin=false", strings.NewReader("z"))
	wantStatus(t, resp, body, http.StatusCreated, "")
	if exp, err := m.ExpireTime("short"); err != nil || time.Until(exp) < 89*time.Minute || time.Until(exp) > 90*time.Minute {
		t.Fatalf("?ttl=90m: expires %v, %v", exp, err)
	}
	if pinned, err := m.IsPinned("short"); err != nil || pinned {
		t.Fatalf("?pin=false: IsPinned %v, %v", pinned, err)
	}
	resp, body = do(t, "GET", keyURL(srv, "long"), nil)
	wantStatus(t, resp, body, 200, "")
	time.Sleep(300 * time.Millisecond)
	resp, body = do(t, "GET", keyURL(srv, "brief"), nil)
	wantStatus(t, resp, body, 404, "not found")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func newTestServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newRequest(method, url string, body io.Reader) (*http.Request, error) {
	return http.NewRequest(method, url, body)
}
