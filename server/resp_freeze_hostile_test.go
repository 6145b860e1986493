package server_test

import (
	"strings"
	"testing"
	"time"
)

// TestRespHostileSlowUploadAndTierMoveDoNotFreezeTheServer: client A uploads
// a large value slowly (half of it has come: its room in hot is reserved
// and stays so while it streams). Client B asks TIER.MOVE of another key to
// hot, which needs that room; client C sends an MSET. An unrelated client D
// must still get its PING answered at once: one client's command waiting
// for room must not stop every other client. Before the fix, B's TIER.MOVE waited up
// to 5 s for the stream while its connection holds the server's shared
// lock; C's MSET queues for the exclusive side, and Go's RWMutex then
// blocks every new reader, so D (and every client) waits the whole 5 s,
// and a client repeating TIER.MOVE keeps the server frozen.
func TestRespHostileSlowUploadAndTierMoveDoNotFreezeTheServer(t *testing.T) {
	addr, _, _ := startTiermem(t, nil) // hot 8 MiB
	b := dial(t, addr)
	b.do("SET", "x", strings.Repeat("v", 3<<20))
	a := dial(t, addr)
	frame := setFrame("upload", largeValue(6<<20, 1))
	a.send(frame[:len(frame)/2]) // and then nothing, for now
	time.Sleep(200 * time.Millisecond)

	b.send(encode("TIER.MOVE", "x", "hot"))
	time.Sleep(100 * time.Millisecond)
	c := dial(t, addr)
	c.send(encode("MSET", "p", "1"))
	time.Sleep(100 * time.Millisecond)

	wantPromptPing(t, addr, "one client's TIER.MOVE waited for another's upload")
	b.reply()
	c.reply()
}

// wantPromptPing checks that a new client's PING is answered within 3 s
// while another client's command, while, waits: one waiting command must
// not stop the server.
func wantPromptPing(t *testing.T, addr, while string) {
	t.Helper()
	d := dial(t, addr)
	start := time.Now()
	if r := string(d.do("PING")); r != "+PONG\r\n" {
		t.Fatalf("PING: %q", r)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("an unrelated client's PING took %v while %s", took.Round(time.Millisecond), while)
	}
}
