package server_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tlstest"
	"github.com/tiermem/tiermem/server"
)

// hostileTLSConfig returns a server config with a self-signed certificate
// for 127.0.0.1, and a client config that trusts it.
func hostileTLSConfig(t *testing.T) (srv, cli *tls.Config) {
	t.Helper()
	return tlstest.SelfSigned(t).Configs(t)
}

// TestRespHostileTLSClientPastMaxClientsDoesNotStopAccepting: tiermem serve
// with --tls-cert serves Serve(tls.NewListener(...)). A connection past
// maxclients (a port scanner, a health check that opens TCP and waits, a
// client that is slow to say hello) must get refused or dropped without
// holding up the accept loop: once a slot frees, a real TLS client must be
// served. Redis refuses such a client from its event loop without waiting
// for it.
func TestRespHostileTLSClientPastMaxClientsDoesNotStopAccepting(t *testing.T) {
	srvConf, cliConf := hostileTLSConfig(t)
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(m, &server.Options{MaxClients: 1})
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := tcp.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(tcp, srvConf)) }()

	ping := func(name string) error {
		d := &net.Dialer{Timeout: 5 * time.Second}
		nc, err := tls.DialWithDialer(d, "tcp", addr, cliConf)
		if err != nil {
			return err
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(encode("PING")); err != nil {
			return err
		}
		line, err := bufio.NewReader(nc).ReadString('\n')
		if err != nil {
			return err
		}
		if line != "+PONG\r\n" {
			t.Errorf("%s: PING answered %q", name, line)
		}
		return nil
	}

	// A holds the one slot.
	a, err := tls.Dial("tcp", addr, cliConf)
	if err != nil {
		t.Fatal(err)
	}
	a.SetDeadline(time.Now().Add(5 * time.Second))
	a.Write(encode("PING"))
	if line, err := bufio.NewReader(a).ReadString('\n'); err != nil || line != "+PONG\r\n" {
		t.Fatalf("first client: %q, %v", line, err)
	}
	// B connects past maxclients and says nothing.
	b, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	// A leaves: its slot is free.
	a.Close()
	time.Sleep(300 * time.Millisecond)

	err = ping("a client after the slot freed")
	// Let the server go: B leaving ends whatever waits for it.
	b.Close()
	if err != nil {
		t.Errorf("a TLS client with a free slot was not served within 5 s after a silent TCP connection past maxclients: %v", err)
	}
	srv.Close()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Error("Serve did not return within 5 s of Close")
	}
	m.Close()
}
