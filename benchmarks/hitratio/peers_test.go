package hitratio

import (
	"testing"

	"github.com/Yiling-J/theine-go"
	"github.com/maypok86/otter/v2"

	"github.com/tiermem/tiermem/internal/sim"
)

// replayer counts the hits of one cache over a trace: each request a Get, and
// a Set on a miss. A random replayer differs from run to run (otter and
// theine seed their hashes, so their sketches collide differently each time)
// and is run -runs times.
type replayer struct {
	name   string
	random bool
	replay func(tb testing.TB, keys []uint64, size int) int
}

// replayers are the columns of the table, in order.
var replayers = []replayer{
	{"lru", false, tiermemPolicy("lru")},
	{"otter", true, replayOtter},
	{"theine", true, replayTheine},
	{"adaptive", false, tiermemPolicy("adaptive")},
}

// tiermemPolicy replays a tiermem policy as tiermem sim does.
func tiermemPolicy(name string) func(testing.TB, []uint64, int) int {
	return func(tb testing.TB, keys []uint64, size int) int {
		res, err := sim.Run(keys, []int{size}, []string{name}, nil)
		if err != nil {
			tb.Fatal(err)
		}
		return res[0].Hits
	}
}

// replayOtter replays an otter v2 cache whose maintenance runs on the calling
// goroutine (an inline executor) and is completed after every request
// (CleanUp), so that no read is dropped from its lossy read buffer and the
// figures are the same on every run.
func replayOtter(_ testing.TB, keys []uint64, size int) int {
	c := otter.Must(&otter.Options[uint64, uint64]{
		MaximumSize: size,
		Executor:    func(fn func()) { fn() },
	})
	hits := 0
	for _, k := range keys {
		if _, ok := c.GetIfPresent(k); ok {
			hits++
		} else {
			c.Set(k, k)
		}
		c.CleanUp()
	}
	return hits
}

// replayTheine replays a theine cache, waiting after every Set until its
// write buffer has reached the policy.
func replayTheine(tb testing.TB, keys []uint64, size int) int {
	c, err := theine.NewBuilder[uint64, uint64](int64(size)).Build()
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	hits := 0
	for _, k := range keys {
		if _, ok := c.Get(k); ok {
			hits++
			continue
		}
		c.Set(k, k, 1)
		c.Wait()
	}
	return hits
}
