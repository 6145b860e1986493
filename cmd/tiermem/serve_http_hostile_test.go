package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveInProcess runs tiermem serve in process with HTTP on, with args added
// to small budgets and no glacier, and returns its RESP and HTTP
// addresses; it stops at the test's end.
func serveInProcess(t *testing.T, args ...string) (addr, httpAddr string) {
	t.Helper()
	addr, httpAddr = freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	root.SetArgs(append([]string{"serve", "--addr", addr, "--http", httpAddr, "--dir", filepath.Join(t.TempDir(), "data"),
		"--no-glacier", "--hot", "64MiB", "--warm", "64MiB", "--cold", "256MiB"}, args...))
	var logs strings.Builder
	root.SetErr(&logs)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, logs.String())
		}
	})
	waitListening(t, addr)
	waitListening(t, httpAddr)
	return addr, httpAddr
}

// httpStatus sends a GET of path with an Authorization header
// (none when auth is "") and returns its status.
func httpStatus(t *testing.T, httpAddr, path, auth string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+httpAddr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestHostileIdleHTTPConnectionIsClosed: --idle-timeout closed silent
// RESP clients only; an HTTP connection, one answered 401 without a
// password included, stayed open forever between requests (--max-clients
// counts RESP only), so anyone could hold any number of the process's
// file descriptors. The HTTP server now closes a connection idle for
// --idle-timeout.
func TestHostileIdleHTTPConnectionIsClosed(t *testing.T) {
	_, httpAddr := serveInProcess(t, "--requirepass", "pw", "--idle-timeout", "1s")
	conn, err := net.Dial("tcp", httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	if _, err := conn.Write([]byte("GET /v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET without the password: %s", resp.Status)
	}
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(4 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("a connection idle after its 401, --idle-timeout 1s: %v after %v, want it closed (EOF)", err, time.Since(start).Round(time.Millisecond))
	}
}
