package server_test

import (
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestTierCommands checks tiermem's own commands: replies, errors, and
// what they do to the Manager.
func TestTierCommands(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	c := dial(t, addr)
	for _, st := range []struct {
		args []string
		want string
	}{
		{[]string{"TIER.GET", "k"}, "$-1\r\n"},
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"TIER.GET", "k"}, "$3\r\nhot\r\n"},
		{[]string{"TIER.MOVE", "k", "cold"}, "+OK\r\n"},
		{[]string{"TIER.GET", "k"}, "$4\r\ncold\r\n"},
		{[]string{"TIER.COPY", "k", "WARM"}, "+OK\r\n"},
		{[]string{"TIER.GET", "k"}, "$4\r\nwarm\r\n"},
		{[]string{"GET", "k"}, "$1\r\nv\r\n"},
		{[]string{"TIER.MOVE", "k", "lukewarm"}, "-ERR unknown tier 'lukewarm' (want hot, warm, cold or glacier)\r\n"},
		{[]string{"TIER.MOVE", "nokey", "hot"}, "-ERR no such key\r\n"},
		{[]string{"TIER.MOVE", "k", "glacier"}, "-ERR tiermem: unknown tier: glacier (this Manager has hot, warm and cold: Glacier.Disabled)\r\n"},
		{[]string{"TIER.PIN", "k"}, ":1\r\n"},
		{[]string{"TIER.PIN", "nokey"}, ":0\r\n"},
		{[]string{"TIER.UNPIN", "k"}, ":1\r\n"},
		{[]string{"TIER.MIGRATE"}, "+OK\r\n"},
		{[]string{"TIER.GET"}, "-ERR wrong number of arguments for 'tier.get' command\r\n"},
		{[]string{"tier.usage", "x"}, "-ERR wrong number of arguments for 'tier.usage' command\r\n"},
	} {
		if got := string(c.do(st.args...)); got != st.want {
			t.Errorf("%q = %q, want %q", st.args, got, st.want)
		}
	}
	if p, err := m.IsPinned("k"); err != nil || p {
		t.Errorf("after TIER.UNPIN: pinned %v, %v", p, err)
	}
	usage := string(c.do("TIER.USAGE"))
	if !strings.HasPrefix(usage, "*8\r\n$3\r\nhot\r\n*12\r\n$4\r\nused\r\n:") || !strings.Contains(usage, "$7\r\nglacier\r\n") {
		t.Errorf("TIER.USAGE in RESP2 = %q", usage)
	}
	stats := string(c.do("TIER.STATS"))
	if !strings.HasPrefix(stats, "*12\r\n$3\r\nhot\r\n*8\r\n$10\r\npromotions\r\n:") || !strings.Contains(stats, "$6\r\npasses\r\n:") {
		t.Errorf("TIER.STATS in RESP2 = %q", stats)
	}
	c.do("HELLO", "3")
	usage = string(c.do("TIER.USAGE"))
	if !strings.HasPrefix(usage, "%4\r\n$3\r\nhot\r\n%6\r\n") || !strings.Contains(usage, "$9\r\nstreaming\r\n:0\r\n") || !strings.Contains(usage, "$7\r\npercent\r\n,") {
		t.Errorf("TIER.USAGE in RESP3 = %q", usage)
	}
	if tr, err := m.Tier("k"); err != nil || tr != tiermem.Warm {
		t.Errorf("the Manager has k in %v, %v", tr, err)
	}
}

// TestWrongTypeForArrays: a key a Go program stored as an array reads
// as a string but refuses changes to its bytes.
func TestWrongTypeForArrays(t *testing.T) {
	addr, _, m := startTiermem(t, nil)
	if err := m.StoreArray("a", tiermem.Float64Array([]float64{1, 2}, 2)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	if got := string(c.do("TYPE", "a")); got != "+string\r\n" {
		t.Errorf("TYPE = %q", got)
	}
	if got := string(c.do("STRLEN", "a")); got != ":16\r\n" {
		t.Errorf("STRLEN = %q", got)
	}
	for _, args := range [][]string{{"APPEND", "a", "x"}, {"SETRANGE", "a", "0", "x"}, {"GETSET", "a", "x"}, {"SET", "a", "x", "GET"}} {
		if got := string(c.do(args...)); got != "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" {
			t.Errorf("%q = %q", args, got)
		}
	}
	if got := string(c.do("EXPIRE", "a", "100")); got != ":1\r\n" {
		t.Errorf("EXPIRE of an array = %q", got)
	}
	if got := string(c.do("INCR", "a")); got != "-ERR value is not an integer or out of range\r\n" {
		t.Errorf("INCR of an array = %q", got)
	}
	if got := string(c.do("SET", "", "v")); got != "-ERR invalid key: a tiermem key is 1 to 65535 bytes\r\n" {
		t.Errorf("SET of an empty key = %q", got)
	}
}

// TestInfo checks INFO's sections, the tiers one above all, in RESP2 and
// RESP3.
func TestInfo(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	c.do("SET", "k", "v")
	c.do("SET", "t", "v", "EX", "100")
	all := string(c.do("INFO"))
	for _, want := range []string{"# Server\r\nredis_version:7.0.15\r\n", "# Clients\r\nconnected_clients:1\r\n", "# Memory\r\nused_memory:",
		"# Keyspace\r\ndb0:keys=2,expires=1\r\n",
		"# Persistence\r\nloading:0\r\n", "rdb_bgsave_in_progress:0\r\n", "rdb_last_bgsave_status:ok\r\n", "aof_enabled:0\r\n", "# Tiers\r\nhot:used=", "warm:used=0,capacity=16777216,percent=0.00,items=0,"} {
		if !strings.Contains(all, want) {
			t.Errorf("INFO lacks %q:\n%s", want, all)
		}
	}
	tiers := string(c.do("info", "TIERS"))
	if !strings.HasPrefix(tiers, "$") || !strings.Contains(tiers, "\r\n# Tiers\r\n") || strings.Contains(tiers, "# Server") {
		t.Errorf("INFO tiers = %q", tiers)
	}
	if got := string(c.do("INFO", "nosuch")); got != "$0\r\n\r\n" {
		t.Errorf("INFO nosuch = %q", got)
	}
	c.do("HELLO", "3")
	if got := string(c.do("INFO", "clients")); !strings.HasPrefix(got, "=") || !strings.Contains(got, "\r\ntxt:# Clients\r\n") {
		t.Errorf("INFO in RESP3 = %q", got)
	}
}
