package observe

import (
	"testing"

	"github.com/tiermem/tiermem/cache"
)

// CacheSource's Hits and Misses are optional ("when set"), and TimedGet is
// how they are filled. A program that keeps only the hit latency passes
// its nil Misses: the first miss must not panic on the nil *Latency.
func TestHostileTimedGetWithOnlyHitLatency(t *testing.T) {
	c, err := cache.New(&cache.Options[string, int]{MaxWeight: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var hits Latency
	src := CacheSource{Name: "names", Stats: c.Stats, Hits: &hits}
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("TimedGet of a missing key with Misses unset panicked: %v", p)
		}
	}()
	if _, ok := TimedGet(c, "absent", src.Hits, src.Misses); ok {
		t.Error("found a key never set")
	}
}

// A pool nobody has used has served no Get from a reused value: its hit
// rate is 0, as cache.Stats.HitRatio's before the first Get, not the
// "pool x: 0 gets, hit rate 100.0%" a report would show.
func TestHostileUnusedPoolHitRate(t *testing.T) {
	if r := (PoolStats{}).HitRate(); r != 0 {
		t.Errorf("HitRate of a pool with no Gets = %v, want 0", r)
	}
}
