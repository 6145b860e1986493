package cache

import (
	"strings"
	"testing"
)

func TestRecommend(t *testing.T) {
	curve := func(half, now, twice, four float64) []CurvePoint {
		return []CurvePoint{{0.5, half}, {1, now}, {2, twice}, {4, four}}
	}
	full := Stats{Hits: 4000, Misses: 6000, Evicted: 500, Weight: 100, MaxWeight: 100}
	tests := []struct {
		name    string
		a       Analysis
		ceiling float64
		want    string
	}{
		{"too few requests", Analysis{Stats: Stats{Hits: 10}}, 0, "Not enough requests"},
		{"grow", Analysis{Stats: full, HitRatio: 0.41, Curve: curve(0.3, 0.41, 0.55, 0.6)}, 0.7, "A 2× budget would raise the hit rate from 41% to 55%."},
		{"grow more", Analysis{Stats: full, HitRatio: 0.41, Curve: curve(0.3, 0.41, 0.43, 0.6)}, 0.7, "a 4× budget would reach 60%"},
		{"shrink", Analysis{Stats: full, HitRatio: 0.41, Curve: curve(0.405, 0.41, 0.42, 0.42)}, 0.42, "Half the budget would keep"},
		{"fits", Analysis{Stats: full, HitRatio: 0.41, Curve: curve(0.3, 0.41, 0.42, 0.43)}, 0.43, "The budget fits the workload"},
		{"not full", Analysis{Stats: Stats{Hits: 4000, Misses: 6000, Weight: 10, MaxWeight: 100}, HitRatio: 0.4, Curve: curve(0.3, 0.4, 0.4, 0.4)}, 0.4, "has evicted nothing"},
		{"expiry", Analysis{Stats: Stats{Hits: 4000, Misses: 6000, Expired: 3000, Evicted: 10, Weight: 100, MaxWeight: 100}, HitRatio: 0.4, Curve: curve(0.3, 0.4, 0.41, 0.41)}, 0.41, "longer TTL"},
		{"reuse beyond reach", Analysis{Stats: full, HitRatio: 0, Curve: curve(0, 0, 0, 0)}, 0.9, "reuses keys beyond 4× the budget"},
		{"reuse beyond reach, no shrink", Analysis{Stats: full, HitRatio: 0.3, Curve: curve(0.3, 0.3, 0.31, 0.32)}, 0.9, "reuses keys beyond 4× the budget"},
		{"no reuse", Analysis{Stats: full, HitRatio: 0.01, Curve: curve(0.01, 0.01, 0.02, 0.03)}, 0.03, "rarely asks for a key again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(recommend(tt.a, tt.ceiling), " | ")
			if !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestProject(t *testing.T) {
	tests := []struct {
		now, lruNow, lruAt, ceiling, m, want float64
	}{
		{0.44, 0, 0.9, 0.9, 2, 0.9},   // LRU reaches the ceiling: so does the policy
		{0.5, 0.4, 0.6, 0.9, 2, 0.66}, // the advantage shrinks with the room left
		{0.5, 0.4, 0.2, 0.9, 0.5, 0.2 + 0.1*0.7/0.5},
		{0.5, 0.4, 0.45, 0.9, 0.5, 0.5},            // a smaller budget never estimates higher
		{0.5, 0.6, 0.7, 0.9, 2, 0.7 - 0.1*0.2/0.3}, // behind LRU: the deficit shrinks too
	}
	for _, tt := range tests {
		if got := project(tt.now, tt.lruNow, tt.lruAt, tt.ceiling, tt.m); got < tt.want-1e-9 || got > tt.want+1e-9 {
			t.Errorf("project(%v) = %v, want %v", tt, got, tt.want)
		}
	}
}
