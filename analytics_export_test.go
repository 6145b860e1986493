package tiermem

import "io"

// WriteAnalyticsSamples is WriteAnalytics for the given samples, of a
// Manager with the given number of tiers.
func WriteAnalyticsSamples(w io.Writer, samples []AnalyticsSample, tiers int) error {
	return writeAnalyticsJSON(w, samples, tiers)
}
