package server_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/tiermem/tiermem/server"
)

// TestRespHostileWrongPasswordsInExecDoNotFreezeOthers: the pause after a
// wrong password is meant to slow down the client that guesses, and
// "must not hold up MSET or EXEC on other connections" (conn.go). A
// client that queues many wrong AUTHs in a MULTI and sends EXEC makes
// the EXEC sleep 10 ms for each while it runs alone, holding the server's
// exclusive lock: every other client waits for all of them (500 queued
// AUTHs: 5 s). Redis answers such an EXEC at once.
func TestRespHostileWrongPasswordsInExecDoNotFreezeOthers(t *testing.T) {
	addr, _, _ := startTiermem(t, &server.Options{RequirePass: "pw", Logger: slog.New(slog.DiscardHandler)})
	other := dial(t, addr)
	if r := string(other.do("AUTH", "pw")); r != "+OK\r\n" {
		t.Fatalf("AUTH: %q", r)
	}
	a := dial(t, addr)
	a.do("AUTH", "pw")
	var req bytes.Buffer
	req.Write(encode("MULTI"))
	const n = 500
	for range n {
		req.Write(encode("AUTH", "wrong"))
	}
	a.send(req.Bytes())
	for i := range n + 1 {
		if r := string(a.reply()); i > 0 && r != "+QUEUED\r\n" {
			t.Fatalf("AUTH in MULTI: %q", r)
		}
	}
	a.send(encode("EXEC"))
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if r := string(other.do("PING")); r != "+PONG\r\n" {
		t.Fatalf("PING: %q", r)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("another client's PING took %v while one client's EXEC ran %d wrong AUTHs", took.Round(time.Millisecond), n)
	}
	if r := a.reply(); !bytes.HasPrefix(r, []byte("*500\r\n-WRONGPASS")) {
		t.Errorf("EXEC: %.40q", r)
	}
}
