package server_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
	"github.com/tiermem/tiermem/server/web"
)

// The HTTP handler's Metrics count refused clients too.
var _ server.RefusalObserver = (*web.Metrics)(nil)

// TestRefusedClientsCounted: a client refused past maxclients is counted
// in INFO stats' rejected_connections, as Redis counts it, and in
// /metrics' tiermem_client_connections_refused_total.
func TestRefusedClientsCounted(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(m, &server.Options{MaxClients: 1, Observer: h.Metrics()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		if err := <-done; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	}()
	c := dial(t, ln.Addr().String())
	c.do("PING")
	for range 2 {
		if r := string(dial(t, ln.Addr().String()).reply()); r != "-ERR max number of clients reached\r\n" {
			t.Fatalf("past maxclients: %q", r)
		}
	}
	if info := string(c.do("INFO", "stats")); !strings.Contains(info, "rejected_connections:2\r\n") {
		t.Errorf("INFO stats after 2 refused clients: %q", info)
	}
	hs := httptest.NewServer(h)
	defer hs.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(hs.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `tiermem_client_connections_refused_total{protocol="resp"} 2`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics after 2 refused clients lacks the count:\n%s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := string(c.do("CONFIG", "RESETSTAT")); r != "+OK\r\n" {
		t.Fatalf("CONFIG RESETSTAT: %q", r)
	}
	if info := string(c.do("INFO", "stats")); !strings.Contains(info, "rejected_connections:0\r\n") {
		t.Errorf("INFO stats after CONFIG RESETSTAT: %q", info)
	}
}
