package server_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestKilledClientFreesItsSlotAtOnce: a client killed while its command
// runs (here a TIER.MOVE into hot waiting for room a slow stream holds)
// leaves CLIENT LIST, INFO's connected_clients and maxclients' count at
// once, as in Redis: with maxclients 2, a new client is served.
func TestKilledClientFreesItsSlotAtOnce(t *testing.T) {
	o := testOptions()
	o.Hot.Size = 1 << 20
	addr, _, m := startManager(t, t.TempDir(), o, nil)
	if err := m.Store("w", make([]byte, 300<<10), tiermem.InTier(tiermem.Warm)); err != nil {
		t.Fatal(err)
	}
	const size = 900 << 10
	upload, client := io.Pipe() // a slow upload: its room is held before a byte comes
	done := make(chan error, 1)
	go func() { done <- m.StoreFrom("slow", upload, size, tiermem.InTier(tiermem.Hot)) }()
	defer func() { client.CloseWithError(errors.New("the uploader left")); <-done }()
	for deadline := time.Now().Add(5 * time.Second); m.Usage()[tiermem.Hot].Streaming < size; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stream never took its room")
		}
	}
	a, b := dial(t, addr), dial(t, addr)
	id := strings.TrimSpace(strings.TrimPrefix(string(b.do("CLIENT", "ID")), ":"))
	b.send(encode("TIER.MOVE", "w", "hot")) // waits for hot's room
	time.Sleep(100 * time.Millisecond)
	if r := string(a.do("CLIENT", "KILL", "ID", id)); r != ":1\r\n" {
		t.Fatalf("CLIENT KILL = %q", r)
	}
	if r := string(a.do("CONFIG", "SET", "maxclients", "2")); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET maxclients = %q", r)
	}
	info := string(a.do("INFO", "clients"))
	c := dial(t, addr)
	got := string(c.do("PING"))
	if got != "+PONG\r\n" {
		t.Errorf("a new client, with INFO saying %q: PING = %q", strings.ReplaceAll(info, "\r\n", " "), got)
	}
}
