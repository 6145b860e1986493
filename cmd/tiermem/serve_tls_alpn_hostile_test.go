package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestHostileRESPPortSpeaksNoHTTP2: with --tls-cert and --tls-key,
// serve hands one *tls.Config to the RESP listener and to the HTTP
// server. http.Server.ServeTLS configures HTTP/2 on that shared config in
// place (NextProtos "h2", "http/1.1"), from its own goroutine: the RESP
// port then tells a TLS client that offers ALPN that it speaks HTTP/2 or
// HTTP/1.1 (and the write races with the RESP listener's handshakes).
func TestHostileRESPPortSpeaksNoHTTP2(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	addr, httpAddr := serveInProcess(t, "--tls-cert", cert, "--tls-key", key, "--requirepass", "pw")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	resp, err := client.Get("https://" + httpAddr + "/healthz") // HTTPS is up: ServeTLS has set itself up
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if p := conn.ConnectionState().NegotiatedProtocol; p != "" {
		t.Errorf("the RESP port negotiated ALPN %q: it claims to speak HTTP", p)
	}
	if _, err := conn.Write([]byte("AUTH pw\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := io.ReadAtLeast(conn, buf, len("+OK\r\n+PONG\r\n"))
	if string(buf[:n]) != "+OK\r\n+PONG\r\n" {
		t.Errorf("RESP over TLS: %q", buf[:n])
	}
}
