package tiermem

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// ErrAnalyticsFormat is returned by ReadAnalytics for input that is not an
// analytics file WriteAnalytics could have written.
var ErrAnalyticsFormat = errors.New("tiermem: not a tiermem analytics file")

// analyticsVersion is the version of the JSON schema WriteAnalytics writes.
const analyticsVersion = 1

// The JSON schema (docs/analytics.md shows an example). Durations are
// integer nanoseconds, sizes integer bytes, rates fractions from 0 to 1 or
// null for an interval without reads.
type (
	analyticsFile struct {
		Format  string          `json:"format"`  // "tiermem-analytics"
		Version int             `json:"version"` // 1
		Tiers   []string        `json:"tiers"`   // the tiers of every sample, in order: "hot", "warm", "cold"[, "glacier"]
		Samples []analyticsJSON `json:"samples"` // oldest first
	}
	analyticsJSON struct {
		Time       time.Time  `json:"time"`        // RFC 3339 with nanoseconds
		IntervalNS int64      `json:"interval_ns"` // since the previous sample
		Hits       int64      `json:"hits"`
		Misses     int64      `json:"misses"`
		HitRate    *float64   `json:"hit_rate"`
		Tiers      []tierJSON `json:"tiers"` // one per name in the file's tiers, in that order
	}
	tierJSON struct {
		Tier          string      `json:"tier"`
		UsedBytes     int64       `json:"used_bytes"`
		CapacityBytes int64       `json:"capacity_bytes"` // 0: no budget
		Percent       float64     `json:"percent"`        // 0 to 100 (above while a Close writes memory tiers to cold)
		Items         int64       `json:"items"`
		Hits          int64       `json:"hits"`
		HitRate       *float64    `json:"hit_rate"`
		Stores        int64       `json:"stores"`
		Promotions    int64       `json:"promotions"`
		Demotions     int64       `json:"demotions"`
		Evictions     int64       `json:"evictions"`
		Expirations   int64       `json:"expirations"`
		RetrieveNS    latencyJSON `json:"retrieve_ns"`
		StoreNS       latencyJSON `json:"store_ns"`
	}
	latencyJSON struct {
		Samples int64 `json:"samples"`
		P50     int64 `json:"p50"`
		P99     int64 `json:"p99"`
		P999    int64 `json:"p999"`
	}
)

const analyticsFormat = "tiermem-analytics"

// WriteAnalytics writes the samples Analytics returns to w as one JSON
// document, indented; docs/analytics.md gives the schema, and ReadAnalytics
// reads it back. It is safe to call concurrently with any method.
func (m *Manager) WriteAnalytics(w io.Writer) error {
	return writeAnalyticsJSON(w, m.Analytics(), len(m.tiers))
}

// WriteAnalyticsCSV writes the samples Analytics returns to w as CSV for a
// spreadsheet: a header row, then a row per sample, oldest first, with the
// JSON document's fields flattened (hot_used_bytes, warm_hit_rate,
// cold_retrieve_p99_ns, ...) and an empty cell for a rate without reads. It
// is safe to call concurrently with any method.
func (m *Manager) WriteAnalyticsCSV(w io.Writer) error {
	return writeAnalyticsCSV(w, m.Analytics(), len(m.tiers))
}

func writeAnalyticsJSON(w io.Writer, samples []AnalyticsSample, tiers int) error {
	f := analyticsFile{Format: analyticsFormat, Version: analyticsVersion, Samples: make([]analyticsJSON, len(samples))}
	for t := range tiers {
		f.Tiers = append(f.Tiers, Tier(t).String())
	}
	for i, s := range samples {
		j := &f.Samples[i]
		*j = analyticsJSON{Time: s.Time, IntervalNS: int64(s.Interval), Hits: s.Hits, Misses: s.Misses,
			HitRate: rateJSON(s.HitRate), Tiers: make([]tierJSON, len(s.Tiers))}
		for t, ts := range s.Tiers {
			j.Tiers[t] = tierJSON{
				Tier: Tier(t).String(), UsedBytes: ts.Used, CapacityBytes: ts.Capacity, Percent: ts.Percent, Items: ts.Items,
				Hits: ts.Hits, HitRate: rateJSON(ts.HitRate), Stores: ts.Stores,
				Promotions: ts.Promotions, Demotions: ts.Demotions, Evictions: ts.Evictions, Expirations: ts.Expirations,
				RetrieveNS: latencyOf(ts.Retrieve), StoreNS: latencyOf(ts.Store),
			}
		}
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", " ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("tiermem: writing analytics: %w", err)
	}
	return bw.Flush()
}

func rateJSON(r float64) *float64 {
	if math.IsNaN(r) {
		return nil
	}
	return &r
}

