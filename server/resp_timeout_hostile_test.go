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
