package web

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tiermem/tiermem"
)

// tierCollector exports the Manager's Usage and Stats at scrape time, and
// the reads its analytics counted: nothing is counted twice.
type tierCollector struct {
	h *Handler

	used, capacity, items, held, streaming       *prometheus.Desc
	promotions, demotions, evictions, expiration *prometheus.Desc
	hits, misses, passes, failedPasses           *prometheus.Desc

	mu    sync.Mutex // protects reads
	reads readTotals
}

// readTotals keeps the hit and miss counters monotonic across analytics'
// restarts: Manager.Counts counts from the last EnableAnalytics, so the
// totals of the runs before it are kept in base.
type readTotals struct {
	any       bool           // analytics is or was on
	since     time.Time      // the run last seen
	base, now tiermem.Counts // the earlier runs' totals; the last run's counts as last seen
}

func newTierCollector(h *Handler) *tierCollector {
	tier := []string{"tier"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("tiermem_"+name, help, labels, nil)
	}
	return &tierCollector{
		h:            h,
		used:         d("tier_used_bytes", "Bytes the tier's entries occupy (compressed, with per-entry overhead).", tier),
		capacity:     d("tier_capacity_bytes", "The tier's byte budget (absent for a tier without one).", tier),
		items:        d("tier_items", "Keys the tier holds.", tier),
		streaming:    d("tier_streaming_bytes", "Bytes the tier's budget holds for values being streamed in (a large SET, an HTTP PUT) and not yet stored: counted beside the used bytes.", tier),
		held:         d("tier_held_bytes", "Bytes of values that left the tier (replaced, deleted, moved) that readers still hold: memory beside the used bytes that no budget counts.", tier),
		promotions:   d("tier_promotions_total", "Entries moved up into the tier.", tier),
		demotions:    d("tier_demotions_total", "Entries moved down out of the tier.", tier),
		evictions:    d("tier_evictions_total", "Demotions made because the tier needed room.", tier),
		expiration:   d("tier_expirations_total", "Entries of the tier deleted because their TTL ran out.", tier),
		hits:         d("tier_hits_total", "Reads the tier served, counted by the Manager's analytics while it is on.", tier),
		misses:       d("misses_total", "Reads that found no value, counted by the Manager's analytics while it is on.", nil),
		passes:       d("migration_passes_total", "Migration passes run.", nil),
		failedPasses: d("migration_failed_passes_total", "Migration passes that returned an error.", nil),
	}
}

// Describe sends the descriptors of every metric Collect may send.
func (c *tierCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.used, c.capacity, c.items, c.held, c.streaming, c.promotions, c.demotions,
		c.evictions, c.expiration, c.hits, c.misses, c.passes, c.failedPasses} {
		ch <- d
	}
}

// Collect reads the Manager's Usage, Stats and analytics and sends them.
func (c *tierCollector) Collect(ch chan<- prometheus.Metric) {
	u, s := c.h.m.Usage(), c.h.m.Stats()
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	for _, t := range c.h.tiers {
		name := t.String()
		ch <- prometheus.MustNewConstMetric(c.used, gauge, float64(u[t].Used), name)
		if u[t].Capacity > 0 {
			ch <- prometheus.MustNewConstMetric(c.capacity, gauge, float64(u[t].Capacity), name)
		}
		ch <- prometheus.MustNewConstMetric(c.items, gauge, float64(u[t].Items), name)
		ch <- prometheus.MustNewConstMetric(c.held, gauge, float64(u[t].Held), name)
		ch <- prometheus.MustNewConstMetric(c.streaming, gauge, float64(u[t].Streaming), name)
		ts := s.Tiers[t]
		ch <- prometheus.MustNewConstMetric(c.promotions, counter, float64(ts.Promotions), name)
		ch <- prometheus.MustNewConstMetric(c.demotions, counter, float64(ts.Demotions), name)
		ch <- prometheus.MustNewConstMetric(c.evictions, counter, float64(ts.Evictions), name)
		ch <- prometheus.MustNewConstMetric(c.expiration, counter, float64(ts.Expirations), name)
	}
	ch <- prometheus.MustNewConstMetric(c.passes, counter, float64(s.Passes))
	ch <- prometheus.MustNewConstMetric(c.failedPasses, counter, float64(s.FailedPasses))

	c.mu.Lock()
	defer c.mu.Unlock()
	counts, ok := c.h.m.Counts()
	if !ok {
		return // analytics never ran: no counts to report, rather than zeros
	}
	c.reads.add(counts)
	for _, t := range c.h.tiers {
		ch <- prometheus.MustNewConstMetric(c.hits, counter, float64(c.reads.base.Hits[t]+c.reads.now.Hits[t]), t.String())
	}
	ch <- prometheus.MustNewConstMetric(c.misses, counter, float64(c.reads.base.Misses+c.reads.now.Misses))
}

// add takes the counts of the analytics run now: when a new run began
// since the last look, the last one's counts join base.
func (r *readTotals) add(counts tiermem.Counts) {
	if r.any && !counts.Since.Equal(r.since) {
		for t := range r.base.Hits {
			r.base.Hits[t] += r.now.Hits[t]
		}
		r.base.Misses += r.now.Misses
	}
	r.any, r.since, r.now = true, counts.Since, counts
}
