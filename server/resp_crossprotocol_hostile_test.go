package server_test

import (
	"io"
	"testing"
	"time"
)

// TestRespHostileHTTPRequestRunsNothing: a web page can make a browser POST
// to the RESP port (http://127.0.0.1:6380/) with Redis commands in the
// body. The request's first line reads as an inline command POST, its
// headers as Host: and others: the server closes the connection there, as
// redis-server does, and the commands in the body never run, with or
// without a password.
func TestRespHostileHTTPRequestRunsNothing(t *testing.T) {
	tm, _, _ := startTiermem(t, nil)
	sides := []struct{ name, addr string }{{"tiermem", tm}, {"redis", startRedis(t)}}
	for _, side := range sides {
		for _, first := range []string{"POST / HTTP/1.1\r\nHost: 127.0.0.1:6380\r\n", "GET / HTTP/1.1\r\nHost: 127.0.0.1:6380\r\n"} {
			c := dial(t, side.addr)
			body := "SET pwned yes\r\n"
			c.send([]byte(first + "Content-Type: text/plain\r\nContent-Length: 15\r\n\r\n" + body))
			c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, c.br); err != nil {
				t.Errorf("%s: %q: the server did not close the connection: %v", side.name, first[:4], err)
			}
			if got := string(dial(t, side.addr).do("EXISTS", "pwned")); got != ":0\r\n" {
				t.Errorf("%s: a command in an HTTP request's body ran (%q after the request %q)", side.name, got, first[:4])
			}
		}
	}
}
