package server_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileMSetBesidePinnedKeyFreezesNobody: with a pinned key taking
// half the hot tier, an MSET of two values that fit the tiers is answered
// at once, and another client's PING sent meanwhile too. MSET runs alone
// (no other command runs during it) and StoreMany waits out the Manager's
// 5-second room wait for room its own first pair holds: the whole server
// stops for 5 seconds.
func TestHostileMSetBesidePinnedKeyFreezesNobody(t *testing.T) {
	o := testOptions()
	o.Hot.Size = 64 << 10
	addr, _, m := startManager(t, t.TempDir(), o, nil)
	if err := m.Store("p", bytes.Repeat([]byte("p"), 30<<10), tiermem.InTier(tiermem.Hot), tiermem.Pinned()); err != nil {
		t.Fatal(err)
	}
	c, other := dial(t, addr), dial(t, addr)
	v := strings.Repeat("v", 20<<10)
	start := time.Now()
	c.send(encode("MSET", "a", v, "b", v))
	time.Sleep(50 * time.Millisecond)
	pingStart := time.Now()
	if r := string(other.do("PING")); r != "+PONG\r\n" {
		t.Errorf("PING: %q", r)
	}
	ping := time.Since(pingStart)
	if r := string(c.reply()); r != "+OK\r\n" {
		t.Errorf("MSET: %q", r)
	}
	if took := time.Since(start); took > 3*time.Second || ping > 3*time.Second {
		t.Errorf("MSET of two 20 KiB values beside a pinned key took %v, and another client's PING meanwhile %v", took, ping)
	}
}
