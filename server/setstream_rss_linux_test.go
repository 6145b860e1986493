package server_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/internal/procstatus"
)

// setRSSChild names the variable under which the test binary runs
// TestSetStreamedRSSChild for TestSetStreamedRSS, and the tier it sets
// into.
const setRSSChild = "TIERMEM_TEST_SET_RSS_CHILD"

// setRSSSize is the value the child SETs.
const setRSSSize = 192 << 20

// TestSetStreamedRSSChild SETs setRSSSize bytes over RESP into the tier
// $TIERMEM_TEST_SET_RSS_CHILD names, client and server in this process,
// the client never holding the value whole, and prints the peak RSS
// before and after.
func TestSetStreamedRSSChild(t *testing.T) {
	name := os.Getenv(setRSSChild)
	if name == "" {
		t.Skip("run by TestSetStreamedRSS")
	}
	tier, err := tiermem.ParseTier(name)
	if err != nil {
		t.Fatal(err)
	}
	o := optionsFor(tier)
	if tier == tiermem.Warm {
		o.Warm.Size = 512 << 20
	}
	o.Cold.Size = 1 << 30
	addr, _, m := startManager(t, t.TempDir(), o, nil)
	c := dial(t, addr)
	before := peakRSS(t)
	c.send(fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n", setRSSSize))
	block := largeValue(1<<20, 7)
	for range setRSSSize / len(block) {
		c.nc.SetWriteDeadline(time.Now().Add(time.Minute))
		if _, err := c.nc.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	c.send([]byte("\r\n"))
	if got := string(c.reply()); got != "+OK\r\n" {
		t.Fatalf("SET replied %q", got)
	}
	if in, err := m.Tier("big"); err != nil || in != tier {
		t.Fatalf("the value is in %v (%v), want %v", in, err, tier)
	}
	fmt.Printf("HWM %d %d\n", before, peakRSS(t))
}

// TestSetStreamedRSS runs the child in a fresh process: a large SET over
// RESP costs the value once where it goes to a memory tier (it is read
// from the connection into the memory the tier keeps, after its first
// sixteenth into the connection's buffer), and little where it goes to cold
// (through the staging file), instead of the connection's buffer, grown by
// doubling to the value's size, and the tier's copy.
func TestSetStreamedRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 384 MiB to disk")
	}
	for _, tier := range []tiermem.Tier{tiermem.Warm, tiermem.Cold} {
		cmd := childtest.Command("TestSetStreamedRSSChild", setRSSChild+"="+tier.String())
		cmd.Args = append(cmd.Args, "-test.v")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		var before, after int64
		for line := range strings.Lines(string(out)) {
			fmt.Sscanf(line, "HWM %d %d", &before, &after)
		}
		if after == 0 {
			t.Fatalf("no HWM line from the child:\n%s", out)
		}
		grew := after - before
		t.Logf("a %d MiB SET into %v raised the peak RSS by %.1f MiB", setRSSSize>>20, tier, float64(grew)/(1<<20))
		// The value's first sixteenth is read into the connection's buffer
		// (streamAfter), which under the race detector costs its shadow
		// memory too: that figure is logged.
		if limit := int64(64 << 20); !raceEnabled && (tier == tiermem.Cold && grew > limit || grew > setRSSSize+limit) {
			t.Errorf("a %d MiB SET into %v raised the peak RSS by %.1f MiB: the value was held twice", setRSSSize>>20, tier, float64(grew)/(1<<20))
		}
	}
}

// peakRSS returns the process's peak resident set size.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	v, err := procstatus.Bytes("VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	return v[0]
}
