package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/server/web"
)

// hostileStagedFiles lists the files under dir whose name ends in .tmp: the
// staging files a streamed PUT leaves if it does not clean up.
func hostileStagedFiles(dir string) []string {
	var left []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tmp") {
			left = append(left, p)
		}
		return nil
	})
	return left
}

// hostileSettled waits until no tier holds room for a stream and every tier's
// used bytes are back to want, and fails the test with what is left.
func hostileSettled(t *testing.T, m *tiermem.Manager, want tiermem.Usage, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u := m.Usage()
		ok := true
		for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
			if u[tr].Streaming != 0 || u[tr].Used != want[tr].Used || u[tr].Items != want[tr].Items {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
				t.Errorf("%s: %s used %d (want %d), items %d (want %d), streaming %d (want 0)", what, tr,
					u[tr].Used, want[tr].Used, u[tr].Items, want[tr].Items, u[tr].Streaming)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHostileDisconnectMidPutLeaksNothing: a client that announces a large
// body (or sends one in chunks), sends part of it and then drops the
// connection, into each tier: while the body comes, GET and HEAD see the
// old value, never part of the new one; once it is gone, the key keeps
// its old value, no tier's budget keeps room for the lost stream, and no
// staging file is left. (Passing: TestPutStreamedShort covers a cut body
// into the cold tier only, with a half-closed connection.)
func TestHostileDisconnectMidPutLeaksNothing(t *testing.T) {
	for _, c := range []struct {
		name    string
		query   string
		chunked bool
	}{
		{"sized hot", "?tier=hot", false},
		{"sized warm", "?tier=warm", false},
		{"sized cold", "?tier=cold", false},
		{"sized glacier", "?tier=glacier", false},
		{"sized auto", "", false},
		{"chunked hot", "?tier=hot", true},
		{"chunked warm", "?tier=warm", true},
		{"chunked glacier", "?tier=glacier", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			m, srv := openServed(t, dir)
			must(t, m.Store("k", []byte("old")))
			before := m.Usage()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			block := randomBlock()
			if c.chunked {
				fmt.Fprintf(conn, "PUT /v1/keys/k%s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n", c.query)
			} else {
				fmt.Fprintf(conn, "PUT /v1/keys/k%s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", c.query, 8<<20)
			}
			for i := range 32 { // 2 MiB of the 8 (or of a chunked body without its last chunk)
				if c.chunked {
					fmt.Fprintf(conn, "%x\r\n", len(block))
				}
				conn.Write(block)
				if c.chunked {
					io.WriteString(conn, "\r\n")
				}
				if i%8 == 7 {
					for _, method := range []string{"GET", "HEAD"} {
						resp, body := do(t, method, keyURL(srv, "k"), nil)
						if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != "3" || method == "GET" && string(body) != "old" {
							t.Errorf("%s while the PUT's body comes: %d, Content-Length %s, %d bytes", method, resp.StatusCode, resp.Header.Get("Content-Length"), len(body))
						}
					}
				}
			}
			time.Sleep(100 * time.Millisecond) // the handler is reading the body
			conn.Close()
			hostileSettled(t, m, before, "after the client went away")
			if v, err := m.Retrieve("k"); err != nil || string(v) != "old" {
				t.Errorf("k after the client went away: %q, %v", v, err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(hostileStagedFiles(dir)) > 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if left := hostileStagedFiles(dir); len(left) > 0 {
				t.Errorf("staging files left 5 s after the client went away: %q", left)
			}
		})
	}
}

// TestHostileCloseDuringTraffic: PUTs (sized, chunked, conditional, of
// arrays), GETs (whole and multi-range), HEADs and DELETEs of one key, and
// the dashboard's JSON endpoints and /metrics, from many clients while the
// Manager closes: nothing panics or races, a GET serves only bytes some
// PUT stored, and every reply is one the API documents for these requests
// (a 503 once closed), never a 500. (Passing: TestPutStreamedClose and
// TestConcurrent cover one PUT across Close, and traffic without Close.)
func TestHostileCloseDuringTraffic(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	small := []byte("small value")
	large := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // 256 KiB: streamed
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := map[string]int{}
	stop := make(chan struct{})
	client := srv.Client()
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var req *http.Request
				switch (w + i) % 11 {
				case 6:
					req, _ = http.NewRequest("PUT", srv.URL+"/v1/arrays/k", bytes.NewReader(npyFile("|u1", "(3,)", []byte{1, 2, 3})))
				case 7:
					req, _ = http.NewRequest("GET", srv.URL+"/v1/arrays/k", nil)
				case 8:
					req, _ = http.NewRequest("PUT", keyURL(srv, "k"), bytes.NewReader(small))
					req.Header.Set("If-None-Match", "*")
				case 9:
					req, _ = http.NewRequest("GET", srv.URL+[]string{"/v1/usage", "/v1/stats", "/v1/biggest", "/metrics", "/readyz", "/v1/analytics"}[i%6], nil)
				case 10:
					req, _ = http.NewRequest("PUT", keyURL(srv, "k")+"?tier=warm", io.MultiReader(bytes.NewReader(large)))
				case 0:
					req, _ = http.NewRequest("PUT", keyURL(srv, "k")+"?tier=cold", bytes.NewReader(large))
				case 1:
					req, _ = http.NewRequest("PUT", keyURL(srv, "k"), bytes.NewReader(small))
				case 2:
					req, _ = http.NewRequest("DELETE", keyURL(srv, "k"), nil)
				case 3:
					req, _ = http.NewRequest("HEAD", keyURL(srv, "k"), nil)
				case 4:
					req, _ = http.NewRequest("GET", keyURL(srv, "k"), nil)
					req.Header.Set("Range", "bytes=1-5,10-20")
				default:
					req, _ = http.NewRequest("GET", keyURL(srv, "k"), nil)
				}
				resp, err := client.Do(req)
				if err != nil {
					continue // a reply cut by design counts as none
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				wrong := req.Method == "GET" && req.Header.Get("Range") == "" && strings.HasPrefix(req.URL.Path, "/v1/keys/") &&
					resp.StatusCode == 200 && !bytes.Equal(b, small) && !bytes.Equal(b, large) && !bytes.Equal(b, []byte{1, 2, 3})
				switch {
				case wrong:
					mu.Lock()
					bad[fmt.Sprintf("GET: 200 with %d bytes that no PUT stored", len(b))]++
					mu.Unlock()
				case resp.StatusCode == 200, resp.StatusCode == 201, resp.StatusCode == 204, resp.StatusCode == 206,
					resp.StatusCode == 404, resp.StatusCode == 409, resp.StatusCode == 412, resp.StatusCode == 503:
				default:
					mu.Lock()
					bad[fmt.Sprintf("%s %d %.200s", req.Method, resp.StatusCode, b)]++
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	for what, n := range bad {
		t.Errorf("%d× %s", n, what)
	}
}

// TestHostileFullDiskPut: PUTs into the cold tier of a Manager whose disk
// is full (a small tmpfs), with a Content-Length and in chunks (staged on
// that disk): each is a 507 (the docs: "507 when no tier has room"), the
// key keeps its old value, no staging file is left and no budget is held;
// once the disk has room again, the same PUT lands. (Passing: no other
// test of this package fills a disk.)
func TestHostileFullDiskPut(t *testing.T) {
	dir := tmpfs.Mount(t, "6m")
	opts := testOptions()
	opts.Glacier.Disabled = true
	m, err := tiermem.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, h)
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Cold)))
	before := m.Usage()
	block := randomBlock()
	for _, chunked := range []bool{false, true} {
		req, err := http.NewRequest("PUT", keyURL(srv, "k")+"?tier=cold", &blockReader{block: block, n: 16 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if !chunked {
			req.ContentLength = 16 << 20
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("chunked %v: %v", chunked, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInsufficientStorage {
			t.Errorf("PUT of 16 MiB onto a 6 MiB disk (chunked %v): %d %s, want 507", chunked, resp.StatusCode, body)
		}
		hostileSettled(t, m, before, fmt.Sprintf("after a PUT on a full disk (chunked %v)", chunked))
		if v, err := m.Retrieve("k"); err != nil || string(v) != "old" {
			t.Errorf("k after a PUT on a full disk (chunked %v): %q, %v", chunked, v, err)
		}
		if left := hostileStagedFiles(dir); len(left) > 0 {
			t.Errorf("staging files left (chunked %v): %q", chunked, left)
		}
	}
	tmpfs.Grow(t, dir, "64m")
	resp, body := do(t, "PUT", keyURL(srv, "k")+"?tier=cold", &blockReader{block: block, n: 16 << 20})
	wantWritten(t, resp, body)
}

// TestHostileSuffixRangeOfEmptyValue: a GET of an empty value with a
// suffix Range ("the last 10 bytes", as a client tailing a value sends)
// must not be a 206 whose Content-Range is "bytes 0--1/0": that is no
// byte-range a client can parse (RFC 9110 §14.4: last-pos is at least
// first-pos). http_test.go's TestRange states the stance for an empty
// value (a Range is ignored, 200); a 416 would do too. In every tier.
func TestHostileSuffixRangeOfEmptyValue(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		must(t, m.Store("empty-"+tr.String(), nil, tiermem.InTier(tr)))
		for _, method := range []string{"GET", "HEAD"} {
			for _, rng := range []string{"bytes=-10", "bytes=-0,-5"} {
				resp, body := do(t, method, keyURL(srv, "empty-"+tr.String()), nil, "Range", rng)
				cr := resp.Header.Get("Content-Range")
				if resp.StatusCode == http.StatusPartialContent || strings.Contains(cr, "--") {
					t.Errorf("%s of an empty %s value, Range %q: %d, Content-Range %q, body %q; want 200 (or 416 with bytes */0)",
						method, tr, rng, resp.StatusCode, cr, body)
				}
			}
		}
	}
}

// TestHostileBiggestPathOfDotKeys: /v1/biggest lists each key with "the
// key's /v1/keys/ path, percent-escaped", which the dashboard shows and a
// client follows. Keys "." and ".." are keys like any other (doc.go), but
// their listed paths "/v1/keys/." and "/v1/keys/.." are dot segments: any
// client that resolves the path as a URL reference (RFC 3986 §5.2.4, as
// browsers, curl and url.URL.ResolveReference do) requests /v1/keys/ or
// /v1/ instead, never the key.
func TestHostileBiggestPathOfDotKeys(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	for _, key := range []string{".", ".."} {
		must(t, m.Store(key, []byte("value of "+key)))
	}
	resp, body := do(t, http.MethodGet, srv.URL+"/v1/biggest", nil)
	wantStatus(t, resp, body, http.StatusOK, "")
	var b biggestBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, tb := range b.Tiers {
		for _, k := range tb.Keys {
			listed++
			ref, err := url.Parse(k.Path)
			if err != nil {
				t.Errorf("key %q: path %q: %v", k.Key, k.Path, err)
				continue
			}
			u := base.ResolveReference(ref).String()
			resp, got := do(t, http.MethodGet, u, nil)
			if resp.StatusCode != http.StatusOK || string(got) != "value of "+k.Key {
				t.Errorf("key %q: its listed path %q resolves to %s: %d %q", k.Key, k.Path, u, resp.StatusCode, got)
			}
		}
	}
	if listed != 2 {
		t.Fatalf("%d keys listed: %s", listed, body)
	}
}

// TestHostileCreateOnlyPutReadsNoValue: a create-only PUT ("If-None-Match:
// *") of a key that holds a value fails on the key's existence alone
// (tiermem.Current: "a condition that asks only Found reads no value"),
// and a failed precondition "is a 412 that changes nothing" (doc.go). Yet
// the 412's message names the present value's ETag, so the handler opens
// and hashes the whole value to write it: a 32 MiB compressed cold value
// is decoded into memory for each such request (a cheap way to make the
// server allocate without bound), and a hot value's last use is reset, so
// that failed writes keep it from eviction as reads would.
func TestHostileCreateOnlyPutReadsNoValue(t *testing.T) {
	const n = 32 << 20
	m, srv := newServer(t, nil, web.Config{})
	must(t, m.Store("cold", bytes.Repeat([]byte("a compressible line of log\n"), n/27), tiermem.InTier(tiermem.Cold)))
	for _, method := range []string{"PUT", "DELETE"} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		resp, body := do(t, method, keyURL(srv, "cold"), strings.NewReader("new"), "If-None-Match", "*")
		runtime.ReadMemStats(&after)
		wantStatus(t, resp, body, http.StatusPreconditionFailed, "If-None-Match")
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Errorf("%s If-None-Match: * of a key holding a compressed %d MiB cold value: %.1f MiB allocated, want next to nothing",
				method, n>>20, float64(alloc)/(1<<20))
		}
	}

	must(t, m.Store("hot", []byte("an idle value"), tiermem.InTier(tiermem.Hot)))
	time.Sleep(300 * time.Millisecond)
	for _, method := range []string{"PUT", "DELETE"} {
		resp, body := do(t, method, keyURL(srv, "hot"), strings.NewReader("new"), "If-None-Match", "*")
		wantStatus(t, resp, body, http.StatusPreconditionFailed, "If-None-Match")
	}
	if idle, err := m.IdleTime("hot"); err != nil || idle < 250*time.Millisecond {
		t.Errorf("a hot key idle for 300 ms, after two failed create-only writes: IdleTime %v, %v; want at least 250 ms (a failed write is no use of the value)", idle, err)
	}
}

// TestHostileChunkedPutIntoMemoryTier: a PUT into the hot or the warm tier,
// which have room, lands when the client sends a Content-Length; the same
// body sent in chunks (curl -T -, requests with a generator, any client
// streaming from a pipe) is staged on the cold tier's disk first and so
// fails whenever the cold tier could not hold it, though the value never
// goes there: with the disk full, 507 "no space left" (the docs: 507
// "when no tier has room"); with a cold budget smaller than the memory
// tiers' (a large RAM cache before a small disk), 413 "more than the
// tier's whole budget" of the cold tier (the docs: 413 for "a value larger
// than its tier").
func TestHostileChunkedPutIntoMemoryTier(t *testing.T) {
	put := func(t *testing.T, m *tiermem.Manager, srv *httptest.Server, value []byte) {
		t.Helper()
		for _, tier := range []string{"hot", "warm"} {
			for _, chunked := range []bool{false, true} {
				var body io.Reader = bytes.NewReader(value)
				if chunked {
					body = io.MultiReader(body) // no length: sent in chunks
				}
				key := fmt.Sprintf("%s-chunked-%v", tier, chunked)
				resp, got := do(t, "PUT", keyURL(srv, key)+"?tier="+tier, body)
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("PUT of %d bytes into %s (chunked %v): %d %s, want 201", len(value), tier, chunked, resp.StatusCode, got)
					continue
				}
				if v, err := m.Retrieve(key); err != nil || !bytes.Equal(v, value) {
					t.Errorf("%s: Retrieve %d bytes, %v", key, len(v), err)
				}
			}
		}
	}
	t.Run("full disk", func(t *testing.T) {
		dir := tmpfs.Mount(t, "4m")
		opts := testOptions()
		opts.Glacier.Disabled = true
		m, err := tiermem.Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		h, err := web.New(m, web.Config{})
		if err != nil {
			t.Fatal(err)
		}
		srv := newTestServer(t, h)
		tmpfs.Fill(t, dir)
		put(t, m, srv, bytes.Repeat([]byte("memory tiers have room "), 200<<10/23))
	})
	t.Run("small cold tier", func(t *testing.T) {
		opts := &tiermem.Options{
			Hot: tiermem.TierOptions{Size: 16 << 20}, Warm: tiermem.TierOptions{Size: 16 << 20},
			Cold: tiermem.TierOptions{Size: 2 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true},
			MigrateInterval: -1, KeepMemoryLimit: true,
		}
		m, srv := newServer(t, opts, web.Config{})
		put(t, m, srv, bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16))
	})
}

// TestHostileParallelWrongPasswordsTakeTurns: the pause after a wrong
// password (FailedAuthDelay) slows guessing; requests sent at once take
// turns, so 8 parallel guesses take at least as long as 8 in a row, while
// the right password is answered.
func TestHostileParallelWrongPasswordsTakeTurns(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{Password: "s3cret", Logger: slog.New(slog.DiscardHandler)})
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL+"/v1/usage", nil)
			req.Header.Set("Authorization", "Bearer wrong")
			if resp, err := srv.Client().Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	resp, body := do(t, "GET", srv.URL+"/v1/usage", nil, "Authorization", "Bearer s3cret")
	wantStatus(t, resp, body, 200, "")
	wg.Wait()
	if d := time.Since(start); d < 7*web.FailedAuthDelay {
		t.Errorf("8 wrong passwords sent at once answered in %v: guessing in parallel is not slowed", d)
	}
}
