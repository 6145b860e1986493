package server_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestRespHostileIdleConnectionDoesNotKeepABigCommandsArguments: a client
// sends one command of 256 Ki arguments (EXISTS of many keys, a 1.8 MB
// frame within the default --max-multibulk-len) and then idles. The
// connection must not go on holding memory sized by that command: Redis
// frees a command's argv once it ran, and tiermem drops a read buffer or
// reply buffer over 256 KiB once it is empty. Before the fix, the reader kept its
// per-argument slices (resp.go: p.spans and p.args are reused with their
// capacity), about 10 MiB for this one command, for as long as the
// connection lives: a few hundred idle pooled connections that once sent a
// big MGET or DEL pin gigabytes.
func TestRespHostileIdleConnectionDoesNotKeepABigCommandsArguments(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	const n = 256 << 10
	var req bytes.Buffer
	fmt.Fprintf(&req, "*%d\r\n$6\r\nEXISTS\r\n", n)
	for range n - 1 {
		req.WriteString("$1\r\nk\r\n")
	}
	c := dial(t, addr)
	c.do("PING")
	before := hostileHeap()
	c.send(req.Bytes())
	if r := string(c.reply()); r != ":0\r\n" {
		t.Fatalf("EXISTS: %q", r)
	}
	if r := string(c.do("PING")); r != "+PONG\r\n" {
		t.Fatalf("PING: %q", r)
	}
	time.Sleep(100 * time.Millisecond)
	kept := hostileHeap() - before
	t.Logf("an idle connection keeps %.1f MiB after one command of %d arguments", float64(kept)/(1<<20), n)
	if kept > 4<<20 {
		t.Errorf("an idle connection keeps %d MiB of heap after one command of %d arguments (a %d KiB frame)", kept>>20, n, req.Len()>>10)
	}
}
