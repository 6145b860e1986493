package probe

import (
	"slices"
	"testing"
)

// TestDeterministic checks that a probe gives the same keys on every call.
func TestDeterministic(t *testing.T) {
	for _, p := range Probes() {
		if a, b := p.Keys(), p.Keys(); !slices.Equal(a, b) {
			t.Errorf("%s: two calls gave different traces", p.Name)
		}
	}
}

// TestPhases checks that phases share no key and that each uses its whole set.
func TestPhases(t *testing.T) {
	keys := Phases(1, 3, 100, 5000, 0)
	for ph := range 3 {
		seen := map[uint64]bool{}
		for _, k := range keys[ph*5000 : (ph+1)*5000] {
			if k < uint64(ph*100) || k >= uint64((ph+1)*100) {
				t.Fatalf("phase %d requests key %d", ph, k)
			}
			seen[k] = true
		}
		if len(seen) != 100 {
			t.Errorf("phase %d requests %d of its 100 keys", ph, len(seen))
		}
	}
}

// TestScans checks the scans' length, place and freshness.
func TestScans(t *testing.T) {
	keys := Scans(1, 50, 1000, 100, 30, 0.9)
	if len(keys) != 1000+10*30 {
		t.Fatalf("%d keys, want %d", len(keys), 1300)
	}
	seen := map[uint64]int{}
	for _, k := range keys {
		seen[k]++
	}
	for k, n := range seen {
		if k >= 50 && n != 1 {
			t.Errorf("scan key %d requested %d times", k, n)
		}
	}
	if keys[100] != 50 || keys[129] != 79 || keys[130] >= 50 {
		t.Errorf("the first scan is not at 100..129: %v", keys[99:131])
	}
}

// TestOneHit checks the share of keys requested once.
func TestOneHit(t *testing.T) {
	keys := OneHit(1, 100, 100000, 0.3, 0.9)
	once := 0
	for _, k := range keys {
		if k >= 100 {
			once++
		}
	}
	if once < 29000 || once > 31000 {
		t.Errorf("%d one-hit keys in 100000, want about 30000", once)
	}
}

// TestZipfSkew checks that rank 0 is the most requested, as often as s says.
func TestZipfSkew(t *testing.T) {
	keys := OneHit(2, 1000, 200000, 0, 1)
	counts := make([]int, 1000)
	for _, k := range keys {
		counts[k]++
	}
	if ratio := float64(counts[0]) / float64(counts[9]); ratio < 8 || ratio > 12 {
		t.Errorf("rank 1 over rank 10: %.2f, want about 10", ratio)
	}
}
