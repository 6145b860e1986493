package cache

import "testing"

// TestAnalyzerLoop checks the estimated LRU curve of a loop over 3,000 keys,
// repeated 5 times: an LRU cache smaller than the loop never hits; one that
// holds it hits on every request after the first pass.
func TestAnalyzerLoop(t *testing.T) {
	var a analyzer
	a.init()
	for range 5 {
		for k := range uint64(3000) {
			a.record(rehash(k))
		}
	}
	tests := []struct {
		entries float64
		want    float64
	}{{1000, 0}, {2900, 0}, {3100, 0.8}, {10000, 0.8}}
	for _, tt := range tests {
		got, ok := a.hitRatio(tt.entries)
		if !ok || got < tt.want-0.05 || got > tt.want+0.05 {
			t.Errorf("hitRatio(%v) = %.3f, %v; want %.2f", tt.entries, got, ok, tt.want)
		}
	}
	if c := a.ceiling(); c < 0.75 || c > 0.85 {
		t.Errorf("ceiling %.3f, want 0.8", c)
	}
}

// TestAnalyzerSampling checks that the analyzer stays bounded on a stream of
// ever new keys, by sampling fewer of them.
func TestAnalyzerSampling(t *testing.T) {
	var a analyzer
	a.init()
	for k := range uint64(200_000) {
		a.record(rehash(k))
	}
	if a.rate < 16 || len(a.last) > maxTracked {
		t.Fatalf("rate %d, tracking %d keys", a.rate, len(a.last))
	}
}
