package tiermem

import "io"

// WriteAnalyticsSamples is WriteAnalytics for the given samples, of a
// Manager with the given number of tiers.
func WriteAnalyticsSamples(w io.Writer, samples []AnalyticsSample, tiers int) error {
	return writeAnalyticsJSON(w, samples, tiers)
}

// CountAnalytics turns the counting of reads and Stores off and back on
// while the sampler goes on: the one pointer the hot path loads, flipped,
// for benchmarks that interleave the two paths in one run.
func CountAnalytics(m *Manager, on bool) {
	if on {
		m.analytics.Store(m.sampler.Load().c)
	} else {
		m.analytics.Store(nil)
	}
}
