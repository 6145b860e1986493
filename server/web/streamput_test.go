package web_test

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// blockReader repeats block for n bytes: cheap to make, not compressible
// within a block.
type blockReader struct {
	block []byte
	off   int64
	n     int64
}

func randomBlock() []byte {
	b := make([]byte, 64<<10)
	rand.Read(b)
	return b
}

func (r *blockReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := 0; i < len(p); {
		i += copy(p[i:], r.block[(r.off+int64(i))%int64(len(r.block)):])
	}
	r.off += int64(len(p))
	return len(p), nil
}

// TestPutStreamed256MiB PUTs 256 MiB into the cold tier through the
// handler: the process allocates a few MiB of Go memory for it (client,
// server and Manager together), not 256, and the value reads back whole.
func TestPutStreamed256MiB(t *testing.T) {
	const n = 256 << 20
	m, srv := newServer(t, nil, web.Config{})
	block := randomBlock()
	want := sha256.New()
	io.Copy(want, &blockReader{block: block, n: n})
	req, err := http.NewRequest(http.MethodPut, keyURL(srv, "big")+"?tier=cold", &blockReader{block: block, n: n})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = n
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT of 256 MiB: %s", resp.Status)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("PUT of %d MiB into cold: %.2f MiB of Go memory allocated", n>>20, float64(alloc)/(1<<20))
	if alloc > 16<<20 {
		t.Errorf("PUT of %d MiB allocated %.1f MiB", n>>20, float64(alloc)/(1<<20))
	}
	got := sha256.New()
	if err := m.View("big", func(v []byte) error { got.Write(v); return nil }); err != nil {
		t.Fatal(err)
	}
	if string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Error("the value read back differs")
	}
	if tr, _ := m.Tier("big"); tr != tiermem.Cold {
		t.Errorf("big is in %v", tr)
	}
}

// rawPut sends a PUT's head with Content-Length n and the first part
// bytes of its body on a new connection, and returns the connection.
func rawPut(t *testing.T, srv *httptest.Server, key string, n, part int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "PUT /v1/keys/%s?tier=cold HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", key, n)
	if _, err := io.Copy(c, &blockReader{block: randomBlock(), n: int64(part)}); err != nil {
		t.Fatal(err)
	}
	return c
}

// readStatus reads the status line of the reply on c.
func readStatus(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("reading the reply: %v", err)
	}
	return strings.TrimSpace(line)
}

// openServed opens a Manager in dir and serves it.
func openServed(t *testing.T, dir string) (*tiermem.Manager, *httptest.Server) {
	t.Helper()
	m, err := tiermem.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return m, newTestServer(t, h)
}

func noStagedFiles(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "cold", "*.tmp"))
	if len(left) > 0 {
		t.Errorf("staging files left: %q", left)
	}
}

// TestPutStreamedShort: a body shorter than its Content-Length (the
// client stops sending) is a 400 and stores nothing; the key keeps its
// value.
func TestPutStreamedShort(t *testing.T) {
	dir := t.TempDir()
	m, srv := openServed(t, dir)
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Cold)))
	c := rawPut(t, srv, "k", 4<<20, 1<<20)
	c.(*net.TCPConn).CloseWrite()
	if status := readStatus(t, c); !strings.Contains(status, "400") {
		t.Errorf("a cut body: %q", status)
	}
	if v, err := m.Retrieve("k"); err != nil || string(v) != "old" {
		t.Errorf("k after a cut body: %q, %v", v, err)
	}
	noStagedFiles(t, dir)
}

// TestPutStreamedClose: the Manager closes while a large PUT is being
// received: Close does not wait for the client, the PUT ends with 503,
// and nothing of it is stored.
func TestPutStreamedClose(t *testing.T) {
	dir := t.TempDir()
	m, srv := openServed(t, dir)
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Cold)))
	c := rawPut(t, srv, "k", 8<<20, 2<<20)
	time.Sleep(100 * time.Millisecond) // the handler is reading the body
	closed := make(chan error)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		must(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Close waits for a slow PUT")
	}
	if _, err := io.Copy(c, &blockReader{block: randomBlock(), n: 6 << 20}); err != nil {
		t.Fatal(err)
	}
	if status := readStatus(t, c); !strings.Contains(status, "503") {
		t.Errorf("a PUT across Close: %q", status)
	}
	noStagedFiles(t, dir)
	m2, err := tiermem.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if v, err := m2.Retrieve("k"); err != nil || string(v) != "old" {
		t.Errorf("k after the reopen: %q, %v", v, err)
	}
}
