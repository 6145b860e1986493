package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTierDiffDemotedByBudgets stores more than the hot, warm and cold
// budgets hold, so that the Manager itself demotes values (to a
// compressing warm tier, cold and glacier), then runs the string and key
// commands on every key, TTLs and expired keys included.
func TestTierDiffDemotedByBudgets(t *testing.T) {
	o := tierPairOptions()
	o.Hot.Size, o.Warm.Size, o.Cold.Size = 64<<10, 96<<10, 128<<10
	o.Warm.Compress = true
	p := newTierPair(t, o)
	var setup, checks []rstep
	const n = 40
	for i := range n {
		k := fmt.Sprintf("k%02d", i)
		v := strings.Repeat(fmt.Sprintf("%02d-value-", i), 20000/9)
		if i%5 == 0 {
			v = tierRandom(20000, uint64(i))
		}
		if i%2 == 0 {
			setup = append(setup, rs("SET", k, v, "EX", "1000"))
		} else {
			setup = append(setup, rs("SET", k, v))
		}
		setup = append(setup, rs("SET", fmt.Sprintf("n%02d", i), fmt.Sprint(i*1000), "PX", "1000000"))
		setup = append(setup, rs("SET", fmt.Sprintf("e%02d", i), v, "PX", "1500"))
	}
	setup = append(setup, rs("DBSIZE"), rstep{hook: func(t *testing.T, tm *client) {
		where := map[string]int{}
		for i := range n {
			for _, f := range []string{"k%02d", "n%02d", "e%02d"} {
				where[string(tm.do("TIER.GET", fmt.Sprintf(f, i)))]++
			}
		}
		t.Logf("where the values lie: %v", where)
		if where["$7\r\nglacier\r\n"] == 0 || where["$4\r\ncold\r\n"] == 0 || where["$4\r\nwarm\r\n"] == 0 {
			t.Errorf("the budgets did not demote values to every tier: %v", where)
		}
	}}, pause(2*time.Second))
	for i := range n {
		k, num, e := fmt.Sprintf("k%02d", i), fmt.Sprintf("n%02d", i), fmt.Sprintf("e%02d", i)
		checks = append(checks, rnear("TTL", k), rs("STRLEN", k), rs("GETRANGE", k, "-7", "-1"), rs("GET", e), rs("EXISTS", e),
			rs("TTL", e), rs("DEL", e), rnear("TTL", num), rs("INCRBY", num, "7"), rnear("TTL", num), rs("OBJECT", "ENCODING", k))
		switch i % 4 {
		case 0:
			checks = append(checks, rs("APPEND", k, "+tail"), rnear("TTL", k), rs("GETRANGE", k, "-10", "-1"))
		case 1:
			checks = append(checks, rs("SETRANGE", k, "19990", "0123456789abc"), rs("GETRANGE", k, "19985", "-1"), rs("TTL", k))
		case 2:
			checks = append(checks, rs("GETEX", k, "PERSIST"), rs("TTL", k), rs("EXPIRE", k, "500", "NX"), rnear("TTL", k))
		case 3:
			checks = append(checks, rs("RENAME", k, k+"r"), rs("GET", k+"r"), rs("TTL", k+"r"), rs("COPY", k+"r", k), rs("STRLEN", k))
		}
		checks = append(checks, rs("GET", k))
	}
	checks = append(checks, rs("DBSIZE"), rsorted("KEYS", "e*"), rscan("SCAN", "0", "MATCH", "k*"))
	p.runTiers(t, []string{"budgets"}, nil, append(setup, checks...))
}