func latencyOf(l Latency) latencyJSON {
	return latencyJSON{Samples: l.Samples, P50: int64(l.P50), P99: int64(l.P99), P999: int64(l.P999)}
}

// ReadAnalytics reads a JSON document WriteAnalytics wrote and returns its
// samples. It returns an error wrapping ErrAnalyticsFormat for anything
// else: another format or version, tiers out of order, a count below zero,
// counts whose sum overflows an int64, the tiers' hits adding up to more
// than the sample's, or a rate (the sample's, or a tier's) that is not its
// hits divided by the sample's reads, null exactly when there were none.
func ReadAnalytics(r io.Reader) ([]AnalyticsSample, error) {
	var f analyticsFile
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAnalyticsFormat, err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more after the document (%v)", ErrAnalyticsFormat, err)
	}
	if f.Format != analyticsFormat || f.Version != analyticsVersion {
		return nil, fmt.Errorf("%w: format %q version %d (want %q version %d)", ErrAnalyticsFormat, f.Format, f.Version, analyticsFormat, analyticsVersion)
	}
	if len(f.Tiers) < 1 || len(f.Tiers) > int(Glacier)+1 {
		return nil, fmt.Errorf("%w: %d tiers (want 1 to 4)", ErrAnalyticsFormat, len(f.Tiers))
	}
	for t, name := range f.Tiers {
		if name != Tier(t).String() {
			return nil, fmt.Errorf("%w: tier %d is %q (want %q)", ErrAnalyticsFormat, t, name, Tier(t))
		}
	}
	out := make([]AnalyticsSample, len(f.Samples))
	backing := make([]TierSample, len(f.Samples)*len(f.Tiers))
	for i, j := range f.Samples {
		s, err := sampleOf(j, backing[i*len(f.Tiers):(i+1)*len(f.Tiers):(i+1)*len(f.Tiers)])
		if err != nil {
			return nil, fmt.Errorf("%w: sample %d: %w", ErrAnalyticsFormat, i, err)
		}
		out[i] = s
	}
	return out, nil
}

// sampleOf checks j and converts it into a sample whose Tiers are tiers.
func sampleOf(j analyticsJSON, tiers []TierSample) (AnalyticsSample, error) {
	s := AnalyticsSample{Time: j.Time, Interval: time.Duration(j.IntervalNS), Hits: j.Hits, Misses: j.Misses, Tiers: tiers}
	var err error
	if s.HitRate, err = rateOf(j.HitRate); err != nil {
		return s, err
	}
	if len(j.Tiers) != len(tiers) {
		return s, fmt.Errorf("%d tiers (want %d)", len(j.Tiers), len(tiers))
	}
	if err := nonNegative(j.IntervalNS, j.Hits, j.Misses); err != nil {
		return s, err
	}
	if j.Hits > math.MaxInt64-j.Misses {
		return s, fmt.Errorf("%d hits and %d misses: more reads than an int64 holds", j.Hits, j.Misses)
	}
	reads := j.Hits + j.Misses
	if err := checkRate(s.HitRate, j.Hits, reads); err != nil {
		return s, err
	}
	tierHits := int64(0) // at most j.Hits
	for t, tj := range j.Tiers {
		if tj.Tier != Tier(t).String() {
			return s, fmt.Errorf("tier %d is %q (want %q)", t, tj.Tier, Tier(t))
		}
		if err := nonNegative(tj.UsedBytes, tj.CapacityBytes, tj.Items, tj.Hits, tj.Stores, tj.Promotions, tj.Demotions,
			tj.Evictions, tj.Expirations, tj.RetrieveNS.Samples, tj.RetrieveNS.P50, tj.RetrieveNS.P99, tj.RetrieveNS.P999,
			tj.StoreNS.Samples, tj.StoreNS.P50, tj.StoreNS.P99, tj.StoreNS.P999); err != nil {
			return s, fmt.Errorf("the %s tier: %w", tj.Tier, err)
		}
		if top := max(maxPercent, percentOf(tj.UsedBytes, tj.CapacityBytes)*(1+1e-9)); tj.Percent < 0 || tj.Percent > top {
			return s, fmt.Errorf("the %s tier: percent %v for %d of %d bytes (want 0 to %v)", tj.Tier, tj.Percent, tj.UsedBytes, tj.CapacityBytes, top)
		}
		for _, l := range []latencyJSON{tj.RetrieveNS, tj.StoreNS} {
			if l.Samples == 0 && (l.P50 != 0 || l.P99 != 0 || l.P999 != 0) {
				return s, fmt.Errorf("the %s tier: latency percentiles of no sample", tj.Tier)
			}
		}
		if tj.Hits > j.Hits-tierHits {
			return s, fmt.Errorf("the tiers' hits add up to more than the sample's %d", j.Hits)
		}
		tierHits += tj.Hits
		ts := &tiers[t]
		*ts = TierSample{
			TierUsage: TierUsage{Used: tj.UsedBytes, Capacity: tj.CapacityBytes, Percent: tj.Percent, Items: tj.Items},
			Hits:      tj.Hits, Stores: tj.Stores,
			TierStats: TierStats{Promotions: tj.Promotions, Demotions: tj.Demotions, Evictions: tj.Evictions, Expirations: tj.Expirations},
			Retrieve:  latencyFrom(tj.RetrieveNS), Store: latencyFrom(tj.StoreNS),
		}
		if ts.HitRate, err = rateOf(tj.HitRate); err != nil {
			return s, fmt.Errorf("the %s tier: %w", tj.Tier, err)
		}
		if err := checkRate(ts.HitRate, tj.Hits, reads); err != nil {
			return s, fmt.Errorf("the %s tier: %w", tj.Tier, err)
		}
	}
	return s, nil
}

