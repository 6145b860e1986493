package observe

import "math"

// Trend is a least-squares line through a series of (seconds, value) points.
type Trend struct {
	// Slope is the growth in units per second (bytes/s, goroutines/s).
	Slope float64 `json:"slope"`
	// R2 is the coefficient of determination, 0 to 1: how well a straight
	// line explains the points (1 for a perfectly steady growth). It is 0
	// when the values do not vary.
	R2 float64 `json:"r2"`
}

// fit returns the least-squares line through the points; fewer than two
// points, or points all at one time, give the zero Trend.
func fit(xs, ys []float64) Trend {
	n := float64(len(xs))
	if len(xs) < 2 || len(xs) != len(ys) {
		return Trend{}
	}
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/n, sy/n
	var sxx, sxy, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return Trend{}
	}
	t := Trend{Slope: sxy / sxx}
	if syy > 0 {
		t.R2 = math.Min(sxy*sxy/(sxx*syy), 1)
	}
	return t
}

// linearGrowth reports whether ys, measured at times xs (seconds), grow
// steadily: a line explains them (R² ≥ 0.8), they grow by at least
// minGrowth from first to last, and the later half still grows at least
// half as fast as the whole (a cache that fills and then plateaus does
// not). The shape is judged on the order of the points, not their times,
// so that a late or delayed profile does not bend a steady growth; the
// returned Trend's slope is per second, its R² that of the shape.
func linearGrowth(xs, ys []float64, minGrowth float64) (Trend, bool) {
	if len(ys) < minProfiles || ys[len(ys)-1]-ys[0] < minGrowth {
		return Trend{}, false
	}
	shape := fitOrder(ys)
	t := Trend{Slope: fit(xs, ys).Slope, R2: shape.R2}
	if shape.Slope <= 0 || shape.R2 < minR2 {
		return t, false
	}
	late := fitOrder(ys[len(ys)/2:])
	return t, late.Slope >= shape.Slope*minLateShare
}

// fitOrder is fit with the points at x = 0, 1, 2, ...: no slice of x.
func fitOrder(ys []float64) Trend {
	n := float64(len(ys))
	if len(ys) < 2 {
		return Trend{}
	}
	mx := (n - 1) / 2
	var my float64
	for _, y := range ys {
		my += y
	}
	my /= n
	var sxx, sxy, syy float64
	for i, y := range ys {
		dx, dy := float64(i)-mx, y-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	t := Trend{Slope: sxy / sxx}
	if syy > 0 {
		t.R2 = math.Min(sxy*sxy/(sxx*syy), 1)
	}
	return t
}

const (
	minR2        = 0.8 // a line must explain 80% of the variance
	minLateShare = 0.5 // the later half grows at least half as fast
)
