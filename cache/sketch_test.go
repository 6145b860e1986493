package cache

import "testing"

func TestSketch(t *testing.T) {
	tests := []struct {
		name       string
		increments int
		halve      bool
		grow       bool
		want       int
	}{
		{"unseen", 0, false, false, 0},
		{"counts", 5, false, false, 5},
		{"saturates at 15", 40, false, false, 15},
		{"halving ages", 9, true, false, 4},
		{"growing keeps counts", 7, false, true, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sketch
			s.resize(64)
			h := hashKey(uint64(42))
			for range tt.increments {
				s.increment(h)
			}
			if tt.halve {
				s.halve()
			}
			if tt.grow {
				s.grow()
			}
			if got := s.frequency(h); got != tt.want {
				t.Fatalf("frequency %d, want %d", got, tt.want)
			}
		})
	}
}

// TestSketchAging checks that a sketch halves itself after its sample period,
// so that a key popular long ago loses its weight.
func TestSketchAging(t *testing.T) {
	var s sketch
	s.resize(16)
	old := hashKey(uint64(1))
	for range 10 {
		s.increment(old)
	}
	for i := range uint64(2 * s.period) {
		s.increment(hashKey(i + 1000))
	}
	if f := s.frequency(old); f > 3 {
		t.Fatalf("frequency of the old key %d after two periods, want at most 3", f)
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range []Kind{Adaptive, LRU, LFU, FIFO, S3FIFO} {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("arc"); err == nil {
		t.Error("ParseKind(arc) succeeded")
	}
	if _, err := NewPolicy[int](Kind(99), 10); err == nil {
		t.Error("NewPolicy(Kind(99)) succeeded")
	}
	if _, err := NewPolicy[int](LRU, 0); err == nil {
		t.Error("NewPolicy with capacity 0 succeeded")
	}
}
