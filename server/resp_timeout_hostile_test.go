package server_test

import (
	"testing"
	"time"

	"github.com/tiermem/tiermem/server"
)

// TestRespHostileConfigSetTimeoutZeroKeepsClients: CONFIG SET timeout 0
// turns the idle timeout off, as in Redis: no client is closed for being
// idle after it, let alone one that keeps sending commands. Before the fix, each
// connection's read deadline, set under the old timeout, was never cleared
// (conn.go readDeadline sets one only when the timeout is positive), so
// every client connected before the change was closed one old timeout
// after its last read, even while it keeps sending PINGs.
func TestRespHostileConfigSetTimeoutZeroKeepsClients(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{IdleTimeout: time.Second})
	c := dial(t, addr)
	if r := string(c.do("CONFIG", "SET", "timeout", "0")); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET timeout 0: %q", r)
	}
	for i := range 10 { // a PING every 300 ms for 3 s: never idle for even the old timeout
		time.Sleep(300 * time.Millisecond)
		c.send(encode("PING"))
		c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := c.br.ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			t.Fatalf("PING %d, %v after CONFIG SET timeout 0: %q, %v", i, time.Duration(i+1)*300*time.Millisecond, line, err)
		}
	}
}

// TestRespHostileConfigSetTimeoutReachesIdleClients: a timeout set while
// clients wait for their next command applies to them, as Redis's
// clientsCron measures every client's idle time against the timeout in
// force. A client idle for 2 s is closed as soon as CONFIG SET timeout 1
// answers; one idle for less is closed a second after its last command;
// CONFIG SET timeout 0 then keeps a third for good. Before the fix, a
// client already waiting kept the deadline of its wait's start (none), so
// it was never closed.
func TestRespHostileConfigSetTimeoutReachesIdleClients(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	old, admin := dial(t, addr), dial(t, addr)
	if r := string(old.do("PING")); r != "+PONG\r\n" {
		t.Fatalf("PING: %q", r)
	}
	time.Sleep(2 * time.Second)
	recent := dial(t, addr)
	if r := string(recent.do("PING")); r != "+PONG\r\n" {
		t.Fatalf("PING: %q", r)
	}
	set := time.Now()
	if r := string(admin.do("CONFIG", "SET", "timeout", "1")); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET timeout 1: %q", r)
	}
	for name, c := range map[string]*client{"idle for 2 s": old, "idle for less": recent} {
		c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.br.ReadByte(); err == nil || time.Since(set) > 5*time.Second {
			t.Errorf("the client %s before CONFIG SET timeout 1: read %v after %v, want it closed", name, err, time.Since(set))
		}
	}
	kept := dial(t, addr)
	if r := string(kept.do("PING")); r != "+PONG\r\n" {
		t.Fatalf("PING: %q", r)
	}
	if r := string(dial(t, addr).do("CONFIG", "SET", "timeout", "0")); r != "+OK\r\n" { // admin was idle too
		t.Fatalf("CONFIG SET timeout 0: %q", r)
	}
	time.Sleep(2 * time.Second)
	if r := string(kept.do("PING")); r != "+PONG\r\n" {
		t.Errorf("PING 2 s after CONFIG SET timeout 0 from a client waiting under timeout 1: %q", r)
	}
}