// maxPercent bounds a tier's usage percent beyond what its used bytes and
// budget give: above 100 while a budget cut demotes, never ten thousand
// times it.
const maxPercent = 1e6

// percentOf is Usage's percent of used bytes in a budget of capacity:
// above 100 while a budget cut demotes, or when pinned values hold more
// than a budget cut to less.
func percentOf(used, capacity int64) float64 {
	if capacity <= 0 {
		return 0
	}
	return 100 * float64(used) / float64(capacity)
}

// checkRate checks a hit rate (the sample's, or a tier's share) against
// the hits it counts and the sample's reads (its hits and misses): NaN
// (null) exactly when there was no read, their ratio otherwise.
func checkRate(rate float64, hits, reads int64) error {
	switch {
	case reads == 0 && !math.IsNaN(rate):
		return fmt.Errorf("hit rate %v without a read", rate)
	case reads > 0 && (math.IsNaN(rate) || math.Abs(rate-float64(hits)/float64(reads)) > 1e-9):
		return fmt.Errorf("hit rate %v for %d hits of %d reads", rate, hits, reads)
	}
	return nil
}

func rateOf(r *float64) (float64, error) {
	if r == nil {
		return math.NaN(), nil
	}
	if !(*r >= 0 && *r <= 1) {
		return 0, fmt.Errorf("hit rate %v (want 0 to 1, or null)", *r)
	}
	return *r, nil
}

func nonNegative(v ...int64) error {
	for _, n := range v {
		if n < 0 {
			return fmt.Errorf("a count or duration of %d", n)
		}
	}
	return nil
}

func latencyFrom(l latencyJSON) Latency {
	return Latency{Samples: l.Samples, P50: time.Duration(l.P50), P99: time.Duration(l.P99), P999: time.Duration(l.P999)}
}

// csvTierColumns are the columns of each tier in WriteAnalyticsCSV's
// header, after the tier's name and an underscore.
var csvTierColumns = []string{
	"used_bytes", "capacity_bytes", "percent", "items", "hits", "hit_rate", "stores",
	"promotions", "demotions", "evictions", "expirations",
	"retrieve_samples", "retrieve_p50_ns", "retrieve_p99_ns", "retrieve_p999_ns",
	"store_samples", "store_p50_ns", "store_p99_ns", "store_p999_ns",
}

func writeAnalyticsCSV(w io.Writer, samples []AnalyticsSample, tiers int) error {
	cw := csv.NewWriter(w)
	header := []string{"time", "interval_ns", "hits", "misses", "hit_rate"}
	for t := range tiers {
		for _, c := range csvTierColumns {
			header = append(header, Tier(t).String()+"_"+c)
		}
	}
	cw.Write(header)
	row := make([]string, 0, len(header))
	for _, s := range samples {
		row = append(row[:0], s.Time.Format(time.RFC3339Nano), itoa(int64(s.Interval)), itoa(s.Hits), itoa(s.Misses), ftoa(s.HitRate))
		for _, ts := range s.Tiers {
			row = append(row, itoa(ts.Used), itoa(ts.Capacity), ftoa(ts.Percent), itoa(ts.Items), itoa(ts.Hits), ftoa(ts.HitRate), itoa(ts.Stores),
				itoa(ts.Promotions), itoa(ts.Demotions), itoa(ts.Evictions), itoa(ts.Expirations))
			for _, l := range [...]Latency{ts.Retrieve, ts.Store} {
				row = append(row, itoa(l.Samples), itoa(int64(l.P50)), itoa(int64(l.P99)), itoa(int64(l.P999)))
			}
		}
		cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("tiermem: writing analytics: %w", err)
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ftoa formats a float, NaN as the empty string.
func ftoa(f float64) string {
	if math.IsNaN(f) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
