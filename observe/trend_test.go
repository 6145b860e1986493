package observe

import (
	"math"
	"testing"
)

func seq(n int, f func(i int) float64) ([]float64, []float64) {
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range n {
		xs[i], ys[i] = float64(i), f(i)
	}
	return xs, ys
}

func TestFitExactLine(t *testing.T) {
	xs, ys := seq(10, func(i int) float64 { return 3*float64(i) + 7 })
	tr := fit(xs, ys)
	if math.Abs(tr.Slope-3) > 1e-9 || math.Abs(tr.R2-1) > 1e-9 {
		t.Fatalf("fit = %+v, want slope 3, r² 1", tr)
	}
}

func TestFitDegenerate(t *testing.T) {
	for name, c := range map[string][2][]float64{
		"empty":      {nil, nil},
		"one point":  {{1}, {1}},
		"same time":  {{2, 2, 2}, {1, 2, 3}},
		"mismatched": {{1, 2}, {1}},
	} {
		if tr := fit(c[0], c[1]); tr != (Trend{}) {
			t.Errorf("%s: fit = %+v, want zero", name, tr)
		}
	}
	xs, ys := seq(5, func(int) float64 { return 4 })
	if tr := fit(xs, ys); tr.Slope != 0 || tr.R2 != 0 {
		t.Errorf("flat: fit = %+v, want slope 0 and r² 0", tr)
	}
}

func TestLinearGrowth(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name string
		f    func(i int) float64
		want bool
	}{
		{"steady leak", func(i int) float64 { return float64(i) * mb }, true},
		{"leak with noise", func(i int) float64 { return float64(i)*mb + float64(i%3)*mb/4 }, true},
		{"fills then plateaus", func(i int) float64 { return float64(min(i, 4)) * mb }, false},
		{"burst then freed", func(i int) float64 { return float64(map[bool]int{true: 20}[i >= 3 && i < 7]) * mb }, false},
		{"flat", func(int) float64 { return 50 * mb }, false},
		{"shrinking", func(i int) float64 { return float64(12-i) * mb }, false},
		{"too small to matter", func(i int) float64 { return float64(i) * 1024 }, false},
		{"sawtooth", func(i int) float64 { return float64(i%4) * mb }, false},
	}
	for _, c := range cases {
		xs, ys := seq(12, c.f)
		if _, got := linearGrowth(xs, ys, mb); got != c.want {
			t.Errorf("%s: linearGrowth = %v, want %v", c.name, got, c.want)
		}
	}
	xs, ys := seq(minProfiles-1, func(i int) float64 { return float64(i) * mb })
	if _, got := linearGrowth(xs, ys, 1); got {
		t.Errorf("%d points: a trend from fewer than %d", minProfiles-1, minProfiles)
	}
}

func TestRing(t *testing.T) {
	r := newRing[int](3)
	if _, ok := r.last(); ok {
		t.Fatal("last of an empty ring")
	}
	for i := range 5 {
		r.push(i)
	}
	if got := r.values(); len(got) != 3 || got[0] != 2 || got[2] != 4 {
		t.Fatalf("values = %v, want [2 3 4]", got)
	}
	if v, _ := r.last(); v != 4 {
		t.Fatalf("last = %d, want 4", v)
	}
}

func TestFitOrderIsFitOverIndexes(t *testing.T) {
	ys := []float64{3, 1, 4, 1, 5, 9, 2, 6}
	xs := make([]float64, len(ys))
	for i := range xs {
		xs[i] = float64(i)
	}
	a, b := fit(xs, ys), fitOrder(ys)
	if math.Abs(a.Slope-b.Slope) > 1e-12 || math.Abs(a.R2-b.R2) > 1e-12 {
		t.Fatalf("fit %+v, fitOrder %+v", a, b)
	}
}
