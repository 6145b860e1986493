package server_test

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRespHostileMSetIsAllOrNothing: MSET and MSETNX set every key or none
// (Redis's MSET cannot fail half way; MSETNX is the all-or-none lock of
// many keys). tiermem refuses what Redis takes: a key that is empty or
// over 65535 bytes ("-ERR invalid key", as its doc says), a value larger
// than any tier's budget ("-OOM"). MSET finds out only when it reaches
// that pair, and MSETNX checks keys but not values: the pairs before are
// stored already, and the client, told the command failed, finds some
// keys set. A client that retries the MSETNX gets 0 for ever: its lock of
// many keys is half taken.
func TestRespHostileMSetIsAllOrNothing(t *testing.T) {
	o := testOptions()
	o.Hot.Size, o.Warm.Size, o.Cold.Size = 1<<20, 2<<20, 4<<20
	addr, _, _ := startManager(t, t.TempDir(), o, nil)
	c := dial(t, addr)
	long := strings.Repeat("k", 65536)
	huge := strings.Repeat("v", 6<<20) // more than any tier holds
	for _, cmd := range [][]string{
		{"MSET", "a1", "1", "", "2"},
		{"MSET", "b1", "1", long, "2"},
		{"MSET", "c1", "1", "c2", huge},
		{"MSETNX", "d1", "1", "", "2"},
		{"MSETNX", "e1", "1", "e2", huge},
	} {
		r := string(c.do(cmd...))
		if r[0] != '-' {
			t.Errorf("%s with an invalid key or a value too large: %q", cmd[0], r)
		}
		if e := string(c.do("EXISTS", cmd[1])); e != ":0\r\n" {
			t.Errorf("%s %s 1 <%d-byte key> <%d-byte value> failed (%q), yet it set %s",
				cmd[0], cmd[1], len(cmd[3]), len(cmd[4]), strings.TrimSpace(r), cmd[1])
		}
	}
}

// TestRespHostileMSetOutOfRoomSetsNothing: an MSET whose values do not
// all fit in the tiers' budgets (the last one full) is refused whole with
// -OOM, as Redis refuses a write past its memory limit: no pair is set,
// and a key it named keeps its value.
func TestRespHostileMSetOutOfRoomSetsNothing(t *testing.T) {
	o := testOptions()
	o.Hot.Size, o.Warm.Size, o.Cold.Size = 1<<20, 1<<20, 2<<20
	addr, _, _ := startManager(t, t.TempDir(), o, nil)
	c := dial(t, addr)
	if r := string(c.do("SET", "old", "kept")); r != "+OK\r\n" {
		t.Fatalf("SET old: %q", r)
	}
	noise := make([]byte, 900<<10) // incompressible: warm and cold cannot shrink it
	rand.NewChaCha8([32]byte{7}).Read(noise)
	v := string(noise)
	r := string(c.do("MSET", "n1", v, "n2", v, "old", v, "n3", v, "n4", v))
	if !strings.HasPrefix(r, "-OOM") {
		t.Errorf("MSET of 4.5 MiB into 4 MiB of tiers: %q, want -OOM", r)
	}
	for _, k := range []string{"n1", "n2", "n3", "n4"} {
		if e := string(c.do("EXISTS", k)); e != ":0\r\n" {
			t.Errorf("a refused MSET set %s", k)
		}
	}
	if g := string(c.do("GET", "old")); g != "$4\r\nkept\r\n" {
		t.Errorf("a refused MSET changed old: %.40q", g)
	}
	if r := string(c.do("MSET", "n1", v, "n2", v, "n3", v)); r != "+OK\r\n" {
		t.Errorf("MSET of 2.7 MiB: %.80q", r)
	}
}
