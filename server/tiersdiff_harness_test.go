package server_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
)

// The tier diff tests run one command sequence against redis-server and
// against tiermem, where tiermem's keys were first moved (TIER.MOVE, sent
// to tiermem alone) to a lower tier, and compare the replies byte for byte.

// diffTiers are the tiers below hot that a value can be moved to.
var diffTiers = []string{"warm", "cold", "glacier"}

// tierPairOptions are testOptions with a glacier tier (in <dir>/glacier).
func tierPairOptions() *tiermem.Options {
	o := testOptions()
	o.Glacier = tiermem.GlacierOptions{}
	return o
}

// rstep is one step of a tier diff sequence: a command sent to both servers
// and compared (how), or, with move set, a TIER.MOVE of args to the tier
// sent to tiermem alone, or, with sleep set, a pause.
type rstep struct {
	args  []string
	how   compare
	move  bool
	may   bool // a move of a key that does not exist is no error
	sleep time.Duration
	hook  func(t *testing.T, tm *client) // called with tiermem's connection
}

func rs(args ...string) rstep    { return rstep{args: args} }
func rnear(args ...string) rstep { return rstep{args: args, how: near} }
func rsorted(args ...string) rstep {
	return rstep{args: args, how: unordered}
}
func rscan(args ...string) rstep { return rstep{args: args, how: scanAll} }

// mv moves keys to the sequence's tier on tiermem.
func mv(keys ...string) rstep { return rstep{args: keys, move: true} }

// mvIf moves those of keys that exist to the sequence's tier on tiermem.
func mvIf(keys ...string) rstep { return rstep{args: keys, move: true, may: true} }

// moved puts an mvIf of each command's key (its first argument) before it.
func moved(steps ...rstep) []rstep {
	var out []rstep
	for _, st := range steps {
		if !st.move && st.sleep == 0 && len(st.args) > 1 {
			out = append(out, mvIf(st.args[1]))
		}
		out = append(out, st)
	}
	return out
}

func pause(d time.Duration) rstep { return rstep{sleep: d} }

// tierPair is a redis-server and a tiermem server with a glacier tier.
type tierPair struct {
	redis, tm string
}

func newTierPair(t *testing.T, mopts *tiermem.Options) tierPair {
	t.Helper()
	if mopts == nil {
		mopts = tierPairOptions()
	}
	tm, _, _ := startManager(t, t.TempDir(), mopts, &server.Options{})
	return tierPair{redis: startRedis(t), tm: tm}
}

// runTiers runs steps for each tier of tiers, flushing both servers
// first. With auto, every key of auto that exists is moved to the tier
// before each compared step, so that each command meets the value there.
func (p tierPair) runTiers(t *testing.T, tiers []string, auto []string, steps []rstep) {
	t.Helper()
	for _, tier := range tiers {
		t.Run(tier, func(t *testing.T) {
			want, got := dial(t, p.redis), dial(t, p.tm)
			want.do("FLUSHALL")
			got.do("FLUSHALL")
			for i, st := range steps {
				switch {
				case st.hook != nil:
					st.hook(t, got)
					continue
				case st.sleep > 0:
					time.Sleep(st.sleep)
					continue
				case st.move:
					t0 := time.Now()
					for _, k := range st.args {
						moveTo(t, got, k, tier, !st.may)
					}
					if d := time.Since(t0); d > 2*time.Second {
						t.Logf("SLOW [%s] move %d %q: %v", tier, i, trimArgs(st.args), d)
					}
					continue
				}
				for _, k := range auto {
					moveTo(t, got, k, tier, false)
				}
				t0 := time.Now()
				w := run(want, step{args: st.args, how: st.how})
				t1 := time.Now()
				g := run(got, step{args: st.args, how: st.how})
				if d := time.Since(t1); d > 2*time.Second {
					t.Logf("SLOW [%s] step %d %q: redis %v tiermem %v", tier, i, trimArgs(st.args), t1.Sub(t0), d)
				}
				for _, f := range tierReplyFilters {
					w, g = f(st.args, w), f(st.args, g)
				}
				if !same(st.how, w, g) {
					t.Errorf("[%s] step %d %q:\n redis:   %q\n tiermem: %q", tier, i, trimArgs(st.args), trimReply(w), trimReply(g))
				}
			}
		})
	}
}

// tierReplyFilters keep of a reply what is compared: of INFO keyspace,
// the db0 line without avg_ttl (which tiermem does not keep).
var tierReplyFilters = []func(args []string, reply []byte) []byte{
	func(args []string, r []byte) []byte {
		if len(args) == 2 && args[0] == "INFO" && args[1] == "keyspace" {
			if line := keyspaceLine.Find(r); line != nil {
				return line
			}
		}
		return r
	},
}

var keyspaceLine = regexp.MustCompile(`db0:keys=\d+,expires=\d+`)

// moveTo sends TIER.MOVE key tier to tiermem and checks that the key then
// lies there; a key that does not exist is an error only when must.
func moveTo(t *testing.T, c *client, key, tier string, must bool) {
	t.Helper()
	r := string(c.do("TIER.MOVE", key, tier))
	switch {
	case r == "-ERR no such key\r\n" && !must:
		return
	case r != "+OK\r\n":
		t.Errorf("TIER.MOVE %q %s = %q", key, tier, r)
		return
	}
	if g := string(c.do("TIER.GET", key)); !strings.Contains(g, "\r\n"+tier+"\r\n") {
		t.Errorf("after TIER.MOVE %q %s, TIER.GET = %q", key, tier, g)
	}
}

// trimArgs shortens long arguments for a message.
func trimArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 40 {
			a = a[:30] + "...(" + strconv.Itoa(len(a)) + " bytes)"
		}
		out[i] = a
	}
	return out
}

// trimReply shortens a long reply for a message.
func trimReply(b []byte) string {
	if len(b) > 200 {
		return string(b[:100]) + "..." + string(b[len(b)-60:])
	}
	return string(b)
}

// tierOfTest is the tier a runTiers subtest runs for: its name's last
// element.
func tierOfTest(t *testing.T) string {
	name := t.Name()
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}
