package observe

import (
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/cache"
)

// AllocatorSource names an allocator of package alloc for the report. Stats
// is called while reports are made (see Options), so it must be safe to
// call while the allocator is in use (alloc.Synchronized's Stats is; a bare
// Slab's is not). AllocTime, when set, is where a TimedAllocator records.
type AllocatorSource struct {
	Name      string
	Stats     func() alloc.Stats
	AllocTime *Latency
}

// PoolSource names a pool for the report; Stats is called while reports
// are made (CountedPool.Stats is safe for that).
type PoolSource struct {
	Name  string
	Stats func() PoolStats
}

// CacheSource names a cache of package cache for the report (Stats is
// cache.Cache.Stats, safe for concurrent use). Hits and Misses, when set,
// hold the latency of hits and of misses (the time to fetch what was not
// cached); TimedGet records them.
type CacheSource struct {
	Name         string
	Stats        func() cache.Stats
	Hits, Misses *Latency
}

// TimedGet is c.Get(key), recording its latency in hits or misses (either
// may be nil: nothing is recorded there).
func TimedGet[K comparable, V any](c *cache.Cache[K, V], key K, hits, misses *Latency) (V, bool) {
	start := time.Now()
	v, ok := c.Get(key)
	if ok {
		hits.Since(start)
	} else {
		misses.Since(start)
	}
	return v, ok
}

// TimedAllocator is an alloc.Allocator that records how long Alloc and
// AllocAligned take. It is as safe for concurrent use as the allocator it
// wraps.
type TimedAllocator struct {
	alloc.Allocator
	latency *Latency
}

// TimeAllocator wraps a, recording allocation times in latency.
func TimeAllocator(a alloc.Allocator, latency *Latency) *TimedAllocator {
	return &TimedAllocator{Allocator: a, latency: latency}
}

// Alloc is the wrapped Alloc, timed.
func (t *TimedAllocator) Alloc(size int64) (int64, error) {
	defer t.latency.Since(time.Now())
	return t.Allocator.Alloc(size)
}

// AllocAligned is the wrapped AllocAligned, timed.
func (t *TimedAllocator) AllocAligned(size, align int64) (int64, error) {
	defer t.latency.Since(time.Now())
	return t.Allocator.AllocAligned(size, align)
}

var _ alloc.Allocator = (*TimedAllocator)(nil)

// CountedPool is an alloc.Pool that counts its Gets and the new values it
// had to make, for the pool's hit rate. Safe for concurrent use.
type CountedPool[T any] struct {
	p          *alloc.Pool[T]
	gets, news atomic.Int64
}

// NewCountedPool is alloc.NewPool, counted.
func NewCountedPool[T any](newValue func() *T, reset func(*T)) *CountedPool[T] {
	c := &CountedPool[T]{}
	c.p = alloc.NewPool(func() *T { c.news.Add(1); return newValue() }, reset)
	return c
}

// Get returns a pooled value or a new one.
func (c *CountedPool[T]) Get() *T { c.gets.Add(1); return c.p.Get() }

// Put resets x and keeps it for a later Get; x must not be used after.
func (c *CountedPool[T]) Put(x *T) { c.p.Put(x) }

// Stats returns the counts so far.
func (c *CountedPool[T]) Stats() PoolStats {
	gets := c.gets.Load()
	return PoolStats{Gets: gets, News: min(c.news.Load(), gets)}
}

// PoolStats counts a pool's Gets and the new values they needed.
type PoolStats struct {
	Gets int64 `json:"gets"`
	News int64 `json:"news"`
}

// HitRate returns the share of Gets served by a reused value, 0 to 1 (0
// before the first Get, as cache.Stats.HitRatio).
func (s PoolStats) HitRate() float64 {
	if s.Gets <= 0 {
		return 0
	}
	return 1 - share(s.News, s.Gets)
}
