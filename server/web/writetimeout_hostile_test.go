package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestHostileStalledDownloadLetsGoOfTheValue: a client that sends GET for
// a large hot value and never reads the reply held the handler in its
// write forever, and with it the value's memory once the key was
// replaced (Usage's Held), one value per stalled connection. With
// WriteTimeout, a piece of the reply not taken within it ends the
// request: the value is let go. Both ways a body is written are checked:
// whole (no Range) and through http.ServeContent (a Range).
func TestHostileStalledDownloadLetsGoOfTheValue(t *testing.T) {
	for _, rng := range []string{"", "bytes=0-"} {
		t.Run(fmt.Sprintf("range %q", rng), func(t *testing.T) {
			m, srv := newServer(t, nil, web.Config{WriteTimeout: 500 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
			value := bytes.Repeat([]byte{1}, 32<<20)
			if err := m.Store("big", value, tiermem.InTier(tiermem.Hot)); err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.(*net.TCPConn).SetReadBuffer(4 << 10)
			req := "GET /v1/keys/big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			if rng != "" {
				req += "Range: " + rng + "\r\n"
			}
			if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // the reply has begun, and stalls
			if err := m.Store("big", []byte("new"), tiermem.InTier(tiermem.Hot)); err != nil {
				t.Fatal(err)
			}
			held := func() int64 {
				runtime.GC() // Held drops once the collector reclaims what no reply holds
				return m.Usage()[tiermem.Hot].Held
			}
			deadline := time.Now().Add(5 * time.Second)
			for held() >= int64(len(value)) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if n := held(); n >= int64(len(value)) {
				t.Errorf("5 s after the client stopped reading (WriteTimeout 500ms): %d bytes still held for it", n)
			}
		})
	}
}

// TestHostileSlowDownloadIsNotCut: WriteTimeout bounds each piece of a
// reply, not the reply: a client that reads a value far slower than the
// network could, but keeps reading, gets all of it, though it takes many
// times WriteTimeout.
func TestHostileSlowDownloadIsNotCut(t *testing.T) {
	const timeout = time.Second
	m, srv := newServer(t, nil, web.Config{WriteTimeout: timeout, Logger: slog.New(slog.DiscardHandler)})
	value := make([]byte, 12<<20)
	for i := range value {
		value[i] = byte(i * 7)
	}
	if err := m.Store("big", value, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(64 << 10)
	if _, err := conn.Write([]byte("GET /v1/keys/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		n, err := io.ReadFull(resp.Body, buf)
		got.Write(buf[:n])
		if err != nil {
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("after %d bytes in %v: %v", got.Len(), time.Since(start), err)
			}
			break
		}
		// 12.8 MB/s at most, slower with -race: 256 KiB take 20 ms, and a
		// socket's send buffer (4 MiB at most on Linux, which hands room
		// back once a third of it is free) well under the timeout.
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	if !bytes.Equal(got.Bytes(), value) {
		t.Fatalf("read %d bytes of %d in %v: the download was cut", got.Len(), len(value), took)
	}
	if took <= timeout {
		t.Logf("the download took %v only, WriteTimeout %v: the test proves little on this machine", took, timeout)
	}
}

// TestHostileWriteDeadlineDoesNotOutliveTheReply: the handler sets a
// write deadline for the end of each reply, which the server writes after
// the handler returns; the connection's next request, sent once that
// deadline has passed, is answered all the same (net/http clears it after
// each reply), a PUT that waits for "100 Continue" included.
func TestHostileWriteDeadlineDoesNotOutliveTheReply(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h, err := web.New(m, web.Config{WriteTimeout: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	send := func(req string) *http.Response {
		t.Helper()
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	send("PUT /v1/keys/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello")
	send("GET /v1/keys/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	time.Sleep(300 * time.Millisecond) // the deadline left has passed
	if _, err := conn.Write([]byte("PUT /v1/keys/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("PUT with Expect: 100-continue on the connection after the deadline passed: %q, %v", line, err)
	}
	br.ReadString('\n')
	if resp := send("hello"); resp.StatusCode != http.StatusNoContent {
		t.Errorf("PUT: %s", resp.Status)
	}
	time.Sleep(300 * time.Millisecond)
	if resp := send("GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET on the connection after the deadline passed: %s", resp.Status)
	}
}
