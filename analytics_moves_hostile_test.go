package tiermem_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileAnalyticsMovesMatchStats: the samples' moves add up to what
// Stats counted while analytics was on, including evictions from filling
// the hot tier and expirations.
func TestHostileAnalyticsMovesMatchStats(t *testing.T) {
	m, clock := openAnalytics(t)
	before := m.Stats()
	must(t, m.EnableAnalytics(time.Hour, tiermem.AnalyticsCapacity(2)))
	val := bytes.Repeat([]byte("y"), 64<<10)
	for i := range 40 { // 2.5 MiB into a 1 MiB hot tier: evictions
		must(t, m.Store(fmt.Sprint("k", i), val, tiermem.WithTTL(time.Minute)))
	}
	m.DisableAnalytics()
	must(t, m.EnableAnalytics(time.Hour, tiermem.AnalyticsCapacity(2)))
	before = m.Stats()
	for i := range 40 {
		m.Retrieve(fmt.Sprint("k", i))
	}
	must(t, m.Migrate())
	clock.Advance(2 * time.Minute)
	for i := range 40 {
		m.Retrieve(fmt.Sprint("k", i))
	}
	must(t, m.Migrate())
	m.DisableAnalytics()
	after := m.Stats()
	var got [4]tiermem.TierStats
	s := m.Analytics()
	for _, x := range s {
		for t, ts := range x.Tiers {
			got[t].Promotions += ts.Promotions
			got[t].Demotions += ts.Demotions
			got[t].Evictions += ts.Evictions
			got[t].Expirations += ts.Expirations
		}
	}
	for tier := range 3 {
		want := tiermem.TierStats{
			Promotions:  after.Tiers[tier].Promotions - before.Tiers[tier].Promotions,
			Demotions:   after.Tiers[tier].Demotions - before.Tiers[tier].Demotions,
			Evictions:   after.Tiers[tier].Evictions - before.Tiers[tier].Evictions,
			Expirations: after.Tiers[tier].Expirations - before.Tiers[tier].Expirations,
		}
		if got[tier] != want {
			t.Errorf("%v: samples' moves %+v, Stats' %+v", tiermem.Tier(tier), got[tier], want)
		}
	}
	t.Logf("%d samples, moves %+v", len(s), got)
}

// TestHostileAnalyticsCSVShape: every CSV row has the header's columns, and
// a rate without reads is an empty cell.
func TestHostileAnalyticsCSVShape(t *testing.T) {
	m, _ := openAnalytics(t)
	var b bytes.Buffer
	must(t, m.WriteAnalyticsCSV(&b))
	rows, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil || len(rows) != 1 {
		t.Fatalf("before Enable: %d rows, %v", len(rows), err)
	}
	must(t, m.EnableAnalytics(time.Hour))
	m.DisableAnalytics()
	b.Reset()
	must(t, m.WriteAnalyticsCSV(&b))
	rows, err = csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	if len(rows[0]) != 5+3*19 || rows[1][4] != "" {
		t.Errorf("%d columns, hit_rate %q", len(rows[0]), rows[1][4])
	}
}
