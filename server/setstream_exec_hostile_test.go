package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileEXECDoesNotWaitOutARESPStreamItBlocks: a client streams a
// large SET of k, replacing a value of k in the cold tier (the memory tiers
// are too small for it); the value's room is held there from its first
// bytes. Another client's transaction COPYes a cold key meanwhile, which
// needs room the SET frees once stored. The EXEC runs alone, its COPY
// waiting for the room streams hold; had the SET's end waited in line for
// the server's shared lock, each would wait for the other until the room
// wait gave up (5 s, twice, every client stalled) and the EXEC failed. The
// SET tries for the lock for 200 ms, then stores its value without it.
func TestHostileEXECDoesNotWaitOutARESPStreamItBlocks(t *testing.T) {
	opts := &tiermem.Options{
		Hot: tiermem.TierOptions{Size: mib}, Warm: tiermem.TierOptions{Size: mib},
		Cold: tiermem.TierOptions{Size: 7 * mib}, Glacier: tiermem.GlacierOptions{Disabled: true},
		MigrateInterval: -1,
	}
	addr, _, m := startManager(t, t.TempDir(), opts, nil)
	const size = 5 * mib / 2
	if err := m.Store("k", noise(size), tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	if err := m.Store("a", noise(3*mib/2), tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	setter := dial(t, addr)
	value := noise(size)
	value[0] ^= 1 // not k's old value
	setter.send(fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", size))
	setter.send(value[:size-1])
	deadline := time.Now().Add(10 * time.Second)
	for m.Usage()[tiermem.Cold].Streaming == 0 { // the SET's room is held
		if time.Now().After(deadline) {
			t.Fatal("the SET was not streamed into the cold tier")
		}
		time.Sleep(time.Millisecond)
	}
	c := dial(t, addr)
	c.do("MULTI")
	c.do("COPY", "a", "b")
	start := time.Now()
	c.send(encode("EXEC"))
	time.Sleep(300 * time.Millisecond) // the EXEC runs alone, its COPY waiting for room
	setter.send(append(value[size-1:], '\r', '\n'))
	got := string(c.reply())
	if took := time.Since(start); got != "*1\r\n:1\r\n" || took > 3*time.Second {
		t.Errorf("EXEC of a COPY, while a streamed SET replacing a cold value ends: %q after %v, want *1 :1 at once",
			got, took.Round(time.Millisecond))
	}
	if r := string(setter.reply()); r != "+OK\r\n" {
		t.Errorf("the streamed SET: %q", r)
	}
	if v, err := m.Retrieve("k"); err != nil || string(v) != string(value) {
		t.Errorf("k after the SET: %d bytes, %v; want the streamed value", len(v), err)
	}
}
